/**
 * The columns `get` prints per kind. Readers render conditions, they never re-derive state
 * (STYLE.md): READY is the Ready condition's status and STATUS its reason, or Terminating while
 * finalizers run.
 */
import { findCondition } from "../../../controllers/engine/conditions.ts"
import { repoLabel, type Condition, type Kind } from "../../../schemas/index.ts"
import type { StoredObject } from "../../store/objects.ts"
import { ageOf } from "./age.ts"
import type { Column } from "./table.ts"

/** An object as the operator sees it: with its owner's login instead of a uuid. */
export interface Listed<K extends Kind = Kind> {
  readonly object: StoredObject<K>
  readonly user: string
}

export interface ColumnChoice {
  readonly wide: boolean
  readonly showUser: boolean
  readonly showProject: boolean
  readonly now: Date
}

const conditionsOf = (object: StoredObject): ReadonlyArray<Condition> | undefined => object.status.conditions

const conditionStatus = (type: string) => (row: Listed) => findCondition(conditionsOf(row.object), type)?.status ?? "Unknown"

const statusReason = (row: Listed): string => {
  if (row.object.metadata.deletionTimestamp) return "Terminating"
  return findCondition(conditionsOf(row.object), "Ready")?.reason ?? "Pending"
}

const orNone = (value: string | number | null | undefined): string => (value === undefined || value === null || value === "" ? "<none>" : String(value))

const shortSha = (sha: string | null | undefined) => (sha ? sha.slice(0, 7) : "<head>")

type AppRow = Listed<"App">
type ResourceRow = Listed<"Resource">
type HostRow = Listed<"Host">

const appColumns = (choice: ColumnChoice): ReadonlyArray<Column<AppRow>> => [
  { header: "NAME", cell: (row) => row.object.metadata.name },
  { header: "READY", cell: conditionStatus("Ready") },
  { header: "STATUS", cell: statusReason },
  ...(choice.wide
    ? [
        { header: "SYNCED", cell: conditionStatus("Synced") },
        { header: "DEPLOYED", cell: conditionStatus("Deployed") },
        { header: "REPO", cell: (row: AppRow) => `${repoLabel(row.object.spec.repo)}@${row.object.spec.branch}` },
        { header: "REVISION", cell: (row: AppRow) => shortSha(row.object.status.deployedRevision) },
        { header: "HOST", cell: (row: AppRow) => orNone(row.object.status.host ?? row.object.spec.host) }
      ]
    : []),
  { header: "URL", cell: (row) => orNone(row.object.status.url) },
  { header: "AGE", cell: (row) => ageOf(row.object.metadata.createdAt, choice.now) }
]

const resourceColumns = (choice: ColumnChoice): ReadonlyArray<Column<ResourceRow>> => [
  { header: "NAME", cell: (row) => row.object.metadata.name },
  { header: "READY", cell: conditionStatus("Ready") },
  { header: "STATUS", cell: statusReason },
  { header: "TYPE", cell: (row) => row.object.spec.type },
  { header: "SIZE", cell: (row) => orNone(row.object.spec.size) },
  ...(choice.wide
    ? [
        { header: "SYNCED", cell: conditionStatus("Synced") },
        { header: "REGION", cell: (row: ResourceRow) => orNone(row.object.spec.region) },
        { header: "URL", cell: (row: ResourceRow) => orNone(row.object.status.url) }
      ]
    : []),
  { header: "AGE", cell: (row) => ageOf(row.object.metadata.createdAt, choice.now) }
]

const hostColumns = (choice: ColumnChoice): ReadonlyArray<Column<HostRow>> => [
  { header: "NAME", cell: (row) => row.object.metadata.name },
  { header: "READY", cell: conditionStatus("Ready") },
  { header: "STATUS", cell: statusReason },
  { header: "ADDRESS", cell: (row) => `${row.object.spec.address}:${row.object.spec.port}` },
  { header: "ROLE", cell: (row) => row.object.spec.role },
  { header: "DNS-SUFFIX", cell: (row) => row.object.spec.dnsSuffix },
  ...(choice.wide
    ? [
        { header: "REACHABLE", cell: conditionStatus("Reachable") },
        { header: "HARDENED", cell: conditionStatus("Hardened") },
        { header: "CAPACITY", cell: (row: HostRow) => `cpu=${row.object.spec.capacity.cpu},memory=${row.object.spec.capacity.memory}` },
        {
          header: "ALLOCATED",
          cell: (row: HostRow) => {
            const allocated = row.object.status.allocated
            return allocated ? `cpu=${allocated.cpu},memory=${Math.round(allocated.memoryBytes / 2 ** 20)}M` : "<none>"
          }
        },
        { header: "DOCKER", cell: (row: HostRow) => orNone(row.object.status.facts?.dockerVersion) },
        { header: "RUNSC", cell: (row: HostRow) => orNone(row.object.status.facts?.runscVersion) }
      ]
    : []),
  { header: "AGE", cell: (row) => ageOf(row.object.metadata.createdAt, choice.now) }
]

const scopeColumns = (choice: ColumnChoice): ReadonlyArray<Column<Listed>> => [
  ...(choice.showUser ? [{ header: "OWNER", cell: (row: Listed) => row.user }] : []),
  ...(choice.showProject ? [{ header: "PROJECT", cell: (row: Listed) => row.object.metadata.project }] : [])
]

export const columnsFor = (kind: Kind, choice: ColumnChoice): ReadonlyArray<Column<Listed>> => {
  const perKind =
    kind === "App" ? appColumns(choice) : kind === "Resource" ? resourceColumns(choice) : hostColumns(choice)
  return [...scopeColumns(choice), ...(perKind as ReadonlyArray<Column<Listed>>)]
}
