/** Every shape the system speaks about objects, by kind. */
import { Schema } from "effect"
import { AppSpec, AppStatus } from "./app.ts"
import { HostSpec, HostStatus } from "./host.ts"
import { ResourceSpec, ResourceStatus } from "./resource.ts"
import type { Kind } from "./meta.ts"

export * from "./meta.ts"
export * from "./app.ts"
export * from "./repo-source.ts"
export * from "./resource.ts"
export * from "./host.ts"

export const SpecByKind = { App: AppSpec, Resource: ResourceSpec, Host: HostSpec } as const
export const StatusByKind = { App: AppStatus, Resource: ResourceStatus, Host: HostStatus } as const

export interface SpecOf {
  App: AppSpec
  Resource: ResourceSpec
  Host: HostSpec
}
export interface StatusOf {
  App: AppStatus
  Resource: ResourceStatus
  Host: HostStatus
}

export const decodeSpec = <K extends Kind>(kind: K) => Schema.decodeUnknownSync(SpecByKind[kind] as unknown as Schema.Codec<SpecOf[K], unknown>)
