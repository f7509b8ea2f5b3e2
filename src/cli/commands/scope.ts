/**
 * Whose objects a command looks at. Tenancy is explicit in the store, so the CLI resolves a user
 * first: --user LOGIN, or every user (--all-users, and the default: with several users the
 * listing gets an OWNER column; the embedded default has one local user and shows none). Hosts always belong to the platform.
 */
import { Effect, Option } from "effect"
import type { Kind } from "../../../schemas/index.ts"
import { Database } from "../../db/database.ts"
import { ObjectStore, PLATFORM_OWNER, type StoredObject } from "../../store/objects.ts"
import type { Listed } from "../output/columns.ts"
import { CliFailure, UsageError } from "./io.ts"
import { kindPlural, kindWord } from "./kinds.ts"

export interface ScopeUser {
  readonly id: string
  readonly login: string
}

export interface UserScope {
  /** The users looked at; one unless --all-users (or nobody exists yet). */
  readonly users: ReadonlyArray<ScopeUser>
  readonly allUsers: boolean
}

export interface ScopeOptions {
  readonly user?: string | undefined
  readonly allUsers?: boolean | undefined
}

export const PLATFORM_USER: ScopeUser = { id: PLATFORM_OWNER, login: "platform" }

const listUsers = Effect.gen(function*() {
  const db = yield* Database
  const result = yield* db.query<ScopeUser>(`SELECT id, login FROM users WHERE id <> $1 ORDER BY login`, [PLATFORM_OWNER])
  return result.rows
})

const loginList = (users: ReadonlyArray<ScopeUser>) => users.map((user) => user.login).join(", ")

export const resolveScope = (options: ScopeOptions) =>
  Effect.gen(function*() {
    if (options.user !== undefined && options.allUsers) return yield* Effect.fail(new UsageError({ message: "--user and --all-users exclude each other" }))
    const users = yield* listUsers
    if (options.allUsers) return { users, allUsers: true } satisfies UserScope
    if (options.user !== undefined) {
      const user = users.find((candidate) => candidate.login === options.user)
      if (!user) {
        return yield* Effect.fail(
          new CliFailure({ message: `user '${options.user}' not found; ${users.length ? `users: ${loginList(users)}` : "there are no users yet"}` })
        )
      }
      return { users: [user], allUsers: false } satisfies UserScope
    }
    // An operator sees everyone by default (an OWNER column tells whose); --user narrows.
    return { users, allUsers: users.length > 1 } satisfies UserScope
  })

/** Hosts are platform objects: whatever the user scope, they are listed under the platform. */
export const ownersFor = (kind: Kind, scope: UserScope): ReadonlyArray<ScopeUser> => (kind === "Host" ? [PLATFORM_USER] : scope.users)

/** Every object of a kind in scope, in (user, project, name) order. */
export const listInScope = <K extends Kind>(kind: K, scope: UserScope, project?: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const rows: Array<Listed<K>> = []
    for (const user of ownersFor(kind, scope)) {
      let after: string | undefined
      do {
        const page = yield* store.list(user.id, { kind, limit: 1000, ...(project ? { project } : {}), ...(after ? { after } : {}) })
        for (const object of page.items) rows.push({ object, user: user.login })
        after = page.next
      } while (after)
    }
    return rows
  })

const describeScope = (users: ReadonlyArray<ScopeUser>, project: string | undefined) => {
  const who = users.length === 1 && users[0] ? `user '${users[0].login}'` : users.length === 0 ? "any user (there are none yet)" : "any user"
  return project ? `${who} in project '${project}'` : who
}

/**
 * One object by kind and name (in any project unless --project). Missing → a message naming what
 * does exist; the same name for several users or projects → a message saying how to pick one.
 */
export const findInScope = <K extends Kind>(kind: K, name: string, scope: UserScope, project?: string) =>
  Effect.gen(function*() {
    const db = yield* Database
    const store = yield* ObjectStore
    const owners = ownersFor(kind, scope)
    const matches = (yield* db.query<{ uid: string; owner: string; project: string }>(
      `SELECT uid, owner, project FROM objects WHERE kind = $1 AND name = $2 AND owner = ANY($3::uuid[]) AND ($4::text IS NULL OR project = $4)
        ORDER BY owner, project`,
      [kind, name, owners.map((user) => user.id), project ?? null]
    )).rows
    if (matches.length === 0) {
      const names = (yield* db.query<{ name: string }>(
        `SELECT DISTINCT name FROM objects WHERE kind = $1 AND owner = ANY($2::uuid[]) AND ($3::text IS NULL OR project = $3) ORDER BY name LIMIT 50`,
        [kind, owners.map((user) => user.id), project ?? null]
      )).rows.map((row) => row.name)
      const existing = names.length ? `${kindPlural(kind)}: ${names.join(", ")}` : `there are no ${kindPlural(kind)}`
      return yield* Effect.fail(new CliFailure({ message: `${kindWord(kind)} '${name}' not found for ${describeScope(owners, project)}; ${existing}` }))
    }
    if (matches.length > 1) {
      const where = matches.map((match) => `${owners.find((user) => user.id === match.owner)?.login ?? match.owner}/${match.project}`).join(", ")
      return yield* Effect.fail(
        new UsageError({ message: `${kindWord(kind)} '${name}' exists in several places (user/project: ${where}): pass --user and/or --project` })
      )
    }
    const match = matches[0] as { uid: string; owner: string }
    const found = yield* store.getByUid(match.owner, match.uid)
    if (Option.isNone(found)) {
      return yield* Effect.fail(new CliFailure({ message: `${kindWord(kind)} '${name}' was deleted just now` }))
    }
    const user = owners.find((candidate) => candidate.id === match.owner) as ScopeUser
    return { object: found.value as StoredObject<K>, user: user.login } satisfies Listed<K>
  })

/** The scope for one kind: Hosts need no user (they are the platform's); other kinds resolve one. */
export const scopeFor = (kind: Kind, options: ScopeOptions) =>
  kind === "Host" ? Effect.succeed<UserScope>({ users: [], allUsers: false }) : resolveScope(options)
