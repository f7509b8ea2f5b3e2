/**
 * What the operator CLI may print of an object: everything but secret values. App env values are
 * sealed at rest and stay out of terminals, scrollback and CI logs; their names remain visible.
 */
import type { StoredObject } from "../../store/objects.ts"

export const REDACTED_VALUE = "(redacted)"

export const redactObject = (object: StoredObject): StoredObject => {
  if (object.kind !== "App") return object
  const spec = object.spec as StoredObject<"App">["spec"]
  const env = Object.fromEntries(Object.keys(spec.env).sort().map((name) => [name, REDACTED_VALUE]))
  return { ...object, spec: { ...spec, env } } as StoredObject
}
