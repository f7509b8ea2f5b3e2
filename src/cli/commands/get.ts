/**
 * `get apps|resources|hosts [NAME] [-o json|yaml|wide] [--user LOGIN | --all-users] [--project P]`:
 * a table of objects with their Ready condition, like `kubectl get`.
 */
import { Effect } from "effect"
import type { Kind } from "../../../schemas/index.ts"
import { columnsFor, type Listed } from "../output/columns.ts"
import { encodeList } from "../output/encode.ts"
import { renderTable } from "../output/table.ts"
import { parseCommandLine, runCommand } from "./command.ts"
import { UsageError, type CliIo } from "./io.ts"
import { KIND_CHOICES, kindPlural, parseKind } from "./kinds.ts"
import { findInScope, listInScope, ownersFor, scopeFor } from "./scope.ts"
import { withSession } from "./session.ts"

export const usage = `Usage: deploy-mcp get apps|resources|hosts [NAME] [options]

Options:
  -o, --output FORMAT   json, yaml or wide (more columns); a table by default
      --user LOGIN      objects of this user (default: the only user, if there is one)
      --all-users       objects of every user, with a USER column
      --project P       only this project
`

type Output = "table" | "wide" | "json" | "yaml"

export interface GetRequest {
  readonly kind: Kind
  readonly name?: string | undefined
  readonly output: Output
  readonly user?: string | undefined
  readonly allUsers: boolean
  readonly project?: string | undefined
}

export const parseGet = (args: ReadonlyArray<string>): GetRequest => {
  const { values, positionals } = parseCommandLine(args, {
    output: { type: "string", short: "o" },
    user: { type: "string" },
    "all-users": { type: "boolean" },
    project: { type: "string" }
  })
  const [kindWord, name, ...extra] = positionals
  const kind = parseKind(kindWord)
  if (!kind) throw new UsageError({ message: kindWord ? `unknown kind '${kindWord}'; choose one of: ${KIND_CHOICES}` : `what to get? one of: ${KIND_CHOICES}` })
  if (extra.length) throw new UsageError({ message: `unexpected arguments: ${extra.join(" ")}` })
  const output = values.output ?? "table"
  if (output !== "table" && output !== "wide" && output !== "json" && output !== "yaml") {
    throw new UsageError({ message: `unknown output format '${output}'; choose json, yaml or wide` })
  }
  return { kind, name, output, user: values.user, allUsers: values["all-users"] ?? false, project: values.project }
}

const renderRows = (request: GetRequest, rows: ReadonlyArray<Listed>, allUsers: boolean, now: Date): string => {
  if (request.output === "json" || request.output === "yaml") return encodeList(rows.map((row) => row.object), request.output)
  const showProject = request.project === undefined && rows.some((row) => row.object.metadata.project !== "default")
  const columns = columnsFor(request.kind, { wide: request.output === "wide", showUser: allUsers && request.kind !== "Host", showProject, now })
  return renderTable(columns, rows)
}

export const getObjects = (request: GetRequest, now: Date) =>
  Effect.gen(function*() {
    const scope = yield* scopeFor(request.kind, { user: request.user, allUsers: request.allUsers })
    const rows: ReadonlyArray<Listed> = request.name
      ? [yield* findInScope(request.kind, request.name, scope, request.project)]
      : yield* listInScope(request.kind, scope, request.project)
    const empty = rows.length === 0 && request.output !== "json" && request.output !== "yaml"
    const owners = ownersFor(request.kind, scope)
    const whose = request.kind === "Host" || scope.allUsers || owners.length !== 1 ? "" : ` for user '${owners[0]?.login}'`
    return {
      stdout: empty ? "" : renderRows(request, rows, scope.allUsers, now),
      stderr: empty ? `No ${kindPlural(request.kind)} found${whose}${request.project ? ` in project '${request.project}'` : ""}.\n` : ""
    }
  })

export const run = (args: ReadonlyArray<string>, io: CliIo): Promise<number> =>
  runCommand(io, usage, async () => {
    const request = parseGet(args)
    const printed = await withSession(io, getObjects(request, io.now?.() ?? new Date()))
    io.stdout(printed.stdout)
    if (printed.stderr) io.stderr(printed.stderr)
  })
