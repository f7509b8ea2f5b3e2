/** Arguments the resource tools share. */
import { DnsLabel } from "../../../schemas/index.ts"

export const ResourceName = DnsLabel.annotate({ description: undefined, examples: undefined })
