/**
 * The object envelope shared by every kind (DESIGN.md §2): metadata, conditions, events.
 * One source for TypeScript types, runtime decoding and the JSON Schema shown to MCP clients.
 */
import { Schema } from "effect"

export const API_VERSION = "deploy.mcp/v1" as const

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/u

/** A DNS label: what agents use to address objects, and what ends up in host names. */
export const DnsLabel = Schema.String.check(
  Schema.isPattern(DNS_LABEL, {
    message:
      "must be a DNS label: 1-63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit (for example \"my-app\")"
  })
).annotate({ description: "DNS label: 1-63 chars of [a-z0-9-], starting and ending with a letter or digit", examples: ["my-app"] })

export const ProjectName = DnsLabel.annotate({
  description: "Project that groups objects; defaults to \"default\"",
  examples: ["default"]
})

export const DEFAULT_PROJECT = "default"

export const Kind = Schema.Literals(["App", "Resource", "Host"])
export type Kind = typeof Kind.Type

export const ConditionStatus = Schema.Literals(["True", "False", "Unknown"])
export type ConditionStatus = typeof ConditionStatus.Type

const CAMEL_CASE = /^[A-Z][A-Za-z0-9]*$/u

/** Kubernetes-style condition: readers render these, they never re-derive state. */
export const Condition = Schema.Struct({
  type: Schema.String.check(Schema.isPattern(CAMEL_CASE, { message: "condition type must be CamelCase, e.g. \"Ready\"" })),
  status: ConditionStatus,
  reason: Schema.String.check(Schema.isPattern(CAMEL_CASE, { message: "reason must be a CamelCase word, e.g. \"Deployed\"" })),
  message: Schema.String,
  observedGeneration: Schema.Int,
  lastTransitionTime: Schema.String
})
export type Condition = typeof Condition.Type

/** Fields every status carries; kinds extend this with their observed fields. */
export const StatusBase = {
  observedGeneration: Schema.optionalKey(Schema.Int),
  conditions: Schema.optionalKey(Schema.Array(Condition))
}

export const Metadata = Schema.Struct({
  uid: Schema.String,
  owner: Schema.String,
  project: ProjectName,
  name: DnsLabel,
  generation: Schema.Int,
  resourceVersion: Schema.Int,
  createdAt: Schema.String,
  deletionTimestamp: Schema.optionalKey(Schema.String),
  finalizers: Schema.Array(Schema.String),
  labels: Schema.Record(Schema.String, Schema.String),
  annotations: Schema.Record(Schema.String, Schema.String)
})
export type Metadata = typeof Metadata.Type

export const EventType = Schema.Literals(["Normal", "Warning"])
export type EventType = typeof EventType.Type

export const ObjectEvent = Schema.Struct({
  type: EventType,
  reason: Schema.String,
  message: Schema.String,
  count: Schema.Int,
  firstSeen: Schema.String,
  lastSeen: Schema.String
})
export type ObjectEvent = typeof ObjectEvent.Type

/** Well-known annotation and finalizer names (DESIGN.md §4). */
export const Annotations = {
  externalName: "deploy.mcp/external-name",
  createPending: "deploy.mcp/create-pending"
} as const

export const Finalizers = {
  provider: "deploy.mcp/provider"
} as const
