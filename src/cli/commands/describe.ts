/**
 * `describe app|resource|host NAME [--user LOGIN] [--project P]`: everything an operator needs
 * about one object — spec (env values redacted), status, conditions with ages, recent events.
 */
import { Effect, Result } from "effect"
import { makeLocalAppLogs } from "../../../controllers/app/local/logs.ts"
import { decodeConfig } from "../../config/config.ts"
import { appRuntimeName } from "../../config/runtime.ts"
import { LOG_LINES_MAX, type AppLogsService } from "../../mcp/hooks.ts"
import type { StoredObject } from "../../store/objects.ts"
import type { Kind } from "../../../schemas/index.ts"
import { EventStore } from "../../store/events.ts"
import { renderDescribe } from "../output/describe.ts"
import { parseCommandLine, runCommand } from "./command.ts"
import { UsageError, type CliIo } from "./io.ts"
import { KIND_CHOICES, parseKind } from "./kinds.ts"
import { findInScope, scopeFor } from "./scope.ts"
import { withSession } from "./session.ts"

export const usage = `Usage: deploy-mcp describe app|resource|host NAME [options]

Options:
      --user LOGIN   whose object (needed only when several users have one by that name)
      --project P    which project (needed only when several projects have one by that name)
      --events N     how many recent events to show (default 20)
      --logs N       apps on the local runtime: last lines of the build and runtime logs (default 20, 0 for none)
`

export interface DescribeRequest {
  readonly kind: Kind
  readonly name: string
  readonly user?: string | undefined
  readonly project?: string | undefined
  readonly events: number
  readonly logs: number
}

export const parseDescribe = (args: ReadonlyArray<string>): DescribeRequest => {
  const { values, positionals } = parseCommandLine(args, {
    user: { type: "string" },
    project: { type: "string" },
    events: { type: "string" },
    logs: { type: "string" }
  })
  const [kindWord, name, ...extra] = positionals
  const kind = parseKind(kindWord)
  if (!kind) throw new UsageError({ message: kindWord ? `unknown kind '${kindWord}'; choose one of: ${KIND_CHOICES}` : `what to describe? one of: ${KIND_CHOICES}` })
  if (!name) throw new UsageError({ message: `which ${kind.toLowerCase()}? give its NAME` })
  if (extra.length) throw new UsageError({ message: `unexpected arguments: ${extra.join(" ")}` })
  const events = values.events === undefined ? 20 : Number(values.events)
  if (!Number.isInteger(events) || events < 0) throw new UsageError({ message: `--events must be a whole number, got '${values.events}'` })
  const logs = values.logs === undefined ? 20 : Number(values.logs)
  if (!Number.isInteger(logs) || logs < 0 || logs > LOG_LINES_MAX) throw new UsageError({ message: `--logs must be a whole number from 0 to ${LOG_LINES_MAX}, got '${values.logs}'` })
  return { kind, name, user: values.user, project: values.project, events, logs }
}

/**
 * Without --user, a name is looked up across every user: an operator usually knows the app, not
 * whose it is. Ambiguity is reported, never guessed.
 */
export const describeObject = (request: DescribeRequest, now: Date, appLogs?: AppLogsService) =>
  Effect.gen(function*() {
    const scope = yield* scopeFor(request.kind, request.user === undefined ? { allUsers: true } : { user: request.user })
    const found = yield* findInScope(request.kind, request.name, scope, request.project)
    const events = request.events === 0 ? [] : yield* EventStore.use((store) => store.list(found.object.metadata.owner, found.object.metadata.uid, request.events))
    const app = found.object.kind === "App" ? (found.object as StoredObject<"App">) : undefined
    const logs =
      app && appLogs && request.logs > 0
        ? { build: yield* appLogs.deployLogs(app, request.logs), runtime: yield* appLogs.runtimeLogs(app, request.logs) }
        : undefined
    return renderDescribe({ ...found, events, ...(logs ? { logs } : {}) }, now)
  })

export const run = (args: ReadonlyArray<string>, io: CliIo): Promise<number> =>
  runCommand(io, usage, async () => {
    const request = parseDescribe(args)
    // On the local runtime the logs are files under DATA_DIR on this machine, where the CLI runs.
    const decoded = decodeConfig(io.env)
    const appLogs = Result.isSuccess(decoded) && appRuntimeName(decoded.success) === "local" ? makeLocalAppLogs(decoded.success.DATA_DIR) : undefined
    io.stdout(await withSession(io, describeObject(request, io.now?.() ?? new Date(), appLogs)))
  })
