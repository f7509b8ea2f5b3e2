/**
 * The provider-side name of a Resource's database, derived from (owner, project, name) alone so a
 * reconcile that lost the provider's answer (or crashed) finds the same database again by name and
 * adopts it instead of creating a second one.
 *
 * Shape: `dm-<name, at most 20 chars>-<12 hex of sha256(owner, project, name)>`, at most 36
 * characters of [a-z0-9-]. The readable part lets an operator recognise the database in Turso's
 * console; the hash keeps tenants and projects apart. 36 leaves room for Turso's hostname label
 * `<db>-<org>` (63 characters) with organisation slugs up to 26 characters.
 */
import { createHash } from "node:crypto"
import { Annotations } from "../../schemas/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"

const PREFIX = "dm"
const READABLE_CHARS = 20
const HASH_CHARS = 12

export const MAX_EXTERNAL_NAME_LENGTH = PREFIX.length + 1 + READABLE_CHARS + 1 + HASH_CHARS

export const deriveExternalName = (owner: string, project: string, name: string): string => {
  const hash = createHash("sha256").update(`${owner}\n${project}\n${name}`).digest("hex").slice(0, HASH_CHARS)
  // Names are DNS labels already; lower-case and squeeze anything else so a bad input cannot leak through.
  const readable = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, READABLE_CHARS).replace(/^-+|-+$/g, "")
  return readable === "" ? `${PREFIX}-${hash}` : `${PREFIX}-${readable}-${hash}`
}

/** The name recorded on the object wins (it is what was created); otherwise the derived one. */
export const externalNameOf = (object: StoredObject<"Resource">): string =>
  object.metadata.annotations[Annotations.externalName] ??
  deriveExternalName(object.metadata.owner, object.metadata.project, object.metadata.name)
