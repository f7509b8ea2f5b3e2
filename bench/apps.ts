/**
 * bench/apps: the App controller against the Coolify fake with 50 ms per call (issue 6).
 *
 *  (a) no rate limit: 1,000 apps created at once (one transaction) → all Ready. Reports the time
 *      (target ≤ 60 s) and Coolify calls per new app (target ≤ 3).
 *  (b) the fake enforcing 200 requests per window per token, as Coolify does per minute; the
 *      window is scaled down (BENCH_APPS_WINDOW_MS, default 6 s = 10× faster than real) so the
 *      run takes seconds. Reports convergence time as a ratio to the least time that limit allows
 *      for the calls made (target ≤ 1.1×) and the 429s received (target 0: the client paces itself).
 *  (c) steady state: a resync of the 1,000 unchanged apps; reports Coolify calls per resync
 *      (target: O(1) list calls, not one per app).
 *
 * `node bench/apps.ts` (or `npm run bench -- apps`). Ratios and counts, no assertions.
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { resyncKind } from "../controllers/engine/resync.ts"
import { createObject, inTransaction } from "../src/desired/write.ts"
import { UserStore } from "../src/store/users.ts"
import { startCoolifyFake, type CoolifyFake } from "../e2e/fakes/coolify/index.ts"
import { appSpec, startAppEngine, type AppEngine } from "../e2e/apps/support.ts"
import type { AppControllerSettings } from "../controllers/app/index.ts"
import { benchDatabase, quick, report, sized } from "./support.ts"

const APPS = sized("BENCH_APPS", 1_000, 40)
const LIMITED_APPS = sized("BENCH_APPS_LIMITED", 300, 30)
const LATENCY_MS = 50
// Quick mode keeps phase (b) limited (the calls span several windows) with a tenth of the limit.
const LIMIT = quick ? 20 : 200
const WINDOW_MS = sized("BENCH_APPS_WINDOW_MS", 6_000, 1_000)
/** The client's pacing: just under the limit (a sliding log never exceeds it in any window). */
const PACE = quick ? 19 : 196
const CONCURRENCY = quick ? 16 : 64

const SETTINGS: Partial<AppControllerSettings> = {
  deployPollMs: 1_000,
  observeMaxAgeMs: quick ? 1_000 : 5_000,
  listMinIntervalMs: 1_000,
  startGraceMs: 0,
  waitRetryMs: 5_000
}

const db = await benchDatabase()
// No start-up resync: phase (c) runs one on purpose.
await db.pool.query(`INSERT INTO engine_resync (kind, last_run) VALUES ('App', now()) ON CONFLICT (kind) DO UPDATE SET last_run = now()`)
const key = randomBytes(32)

const readyCount = async (owner: string): Promise<number> => {
  const result = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM objects WHERE owner = $1 AND kind = 'App'
        AND EXISTS (SELECT 1 FROM jsonb_array_elements(status->'conditions') c WHERE c->>'type' = 'Ready' AND c->>'status' = 'True')`,
    [owner]
  )
  return result.rows[0]?.n ?? 0
}

const queueIdle = async (): Promise<boolean> => {
  const result = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'reconcile-app' AND state IN ('created', 'retry', 'active')`
  )
  return result.rows[0]?.n === 0
}

const until = async (check: () => Promise<boolean>, what: string, timeoutMs = 600_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench/apps: gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const startFake = async (rateLimit: { limit: number; windowMs: number } | false): Promise<CoolifyFake> => {
  const fake = await startCoolifyFake({ rateLimit })
  fake.faults.latencyMs = LATENCY_MS
  // One big server: the bench measures the controller, not Coolify's build queue.
  fake.server.settings.concurrent_builds = 10_000
  fake.server.settings.deployment_queue_limit = 10_000
  return fake
}

/** Creates `count` apps in one transaction (all enqueued at commit) and waits until all are Ready. */
const createAndConverge = async (engine: AppEngine, login: string, count: number) => {
  const owner = (await engine.runtime.runPromise(UserStore.use((users) => users.ensure(login)))).id
  const started = performance.now()
  await engine.runtime.runPromise(
    inTransaction(
      Effect.forEach(Array.from({ length: count }, (_, index) => index), (index) =>
        createObject(owner, { kind: "App", name: `${login}-${index}`, spec: appSpec({ repo: `acme/${login}-${index}` }) })
      )
    )
  )
  await until(async () => (await readyCount(owner)) === count, `${count} apps Ready`)
  return { owner, seconds: (performance.now() - started) / 1000 }
}

const byEndpoint = (fake: CoolifyFake) =>
  Object.entries(fake.calls.byEndpoint())
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([endpoint, calls]) => `${endpoint}: ${calls}`)
    .join(", ")

// ---- (a) no rate limit
const open = await startFake(false)
const engineA = await startAppEngine({
  databaseUrl: db.url,
  key,
  coolify: { url: open.url, token: open.token, requestsPerMinute: 1_000_000 },
  settings: SETTINGS,
  engine: { concurrency: CONCURRENCY, pollingIntervalSeconds: 0.5, resyncSeconds: 3600 },
  poolSize: 40
})
const a = await createAndConverge(engineA, "a", APPS)
const callsA = open.calls.entries.length
report("apps (a) no rate limit, 50 ms per call", [
  { apps: APPS, seconds: a.seconds, target_seconds: 60, calls: callsA, calls_per_app: callsA / APPS, target_calls_per_app: 3 },
  { calls_by_endpoint: byEndpoint(open) }
])

// ---- (c) steady state: a resync of the same, unchanged apps
await until(queueIdle, "queue idle after (a)")
open.calls.reset()
// Past the shared snapshot's max age, so the resync has to look at Coolify again.
await new Promise((resolve) => setTimeout(resolve, SETTINGS.observeMaxAgeMs ?? 0))
const resyncStarted = performance.now()
const resynced = await engineA.runtime.runPromise(resyncKind("App", 5_000))
await until(queueIdle, "resync done")
const resyncSeconds = (performance.now() - resyncStarted) / 1000
const callsC = open.calls.entries.length
report("apps (c) steady state: one resync of unchanged apps", [
  { apps: resynced, seconds: resyncSeconds, calls: callsC, calls_per_app: callsC / Math.max(1, resynced), still_ready: await readyCount(a.owner) },
  { calls_by_endpoint: byEndpoint(open) || "(none)" }
])
await engineA.dispose()
await open.close()

// ---- (b) Coolify's rate limit, the client pacing itself
const limited = await startFake({ limit: LIMIT, windowMs: WINDOW_MS })
const engineB = await startAppEngine({
  databaseUrl: db.url,
  key,
  coolify: { url: limited.url, token: limited.token, requestsPerMinute: PACE, rateWindowMs: WINDOW_MS },
  settings: SETTINGS,
  engine: { concurrency: CONCURRENCY, pollingIntervalSeconds: 0.5, resyncSeconds: 3600 },
  poolSize: 40
})
const b = await createAndConverge(engineB, "b", LIMITED_APPS)
const callsB = limited.calls.entries.length
// Coolify's window opens with the first call: C calls need floor((C-1)/L) windows after the first.
const minimumSeconds = (Math.floor((callsB - 1) / LIMIT) * WINDOW_MS) / 1000
report(`apps (b) ${LIMIT} requests per ${WINDOW_MS / 1000} s window (Coolify: per 60 s), client paced at ${PACE}`, [
  {
    apps: LIMITED_APPS,
    seconds: b.seconds,
    calls: callsB,
    calls_per_app: callsB / LIMITED_APPS,
    minimum_seconds: minimumSeconds,
    ratio_to_minimum: minimumSeconds > 0 ? b.seconds / minimumSeconds : Number.NaN,
    target_ratio: 1.1,
    http_429: limited.calls.count({ status: 429 })
  },
  { calls_by_endpoint: byEndpoint(limited) }
])
await engineB.dispose()
await limited.close()
await db.close()
