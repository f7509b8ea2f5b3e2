/**
 * PostgreSQL access for the whole server. One pool; `transaction` runs an effect on one client
 * and every `query` inside it (store writes, pg-boss sends) joins that transaction.
 */
import { Context, Effect, Exit, Layer, Schema } from "effect"
import pg from "pg"
import { checkOut } from "./checkout.ts"

export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  message: Schema.String,
  code: Schema.optionalKey(Schema.String),
  constraint: Schema.optionalKey(Schema.String)
}) {}

export const toDatabaseError = (cause: unknown): DatabaseError => {
  const error = cause as { message?: string; code?: string; constraint?: string }
  return new DatabaseError({
    message: error?.message ?? String(cause),
    ...(error?.code ? { code: error.code } : {}),
    ...(error?.constraint ? { constraint: error.constraint } : {})
  })
}

/** Anything with pg's `query` shape: the pool, or the client of the current transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: ReadonlyArray<unknown>): Promise<pg.QueryResult<R>>
}

/** The client of the transaction the current fiber runs in, if any. */
export const CurrentTransaction = Context.Reference<pg.PoolClient | undefined>("deploy-mcp/db/CurrentTransaction", {
  defaultValue: () => undefined
})

export class Database extends Context.Service<Database, {
  readonly pool: pg.Pool
  /** Runs on the current transaction's client when inside `transaction`, on the pool otherwise. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: ReadonlyArray<unknown>): Effect.Effect<pg.QueryResult<R>, DatabaseError>
  /** The client to hand to libraries (pg-boss `db` option) so they join the current transaction. */
  readonly currentClient: Effect.Effect<Queryable>
  transaction<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R>
}>()("deploy-mcp/db/Database") {
  static readonly fromPool = (pool: pg.Pool) => Layer.succeed(Database, makeDatabase(pool))

  /** Owns a pool for the layer's lifetime. */
  static readonly layer = (url: string, options: { max?: number; applicationName?: string } = {}) =>
    Layer.effect(
      Database,
      Effect.acquireRelease(
        Effect.sync(() => new pg.Pool({ connectionString: url, max: options.max ?? 20, application_name: options.applicationName ?? "deploy-mcp" })),
        (pool) => Effect.promise(() => pool.end())
      ).pipe(Effect.map(makeDatabase))
    )
}

export const makeDatabase = (pool: pg.Pool): Database["Service"] => {
  // A pool error (e.g. the server restarted) must not crash the process; the next query reconnects.
  if (pool.listenerCount("error") === 0) pool.on("error", () => {})
  const currentClient: Effect.Effect<Queryable> = Effect.gen(function*() {
    return (yield* CurrentTransaction) ?? pool
  })
  const query = <R extends pg.QueryResultRow>(text: string, values?: ReadonlyArray<unknown>) =>
    Effect.flatMap(currentClient, (client) =>
      Effect.tryPromise({ try: () => client.query<R>(text, values as Array<unknown> | undefined), catch: toDatabaseError })
    )
  const transaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R> =>
    Effect.flatMap(Effect.gen(function*() { return yield* CurrentTransaction }), (existing) => {
      // Nested transactions join the outer one: one commit, one rollback.
      if (existing) return effect
      // A span per outermost transaction: traces show the write (and its enqueues) as one unit.
      return Effect.acquireUseRelease(
        Effect.tryPromise({ try: () => checkOut(pool), catch: toDatabaseError }).pipe(
          Effect.tap((checkout) => Effect.tryPromise({ try: () => checkout.client.query("BEGIN"), catch: toDatabaseError }).pipe(
            Effect.tapError(() => Effect.sync(() => checkout.release(true)))
          ))
        ),
        (checkout) =>
          effect.pipe(
            Effect.provideService(CurrentTransaction, checkout.client),
            Effect.tap(() => Effect.tryPromise({ try: () => checkout.client.query("COMMIT"), catch: toDatabaseError }))
          ),
        (checkout, exit) =>
          Exit.isSuccess(exit)
            ? Effect.sync(() => checkout.release())
            : Effect.promise(() => checkout.client.query("ROLLBACK").then(() => checkout.release(), (error: Error) => checkout.release(error)))
      ).pipe(Effect.withSpan("db.transaction", { attributes: { "db.system": "postgresql" } }))
    })
  return Database.of({ pool, query, currentClient, transaction })
}
