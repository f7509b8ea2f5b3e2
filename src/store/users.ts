/** Users are the tenants. A user exists before it has a GitHub identity (the embedded local user). */
import { Context, Effect, Layer, Option } from "effect"
import { Database, type DatabaseError } from "../db/database.ts"

export interface User {
  readonly id: string
  readonly login: string
  readonly githubId: number | null
  readonly createdAt: string
}

interface UserRow {
  id: string
  login: string
  github_id: string | null
  created_at: Date
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  login: row.login,
  githubId: row.github_id === null ? null : Number(row.github_id),
  createdAt: row.created_at.toISOString()
})

export class UserStore extends Context.Service<UserStore, {
  /** Creates the user, or returns the existing one with that login. */
  ensure(login: string): Effect.Effect<User, DatabaseError>
  byLogin(login: string): Effect.Effect<Option.Option<User>, DatabaseError>
  byId(id: string): Effect.Effect<Option.Option<User>, DatabaseError>
  /** Upsert by GitHub id; a renamed GitHub account keeps its user. */
  upsertGitHub(githubId: number, login: string): Effect.Effect<User, DatabaseError>
}>()("deploy-mcp/store/UserStore") {
  static readonly layer = Layer.effect(
    UserStore,
    Effect.gen(function*() {
      const db = yield* Database
      const one = (sql: string, values: ReadonlyArray<unknown>) =>
        db.query<UserRow>(sql, values).pipe(Effect.map((result) => Option.map(Option.fromNullishOr(result.rows[0]), toUser)))
      return UserStore.of({
        ensure: (login) =>
          db
            .query<UserRow>(
              `INSERT INTO users (login) VALUES ($1) ON CONFLICT (login) DO UPDATE SET login = EXCLUDED.login RETURNING id, login, github_id, created_at`,
              [login]
            )
            .pipe(Effect.map((result) => toUser(result.rows[0] as UserRow))),
        byLogin: (login) => one(`SELECT id, login, github_id, created_at FROM users WHERE login = $1`, [login]),
        byId: (id) => one(`SELECT id, login, github_id, created_at FROM users WHERE id = $1`, [id]),
        upsertGitHub: (githubId, login) =>
          db
            .query<UserRow>(
              `INSERT INTO users (login, github_id) VALUES ($2, $1)
               ON CONFLICT (github_id) DO UPDATE SET login = EXCLUDED.login, updated_at = now()
               RETURNING id, login, github_id, created_at`,
              [githubId, login]
            )
            .pipe(Effect.map((result) => toUser(result.rows[0] as UserRow)))
      })
    })
  )
}
