/**
 * /healthz: the process is up. /readyz: it can serve — the database answers and every migration
 * is applied. Load balancers route by /readyz; orchestrators restart by /healthz.
 */
import type { FastifyInstance } from "fastify"
import { Effect } from "effect"
import { Database } from "../../db/database.ts"
import { migrationsApplied } from "../../db/migrate.ts"
import type { ServerContext } from "../context.ts"

export const registerHealthRoutes = (app: FastifyInstance, context: ServerContext) => {
  app.get("/healthz", async () => ({ status: "ok" }))
  app.get("/readyz", async (_request, reply) => {
    const checks = await context.runtime
      .runPromise(
        Effect.gen(function*() {
          const db = yield* Database
          yield* db.query("SELECT 1")
          const migrated = yield* Effect.promise(() => migrationsApplied(db.pool))
          return { database: "ok", migrations: migrated ? "ok" : "pending" }
        })
      )
      .catch((error: unknown) => ({ database: `unreachable: ${(error as Error).message}`, migrations: "unknown" }))
    const ready = checks.database === "ok" && checks.migrations === "ok"
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks })
  })
}
