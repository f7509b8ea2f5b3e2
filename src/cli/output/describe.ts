/**
 * `describe` text, after `kubectl describe`: metadata as aligned "Key: value" lines, the spec and
 * the observed status as indented YAML (env values redacted), then the conditions and the recent
 * events as tables with ages.
 */
import type { LogExcerpt } from "../../mcp/hooks.ts"
import { stringify } from "yaml"
import type { Condition, ObjectEvent } from "../../../schemas/index.ts"
import type { StoredObject } from "../../store/objects.ts"
import { ageOf } from "./age.ts"
import { redactObject } from "./redact.ts"
import { renderTable, type Column } from "./table.ts"

export interface Described {
  readonly object: StoredObject
  readonly user: string
  /** Newest first, as the event store returns them. */
  readonly events: ReadonlyArray<ObjectEvent>
  /** Apps on the local runtime: the latest build log and the runtime log, from this machine's files. */
  readonly logs?: { readonly build: LogExcerpt; readonly runtime: LogExcerpt }
}

const logBlock = (title: string, excerpt: LogExcerpt): string =>
  `${title}:\n` + (excerpt.available ? indent(excerpt.lines.join("\n")) + "\n" : `  <none: ${excerpt.message ?? "unavailable"}>\n`)

const indent = (text: string, by = "  ") =>
  text
    .split("\n")
    .map((line) => (line === "" ? line : by + line))
    .join("\n")

const keyValues = (pairs: ReadonlyArray<readonly [string, string]>): string => {
  const width = Math.max(...pairs.map(([key]) => key.length)) + 2
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(width)}${value}`).join("\n") + "\n"
}

const mapLine = (map: Readonly<Record<string, string>>) => {
  const entries = Object.entries(map).sort(([a], [b]) => a.localeCompare(b))
  return entries.length ? entries.map(([key, value]) => `${key}=${value}`).join(", ") : "<none>"
}

const yamlBlock = (value: unknown): string => {
  const isEmpty = value === undefined || (typeof value === "object" && value !== null && Object.keys(value).length === 0)
  return isEmpty ? "  <none>\n" : indent(stringify(value))
}

/** "5m", or "30s (x4 over 12m)" for an event that repeated. */
export const eventAge = (event: ObjectEvent, now: Date): string =>
  event.count > 1 ? `${ageOf(event.lastSeen, now)} (x${event.count} over ${ageOf(event.firstSeen, now)})` : ageOf(event.lastSeen, now)

export const renderDescribe = (described: Described, now: Date): string => {
  const object = redactObject(described.object)
  const meta = object.metadata
  const pairs: Array<readonly [string, string]> = [
    ["Name", meta.name],
    ["Kind", object.kind],
    ["User", described.user],
    ["Project", meta.project],
    ["UID", meta.uid],
    ["Created", `${meta.createdAt} (${ageOf(meta.createdAt, now)} ago)`],
    ["Generation", String(meta.generation)],
    ["Resource Version", String(meta.resourceVersion)],
    ...(meta.deletionTimestamp ? [["Deleting Since", `${meta.deletionTimestamp} (${ageOf(meta.deletionTimestamp, now)} ago)`] as const] : []),
    ["Finalizers", meta.finalizers.length ? meta.finalizers.join(", ") : "<none>"],
    ["Labels", mapLine(meta.labels)],
    ["Annotations", mapLine(meta.annotations)]
  ]
  const { conditions, observedGeneration, ...observed } = object.status as {
    conditions?: ReadonlyArray<Condition>
    observedGeneration?: number
  } & Record<string, unknown>

  const conditionColumns: ReadonlyArray<Column<Condition>> = [
    { header: "TYPE", cell: (condition) => condition.type },
    { header: "STATUS", cell: (condition) => condition.status },
    { header: "REASON", cell: (condition) => condition.reason },
    { header: "AGE", cell: (condition) => ageOf(condition.lastTransitionTime, now) },
    {
      header: "GENERATION",
      cell: (condition) => (condition.observedGeneration < meta.generation ? `${condition.observedGeneration} (stale)` : String(condition.observedGeneration))
    },
    { header: "MESSAGE", cell: (condition) => condition.message }
  ]
  const eventColumns: ReadonlyArray<Column<ObjectEvent>> = [
    { header: "TYPE", cell: (event) => event.type },
    { header: "REASON", cell: (event) => event.reason },
    { header: "AGE", cell: (event) => eventAge(event, now) },
    { header: "MESSAGE", cell: (event) => event.message }
  ]
  return [
    keyValues(pairs),
    "Spec:\n",
    yamlBlock(object.spec),
    "Status:\n",
    `  Observed Generation: ${observedGeneration ?? "<none>"}\n`,
    Object.keys(observed).length ? yamlBlock(observed) : "",
    "Conditions:\n",
    conditions?.length ? indent(renderTable(conditionColumns, conditions)) : "  <none>\n",
    "Events:\n",
    described.events.length ? indent(renderTable(eventColumns, [...described.events].reverse())) : "  <none>\n",
    described.logs && (described.logs.build.available || described.logs.runtime.available) ? logBlock("Build Log", described.logs.build) + logBlock("Runtime Log", described.logs.runtime) : ""
  ].join("")
}
