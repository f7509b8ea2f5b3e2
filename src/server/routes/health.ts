/**
 * /healthz: the process is up. /readyz: it can serve — the database answers and every migration
 * is applied. Load balancers route by /readyz; orchestrators restart by /healthz.
 *
 * While the database is down /readyz answers 503 with a fixed word, not the driver's error: the
 * endpoint is public, and connection errors can name hosts, ports and users. The cause goes to
 * the log instead.
 */
import type { FastifyInstance } from "fastify"
import { Duration, Effect } from "effect"
import { Database } from "../../db/database.ts"
import { migrationsApplied } from "../../db/migrate.ts"
import type { ServerContext } from "../context.ts"

/** A database that accepts connections but never answers must still make /readyz answer. */
const CHECK_TIMEOUT = Duration.seconds(3)

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
        }).pipe(Effect.timeout(CHECK_TIMEOUT))
      )
      .catch((error: unknown) => {
        context.logger.warn({ err: error }, "readiness check: database unreachable")
        return { database: "unreachable", migrations: "unknown" }
      })
    const ready = checks.database === "ok" && checks.migrations === "ok"
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks })
  })
}
