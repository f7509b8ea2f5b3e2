/**
 * `reconcile app|resource|host NAME [--user LOGIN] [--project P]`: enqueue the object's key now
 * through the ReconcileQueue, as a write would. A key already waiting (even deferred by backoff)
 * is moved to now rather than duplicated; the controller reads the latest state as always.
 */
import { Effect } from "effect"
import { ReconcileQueue } from "../../../controllers/engine/queue.ts"
import type { Kind } from "../../../schemas/index.ts"
import { parseCommandLine, runCommand } from "./command.ts"
import { UsageError, type CliIo } from "./io.ts"
import { KIND_CHOICES, kindWord, parseKind } from "./kinds.ts"
import { findInScope, scopeFor } from "./scope.ts"
import { withSession } from "./session.ts"

export const usage = `Usage: deploy-mcp reconcile app|resource|host NAME [options]

Options:
      --user LOGIN   whose object (needed only when several users have one by that name)
      --project P    which project (needed only when several projects have one by that name)
`

export interface ReconcileRequest {
  readonly kind: Kind
  readonly name: string
  readonly user?: string | undefined
  readonly project?: string | undefined
}

export const parseReconcile = (args: ReadonlyArray<string>): ReconcileRequest => {
  const { values, positionals } = parseCommandLine(args, { user: { type: "string" }, project: { type: "string" } })
  const [word, name, ...extra] = positionals
  const kind = parseKind(word)
  if (!kind) throw new UsageError({ message: word ? `unknown kind '${word}'; choose one of: ${KIND_CHOICES}` : `what to reconcile? one of: ${KIND_CHOICES}` })
  if (!name) throw new UsageError({ message: `which ${kindWord(kind)}? give its NAME` })
  if (extra.length) throw new UsageError({ message: `unexpected arguments: ${extra.join(" ")}` })
  return { kind, name, user: values.user, project: values.project }
}

export const enqueueReconcile = (request: ReconcileRequest) =>
  Effect.gen(function*() {
    const scope = yield* scopeFor(request.kind, request.user === undefined ? { allUsers: true } : { user: request.user })
    const found = yield* findInScope(request.kind, request.name, scope, request.project)
    const queue = yield* ReconcileQueue
    yield* queue.enqueue(request.kind, { owner: found.object.metadata.owner, uid: found.object.metadata.uid })
    return `${kindWord(request.kind)} '${request.name}' (user '${found.user}', project '${found.object.metadata.project}') queued for reconcile\n`
  })

export const run = (args: ReadonlyArray<string>, io: CliIo): Promise<number> =>
  runCommand(io, usage, async () => {
    const request = parseReconcile(args)
    io.stdout(await withSession(io, enqueueReconcile(request), (connection) => ReconcileQueue.layer({ connectionString: connection.databaseUrl, max: 2 })))
  })
