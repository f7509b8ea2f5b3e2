/** Arguments the resource tools share. */
import { DnsLabel } from "../../../schemas/index.ts"

export const ResourceName = DnsLabel.annotate({
  description: "Resource (database) name: 1-63 lowercase letters, digits or '-'",
  examples: ["db", "shop-db"]
})
