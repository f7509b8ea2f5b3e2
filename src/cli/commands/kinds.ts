/** How operators name kinds on the command line: kubectl-style singular, plural and short forms. */
import type { Kind } from "../../../schemas/index.ts"

const KIND_NAMES: Record<string, Kind> = {
  app: "App",
  apps: "App",
  resource: "Resource",
  resources: "Resource",
  res: "Resource",
  db: "Resource",
  host: "Host",
  hosts: "Host"
}

export const KIND_CHOICES = "apps, resources, hosts"

export const parseKind = (word: string | undefined): Kind | undefined => (word === undefined ? undefined : KIND_NAMES[word.toLowerCase()])

/** "app", "resource", "host": how messages name a kind. */
export const kindWord = (kind: Kind): string => kind.toLowerCase()

export const kindPlural = (kind: Kind): string => `${kind.toLowerCase()}s`
