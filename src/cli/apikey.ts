/**
 * `apikey create --user LOGIN [--name LABEL] [--create-user]` prints only the new key on stdout
 * (so `KEY=$(npm run -s cli -- apikey create --user me)` works); `apikey list [--user LOGIN]`;
 * `apikey revoke PREFIX` — effective at once on every replica (NOTIFY api_key_changes).
 */
import { Effect, Option } from "effect"
import { ApiKeyStore, type ApiKeyInfo } from "../auth/api-key-store.ts"
import { normalizePrefix } from "../auth/api-key.ts"
import { UserStore } from "../store/users.ts"
import { parseCommandLine, runCommand } from "./commands/command.ts"
import { CliFailure, UsageError, type CliIo } from "./commands/io.ts"
import { withSession } from "./commands/session.ts"
import { ageOf } from "./output/age.ts"
import { renderTable } from "./output/table.ts"

export const usage = `Usage: deploy-mcp apikey create --user LOGIN [--name LABEL] [--create-user]
       deploy-mcp apikey list [--user LOGIN]
       deploy-mcp apikey revoke PREFIX

  create   mint a key for a user and print it (only the key, on stdout; it is shown once).
           --create-user creates the user first if there is none with that login.
  list     keys with prefix, user, label, age, last use and status (newest first).
  revoke   revoke the key with this prefix (as shown by list, e.g. dk_live_AbCd1234).
`

const withKeys = <A, E>(io: CliIo, effect: Effect.Effect<A, E, ApiKeyStore | UserStore>) => withSession(io, effect, () => ApiKeyStore.layer)

const userByLogin = (login: string, create: boolean) =>
  Effect.gen(function*() {
    const users = yield* UserStore
    const found = yield* users.byLogin(login)
    if (Option.isSome(found)) return found.value
    if (create) return yield* users.ensure(login)
    return yield* new CliFailure({ message: `no user '${login}'. Users appear when they sign in with GitHub; to create one for this key, add --create-user.` })
  })

const create = (args: ReadonlyArray<string>, io: CliIo) =>
  runCommand(io, usage, async () => {
    const { values, positionals } = parseCommandLine(args, { user: { type: "string" }, name: { type: "string" }, "create-user": { type: "boolean" } })
    if (positionals.length) throw new UsageError({ message: `unexpected arguments: ${positionals.join(" ")}` })
    if (!values.user) throw new UsageError({ message: "--user LOGIN is required: whose key is it?" })
    const login = values.user
    const created = await withKeys(
      io,
      Effect.gen(function*() {
        const user = yield* userByLogin(login, values["create-user"] === true)
        return yield* (yield* ApiKeyStore).create(user.id, values.name)
      })
    )
    io.stdout(`${created.key}\n`)
    io.stderr(`Created API key ${created.prefix} for '${created.login}'. It is shown only this once; store it now.\n`)
  })

const status = (key: ApiKeyInfo) => (key.revokedAt ? "revoked" : "active")

const list = (args: ReadonlyArray<string>, io: CliIo) =>
  runCommand(io, usage, async () => {
    const { values, positionals } = parseCommandLine(args, { user: { type: "string" } })
    if (positionals.length) throw new UsageError({ message: `unexpected arguments: ${positionals.join(" ")}` })
    const keys = await withKeys(
      io,
      Effect.gen(function*() {
        const userId = values.user ? (yield* userByLogin(values.user, false)).id : null
        return yield* (yield* ApiKeyStore).list(userId)
      })
    )
    if (keys.length === 0) {
      io.stderr(`No API keys${values.user ? ` for '${values.user}'` : ""}. Create one with: deploy-mcp apikey create --user LOGIN\n`)
      return
    }
    const now = io.now?.() ?? new Date()
    io.stdout(
      renderTable(
        [
          { header: "PREFIX", cell: (key: ApiKeyInfo) => key.prefix },
          { header: "USER", cell: (key: ApiKeyInfo) => key.login },
          { header: "NAME", cell: (key: ApiKeyInfo) => key.name ?? "<none>" },
          { header: "AGE", cell: (key: ApiKeyInfo) => ageOf(key.createdAt, now) },
          { header: "LAST-USED", cell: (key: ApiKeyInfo) => (key.lastUsedAt ? `${ageOf(key.lastUsedAt, now)} ago` : "never") },
          { header: "STATUS", cell: status }
        ],
        keys
      )
    )
  })

const revoke = (args: ReadonlyArray<string>, io: CliIo) =>
  runCommand(io, usage, async () => {
    const { positionals } = parseCommandLine(args, {})
    const [given, ...extra] = positionals
    if (!given || extra.length) throw new UsageError({ message: "give exactly one key prefix, as shown by `apikey list` (e.g. dk_live_AbCd1234)" })
    const prefix = normalizePrefix(given)
    if (!prefix) throw new UsageError({ message: `'${given}' is not a key prefix: it looks like dk_live_ followed by 8 letters or digits` })
    const revoked = await withKeys(io, ApiKeyStore.use((keys) => keys.revoke(prefix)))
    if (Option.isNone(revoked)) throw new CliFailure({ message: `no API key with prefix ${prefix}; see deploy-mcp apikey list` })
    io.stdout(`Revoked ${revoked.value.prefix} of '${revoked.value.login}' (since ${revoked.value.revokedAt}).\n`)
  })

const subcommands: Record<string, (args: ReadonlyArray<string>, io: CliIo) => Promise<number>> = { create, list, revoke }

export const run = (args: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const [name, ...rest] = args
  const subcommand = name === undefined ? undefined : subcommands[name]
  if (!subcommand) {
    return runCommand(io, usage, async () => {
      throw new UsageError({ message: name ? `unknown apikey command '${name}'; use create, list or revoke` : "apikey what? use create, list or revoke" })
    })
  }
  return subcommand(rest, io)
}
