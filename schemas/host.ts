/** Host: an operator-owned server reached over SSH (DESIGN.md §2 Host). */
import { Schema } from "effect"
import { StatusBase } from "./meta.ts"
import { Cpu, Memory, Port } from "./app.ts"

export const HostRole = Schema.Literals(["build", "run"])
export type HostRole = typeof HostRole.Type

export const HostSpec = Schema.Struct({
  address: Schema.String.check(Schema.isMinLength(1, { message: "address must be a host name or IP address" })),
  port: Port,
  user: Schema.String.check(Schema.isPattern(/^[a-z_][a-z0-9_-]{0,31}$/, { message: "user must be a Unix user name, e.g. \"deploy\"" })),
  role: HostRole,
  dnsSuffix: Schema.String.check(
    Schema.isPattern(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, { message: "dnsSuffix must be a domain such as \"s1.example.com\"" })
  ),
  capacity: Schema.Struct({ cpu: Cpu, memory: Memory }),
  hardening: Schema.optionalKey(Schema.Struct({
    profile: Schema.String,
    apply: Schema.optionalKey(Schema.Boolean)
  }))
})
export type HostSpec = typeof HostSpec.Type

export const HostFacts = Schema.Struct({
  dockerVersion: Schema.optionalKey(Schema.NullOr(Schema.String)),
  runscVersion: Schema.optionalKey(Schema.NullOr(Schema.String)),
  memoryFreeBytes: Schema.optionalKey(Schema.Number),
  diskFreeBytes: Schema.optionalKey(Schema.Number),
  hardeningChecks: Schema.optionalKey(Schema.Record(Schema.String, Schema.Boolean)),
  hostKeyFingerprint: Schema.optionalKey(Schema.String),
  gatheredAt: Schema.optionalKey(Schema.String)
})
export type HostFacts = typeof HostFacts.Type

export const HostStatus = Schema.Struct({
  ...StatusBase,
  facts: Schema.optionalKey(HostFacts),
  allocated: Schema.optionalKey(Schema.Struct({ cpu: Schema.Number, memoryBytes: Schema.Number })),
  coolifyServerUuid: Schema.optionalKey(Schema.String)
})
export type HostStatus = typeof HostStatus.Type
