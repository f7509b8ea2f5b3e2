/**
 * `events [--for [KIND/]NAME] [--watch] [--user LOGIN | --all-users] [--limit N]`: the event
 * history, oldest first, like `kubectl events`. Host events (the platform's) are always included.
 *
 * --watch keeps printing as events are recorded or repeat: it LISTENs on `object_events`
 * (NOTIFY from a trigger on the events table, migrations/060) — it never polls. LISTEN starts
 * before the history is read, so nothing recorded in between is lost; a row already printed
 * with the same count is not printed twice.
 */
import { Effect } from "effect"
import pg from "pg"
import type { Kind } from "../../../schemas/index.ts"
import { Database } from "../../db/database.ts"
import { PLATFORM_OWNER } from "../../store/objects.ts"
import { ageOf } from "../output/age.ts"
import { columnWidths, formatLine, tableCells, type Column } from "../output/table.ts"
import { parseCommandLine, runCommand } from "./command.ts"
import { CliFailure, UsageError, type CliIo } from "./io.ts"
import { KIND_CHOICES, parseKind } from "./kinds.ts"
import { findInScope, resolveScope, type UserScope } from "./scope.ts"
import { openSession } from "./session.ts"

export const usage = `Usage: deploy-mcp events [options]

Options:
      --for [KIND/]NAME   only events of this object, e.g. --for shop or --for app/shop
  -w, --watch             keep printing new events until interrupted
      --user LOGIN        events of this user's objects (default: the only user, if there is one)
      --all-users         events of every user, with a USER column
      --limit N           how many recent events to show first (default 50)
`

export const EVENTS_CHANNEL = "object_events"

export interface EventsRequest {
  readonly kind?: Kind | undefined
  readonly name?: string | undefined
  readonly watch: boolean
  readonly user?: string | undefined
  readonly allUsers: boolean
  readonly limit: number
}

export const parseEvents = (args: ReadonlyArray<string>): EventsRequest => {
  const { values, positionals } = parseCommandLine(args, {
    for: { type: "string" },
    watch: { type: "boolean", short: "w" },
    user: { type: "string" },
    "all-users": { type: "boolean" },
    limit: { type: "string" }
  })
  if (positionals.length) throw new UsageError({ message: `unexpected arguments: ${positionals.join(" ")} (use --for NAME to pick an object)` })
  const limit = values.limit === undefined ? 50 : Number(values.limit)
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError({ message: `--limit must be a whole number, got '${values.limit}'` })
  let kind: Kind | undefined
  let name = values.for
  if (name?.includes("/")) {
    const [kindWord, objectName] = name.split("/", 2)
    kind = parseKind(kindWord)
    if (!kind) throw new UsageError({ message: `unknown kind '${kindWord}' in --for; choose one of: ${KIND_CHOICES}` })
    name = objectName
  }
  if (name === "") throw new UsageError({ message: "--for needs a NAME" })
  return { kind, name, watch: values.watch ?? false, user: values.user, allUsers: values["all-users"] ?? false, limit }
}

export interface EventRow {
  readonly id: string
  readonly type: string
  readonly reason: string
  readonly message: string
  readonly count: number
  readonly firstSeen: string
  readonly lastSeen: string
  readonly kind: Kind
  readonly name: string
  readonly login: string
}

interface Filter {
  readonly owners: ReadonlyArray<string>
  readonly kind?: Kind | undefined
  readonly name?: string | undefined
}

/** The operator's read model of events: with the object's kind and name and its owner's login. */
const queryEvents = (filter: Filter, options: { readonly id?: string; readonly limit: number }) =>
  Effect.gen(function*() {
    const db = yield* Database
    const result = yield* db.query<{
      id: string
      type: string
      reason: string
      message: string
      count: number
      first_seen: Date
      last_seen: Date
      kind: Kind
      name: string
      login: string
    }>(
      `SELECT e.id, e.type, e.reason, e.message, e.count, e.first_seen, e.last_seen, o.kind, o.name, u.login
         FROM events e JOIN objects o ON o.uid = e.object_uid JOIN users u ON u.id = e.owner
        WHERE e.owner = ANY($1::uuid[]) AND ($2::text IS NULL OR o.kind = $2) AND ($3::text IS NULL OR o.name = $3)
          AND ($4::bigint IS NULL OR e.id = $4)
        ORDER BY e.last_seen DESC, e.id DESC LIMIT $5`,
      [filter.owners, filter.kind ?? null, filter.name ?? null, options.id ?? null, options.limit]
    )
    return result.rows
      .map((row) => ({
        id: row.id,
        type: row.type,
        reason: row.reason,
        message: row.message,
        count: row.count,
        firstSeen: row.first_seen.toISOString(),
        lastSeen: row.last_seen.toISOString(),
        kind: row.kind,
        name: row.name,
        login: row.login
      }))
      .reverse()
  })

/** Which owners' events, and — for --for — check the object exists, so a typo is an error, not silence. */
const resolveFilter = (request: EventsRequest) =>
  Effect.gen(function*() {
    const scope: UserScope = request.kind === "Host" ? { users: [], allUsers: false } : yield* resolveScope({ user: request.user, allUsers: request.allUsers })
    const owners = [...scope.users.map((user) => user.id), PLATFORM_OWNER]
    if (request.name !== undefined) {
      if (request.kind) {
        yield* findInScope(request.kind, request.name, scope)
      } else {
        const db = yield* Database
        const found = yield* db.query(`SELECT 1 FROM objects WHERE name = $1 AND owner = ANY($2::uuid[]) LIMIT 1`, [request.name, owners])
        if (found.rowCount === 0) {
          const who = scope.users.length === 1 && !scope.allUsers ? ` for user '${scope.users[0]?.login}'` : ""
          return yield* Effect.fail(new CliFailure({ message: `no app, resource or host named '${request.name}'${who}` }))
        }
      }
    }
    return { filter: { owners, kind: request.kind, name: request.name } satisfies Filter, allUsers: scope.allUsers }
  })

const eventColumns = (allUsers: boolean, now: () => Date): ReadonlyArray<Column<EventRow>> => [
  {
    header: "LAST SEEN",
    cell: (row) => (row.count > 1 ? `${ageOf(row.lastSeen, now())} (x${row.count} over ${ageOf(row.firstSeen, now())})` : ageOf(row.lastSeen, now()))
  },
  ...(allUsers ? [{ header: "OWNER", cell: (row: EventRow) => row.login }] : []),
  { header: "TYPE", cell: (row) => row.type },
  { header: "REASON", cell: (row) => row.reason },
  { header: "OBJECT", cell: (row) => `${row.kind.toLowerCase()}/${row.name}` },
  { header: "MESSAGE", cell: (row) => row.message }
]

/** Notifications as an async sequence; ends when `signal` aborts, fails when the connection drops. */
const listen = async (databaseUrl: string, signal: AbortSignal | undefined) => {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "deploy-mcp-cli-watch" })
  const pending: Array<string> = []
  let wake: (() => void) | undefined
  let failure: Error | undefined
  let ended = signal?.aborted ?? false
  const poke = () => {
    wake?.()
    wake = undefined
  }
  client.on("notification", (message) => {
    if (message.channel === EVENTS_CHANNEL && message.payload) pending.push(message.payload)
    poke()
  })
  client.on("error", (error) => {
    failure = new CliFailure({ message: `lost the database connection while watching: ${error.message}` })
    poke()
  })
  const stop = () => {
    ended = true
    poke()
  }
  signal?.addEventListener("abort", stop, { once: true })
  await client.connect()
  await client.query(`LISTEN ${EVENTS_CHANNEL}`)
  return {
    async *notifications(): AsyncGenerator<string> {
      try {
        for (;;) {
          while (pending.length && !ended) yield pending.shift() as string
          if (failure) throw failure
          if (ended) return
          await new Promise<void>((resolve) => (wake = resolve))
        }
      } finally {
        signal?.removeEventListener("abort", stop)
        await client.end().catch(() => {})
      }
    }
  }
}

export const run = (args: ReadonlyArray<string>, io: CliIo): Promise<number> =>
  runCommand(io, usage, async () => {
    const request = parseEvents(args)
    const now = io.now ?? (() => new Date())
    const session = await openSession(io)
    try {
      const { filter, allUsers } = await session.run(resolveFilter(request))
      // Listen before reading the history: an event recorded in between is then both in the
      // history and notified, and the count check below prints it once.
      const listener = request.watch ? await listen(session.databaseUrl, io.signal) : undefined
      const history = await session.run(queryEvents(filter, { limit: request.limit }))
      const columns = eventColumns(allUsers, now)
      const cells = tableCells(columns, history)
      if (!history.length && !request.watch) {
        io.stderr("No events found.\n")
        return
      }
      const widths = columnWidths(cells)
      io.stdout(cells.map((line) => formatLine(line, widths)).join("\n") + "\n")
      if (!listener) return
      const printed = new Map(history.map((row) => [row.id, row.count]))
      for await (const payload of listener.notifications()) {
        const { id } = JSON.parse(payload) as { id: number | string }
        const [row] = await session.run(queryEvents(filter, { id: String(id), limit: 1 }))
        if (!row || printed.get(row.id) === row.count) continue
        printed.set(row.id, row.count)
        const line = tableCells(columns, [row])[1] ?? []
        io.stdout(formatLine(line, widths) + "\n")
      }
    } finally {
      await session.close()
    }
  })
