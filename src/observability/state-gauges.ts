/**
 * Gauges read from PostgreSQL when Prometheus scrapes: reconcile queue depth and the age of the
 * oldest due job (pg-boss's job table), and objects by kind and Ready status. Read at scrape time
 * rather than counted in memory, so every replica reports the same shared truth.
 */
import { Effect } from "effect"
import { Database } from "../db/database.ts"
import type { MetricsService } from "./metrics.ts"

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/

export const collectStateGauges = (metrics: MetricsService, options: { readonly queueSchema: string }) =>
  Effect.gen(function*() {
    if (!SCHEMA_NAME.test(options.queueSchema)) return yield* Effect.die(new Error(`unexpected pg-boss schema name ${options.queueSchema}`))
    const db = yield* Database
    const schema = options.queueSchema
    const queues = yield* db.query<{ name: string; queued: string; deferred: string; active: string; oldest: number | null }>(
      `SELECT q.name,
              count(j.id) FILTER (WHERE j.state IN ('created', 'retry') AND j.start_after <= now()) AS queued,
              count(j.id) FILTER (WHERE j.state IN ('created', 'retry') AND j.start_after > now()) AS deferred,
              count(j.id) FILTER (WHERE j.state = 'active') AS active,
              extract(epoch FROM now() - min(j.start_after) FILTER (WHERE j.state IN ('created', 'retry') AND j.start_after <= now()))::float8 AS oldest
         FROM ${schema}.queue q LEFT JOIN ${schema}.job j ON j.name = q.name AND j.state IN ('created', 'retry', 'active')
        GROUP BY q.name`
    )
    const objects = yield* db.query<{ kind: string; ready: string; count: string }>(
      `SELECT kind,
              coalesce((SELECT c->>'status' FROM jsonb_array_elements(coalesce(status->'conditions', '[]'::jsonb)) c WHERE c->>'type' = 'Ready' LIMIT 1), 'Unknown') AS ready,
              count(*) AS count
         FROM objects GROUP BY 1, 2`
    )
    const { queueDepth, queueOldestJobAge, objects: objectGauge } = metrics.state
    queueDepth.reset()
    queueOldestJobAge.reset()
    objectGauge.reset()
    for (const row of queues.rows) {
      queueDepth.set({ queue: row.name, state: "queued" }, Number(row.queued))
      queueDepth.set({ queue: row.name, state: "deferred" }, Number(row.deferred))
      queueDepth.set({ queue: row.name, state: "active" }, Number(row.active))
      queueOldestJobAge.set({ queue: row.name }, Math.max(0, row.oldest ?? 0))
    }
    // Every kind/status pair is reported, with 0 where there are none, so a series never vanishes.
    for (const kind of ["App", "Resource", "Host"]) for (const ready of ["True", "False", "Unknown"]) objectGauge.set({ kind, ready }, 0)
    for (const row of objects.rows) objectGauge.set({ kind: row.kind, ready: row.ready }, Number(row.count))
  })
