/**
 * The App's conditions (DESIGN.md §2 App.status) and the sentences they carry. Readers — agents
 * above all — act on these messages, so each says what happened and what happens next.
 *
 * Synced: the Coolify application matches the spec (Created, Adopted, Updated, UpToDate,
 *   ProviderError, InvalidSpec, ProviderNotConfigured, Deleting).
 * Deployed: the desired revision is built and running (Queued, Building, BuildFailed, Deployed,
 *   Crashed, Cancelled, WaitingForResources, WaitingForGitHubApp, or a placement reason).
 * Ready: the app serves traffic (Running, Starting, Unhealthy, Crashed, or Deployed's reason).
 */
import type { DeploymentRecord } from "../../schemas/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import { findCondition, type ConditionInput } from "../engine/conditions.ts"

type App = StoredObject<"App">

export const condition = (type: "Synced" | "Deployed" | "Ready", status: "True" | "False" | "Unknown", reason: string, message: string): ConditionInput => ({
  type,
  status,
  reason,
  message
})

export const PROVIDER_NOT_CONFIGURED_MESSAGE =
  "Apps cannot be deployed: APP_RUNTIME is coolify, but Coolify is not configured. The operator must set COOLIFY_URL (the Coolify instance's base URL, e.g. https://coolify.example.com) and COOLIFY_TOKEN (a Coolify API token with the read, write and deploy abilities), or unset APP_RUNTIME to run apps on this machine (the local runtime), then restart the server; this app deploys then."

/** "revision abc1234" or "the head of branch main". */
export const describeRevision = (revision: string | null, branch: string): string =>
  revision === null ? `the head of branch ${branch}` : `revision ${revision.slice(0, 7)}`

export const describeDeployment = (app: App, record: Pick<DeploymentRecord, "id" | "revision">): string =>
  `deployment ${record.id} of ${describeRevision(record.revision, app.spec.branch)}`

const MAX_LINE = 300

/** The last `count` lines, each cut to a readable length, as an indented block. */
export const logTail = (lines: ReadonlyArray<string>, count: number): string => {
  const tail = lines
    .flatMap((line) => line.split("\n"))
    .filter((line) => line.trim() !== "")
    .slice(-count)
    .map((line) => `  ${line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line}`)
  return tail.length === 0 ? "  (Coolify returned no log lines)" : tail.join("\n")
}

const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`)

/** A provider failure: Synced=False, and what happens next. */
export const providerError = (message: string, next: string): ConditionInput =>
  condition("Synced", "False", "ProviderError", `${sentence(message)} ${next}`)

/** Ready is about serving traffic: an app that serves keeps Ready while a new version waits or builds. */
export const unlessServing = (app: App, reason: string, message: string): ConditionInput | undefined =>
  findCondition(app.status.conditions, "Ready")?.status === "True" ? undefined : condition("Ready", "False", reason, `Not serving yet: ${message}`)

export const present = <A>(value: A | undefined): value is A => value !== undefined
