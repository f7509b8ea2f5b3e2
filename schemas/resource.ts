/** Resource: a managed database (DESIGN.md §2 Resource). Credentials never live in status. */
import { Schema } from "effect"
import { StatusBase } from "./meta.ts"

export const ResourceType = Schema.Literals(["sqlite"]).annotate({
  description: "Database engine. sqlite (Turso/libSQL) now; postgres and redis later"
})
export type ResourceType = typeof ResourceType.Type

export const ResourceSize = Schema.Literals(["small", "medium", "large"])

export const ResourceSpec = Schema.Struct({
  type: ResourceType,
  size: Schema.optionalKey(ResourceSize),
  region: Schema.optionalKey(Schema.String),
  rotationNonce: Schema.optionalKey(Schema.Int)
})
export type ResourceSpec = typeof ResourceSpec.Type

export const ResourceStatus = Schema.Struct({
  ...StatusBase,
  url: Schema.optionalKey(Schema.String),
  externalId: Schema.optionalKey(Schema.String),
  credentialsVersion: Schema.optionalKey(Schema.Int),
  /** The spec.rotationNonce the stored credentials were minted for; differs from spec while a rotation is pending. */
  appliedRotationNonce: Schema.optionalKey(Schema.Int)
})
export type ResourceStatus = typeof ResourceStatus.Type
