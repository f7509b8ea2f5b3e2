/**
 * bench/mcp: what the MCP layer costs, measured beside its baselines in the same run.
 *
 * - Authenticated tools/list over Streamable HTTP (Host/Origin check, API key from the verifier's
 *   cache, token bucket, session lookup, SDK transport) vs. a bare Fastify POST route on the same
 *   machine: requests per second at the same concurrency. Target: ≥ 30 % of bare.
 * - create_app through /mcp (decode, repo normalisation, one transaction with the insert and the
 *   pg-boss send) vs. a bare INSERT + pg-boss send in one transaction: p50/p99 latency, one call at
 *   a time. Target: p50 ≤ 2× bare.
 *
 * - The size of tools/list, which every client reads at session start and the model pays for in
 *   every session: bytes and a token estimate (bytes / 4: no tokenizer is installed, and JSON with
 *   short keys tokenizes somewhat worse than that), beside the 46 KB (~11.5k tokens) it was before
 *   it was made lean. Target: ≤ half. (src/mcp/tools-list-budget.test.ts holds the byte budget.)
 *
 * Reports ratios, asserts nothing. `node bench/mcp.ts` (BENCH_SECONDS, BENCH_CREATES to tune).
 */
import Fastify from "fastify"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { PgBoss } from "pg-boss"
import { RETRY_POLICY } from "../controllers/engine/queue.ts"
import { ApiKeyStore } from "../src/auth/api-key-store.ts"
import { UserStore } from "../src/store/users.ts"
import { listToolsResult } from "../src/mcp/server.ts"
import { tools } from "../src/mcp/tools/index.ts"
import { startSystem } from "../src/system/boot.ts"
import { benchDatabase, percentile, quick, report, sized } from "./support.ts"

const SECONDS = sized("BENCH_SECONDS", 5, 1)
const CONCURRENCY = sized("BENCH_CONCURRENCY", 16, 8)
const CREATES = sized("BENCH_CREATES", 300, 25)
const WARMUP = quick ? 5 : 30

/**
 * Requests per second of each contender, measured in alternating half-second slices so that
 * background load on the machine hits all of them alike (the ratios are what matter).
 */
const throughputs = async (contenders: Record<string, () => Promise<void>>) => {
  const done: Record<string, number> = {}
  const spent: Record<string, number> = {}
  for (const send of Object.values(contenders)) for (let i = 0; i < 50; i++) await send()
  const slices = Math.max(1, Math.round((SECONDS * 1000) / 500))
  for (let slice = 0; slice < slices; slice++) {
    for (const [name, send] of Object.entries(contenders)) {
      const started = performance.now()
      const until = started + 500
      let count = 0
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < until) {
            await send()
            count++
          }
        })
      )
      done[name] = (done[name] ?? 0) + count
      spent[name] = (spent[name] ?? 0) + (performance.now() - started) / 1000
    }
  }
  return Object.fromEntries(Object.keys(contenders).map((name) => [name, (done[name] ?? 0) / (spent[name] ?? 1)]))
}

/** Latencies of one-at-a-time calls, contenders interleaved in rounds of 25 for the same reason. */
const latencies = async (count: number, contenders: Record<string, (index: number) => Promise<void>>) => {
  const samples: Record<string, Array<number>> = {}
  for (let round = 0; round * 25 < count; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      for (let i = round * 25; i < Math.min(count, (round + 1) * 25); i++) {
        const started = performance.now()
        await run(i)
        ;(samples[name] ??= []).push(performance.now() - started)
      }
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, { p50: percentile(values, 50), p99: percentile(values, 99) }]))
}

const db = await benchDatabase()
const system = await startSystem({
  env: {
    DATABASE_URL: db.url,
    DATA_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    // The bench measures the write path; reconciling would compete for the same CPU.
    CONTROLLERS: "off",
    MCP_RATE_LIMIT_PER_MINUTE: "100000000"
  }
})
// Two bare routes: a trivial answer, and the same tools/list answer (~23 KB) without the MCP
// machinery — the second separates what the protocol layer costs from what the payload costs.
const toolList = listToolsResult(tools)
const TOOLS_LIST_BYTES_BEFORE = 46_174
const toolListBytes = Buffer.byteLength(JSON.stringify(toolList))
const bare = Fastify()
bare.post("/bare", async (request) => ({ jsonrpc: "2.0", id: (request.body as { id?: number }).id ?? null, result: { ok: true } }))
bare.post("/bare-tools", async (request) => ({ jsonrpc: "2.0", id: (request.body as { id?: number }).id ?? null, result: toolList }))
await bare.listen({ port: 0, host: "127.0.0.1" })
const bareAddress = bare.server.address()
const bareUrl = `http://127.0.0.1:${typeof bareAddress === "object" && bareAddress ? bareAddress.port : 0}/bare`

try {
  const key = await system.runtime.runPromise(
    Effect.gen(function*() {
      const user = yield* (yield* UserStore).upsertGitHub(1, "bench")
      return (yield* (yield* ApiKeyStore).create(user.id, "bench")).key
    }).pipe(Effect.provide(ApiKeyStore.layer))
  )
  const mcpUrl = `${system.url}/mcp`
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` }
  const init = await fetch(mcpUrl, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } } })
  })
  await init.text()
  const session = { ...headers, "mcp-session-id": init.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": "2025-06-18" }
  let id = 1
  const post = async (url: string, body: unknown, requestHeaders: Record<string, string>) => {
    const response = await fetch(url, { method: "POST", headers: requestHeaders, body: JSON.stringify(body) })
    const text = await response.text()
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text}`)
    return text
  }

  const rps = await throughputs({
    bare: async () => void (await post(bareUrl, { jsonrpc: "2.0", id: id++, method: "tools/list" }, { "content-type": "application/json" })),
    bareTools: async () => void (await post(`${bareUrl}-tools`, { jsonrpc: "2.0", id: id++, method: "tools/list" }, { "content-type": "application/json" })),
    mcp: async () => void (await post(mcpUrl, { jsonrpc: "2.0", id: id++, method: "tools/list" }, session))
  })
  const [bareRps, bareToolsRps, listRps] = [rps.bare ?? 0, rps.bareTools ?? 0, rps.mcp ?? 0]

  // Baseline write: a bare INSERT and the same pg-boss send (a queue with the engine's policy and
  // retry options, singleton per key) in one transaction — what the write path cannot avoid.
  await db.pool.query(`CREATE TABLE bench_baseline (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), owner uuid, name text, spec jsonb, UNIQUE (owner, name))`)
  const boss = new PgBoss({ connectionString: db.url, schema: "pgboss", max: 4 })
  boss.on("error", () => {})
  await boss.start()
  await boss.createQueue("bench-baseline", { policy: "stately", ...RETRY_POLICY }).catch(() => undefined)
  const owner = crypto.randomUUID()
  const insertAndSend = async (i: number) => {
    const client = await db.pool.connect()
    try {
      await client.query("BEGIN")
      const row = await client.query<{ id: string }>(`INSERT INTO bench_baseline (owner, name, spec) VALUES ($1, $2, $3) RETURNING id`, [
        owner,
        `app-${i}`,
        { repo: "octo/shop", branch: "main", env: { A: "1" } }
      ])
      await boss.send("bench-baseline", { uid: row.rows[0]?.id }, {
        singletonKey: row.rows[0]?.id,
        ...RETRY_POLICY,
        db: { executeSql: (text: string, values?: Array<unknown>) => client.query(text, values) }
      })
      await client.query("COMMIT")
    } catch (error) {
      await client.query("ROLLBACK")
      throw error
    } finally {
      client.release()
    }
  }
  const createApp = async (i: number) => {
    const text = await post(
      mcpUrl,
      { jsonrpc: "2.0", id: id++, method: "tools/call", params: { name: "create_app", arguments: { repo: "octo/shop", name: `app-${i}`, env_vars: { A: "1" } } } },
      session
    )
    if (text.includes('"isError":true')) throw new Error(`create_app failed: ${text}`)
  }
  for (let i = 0; i < WARMUP; i++) {
    await insertAndSend(CREATES + i)
    await createApp(CREATES + i)
  }
  const writes = await latencies(CREATES, { insertAndSend, createApp })
  await boss.stop({ graceful: false, close: true })
  const created = writes.createApp ?? { p50: Number.NaN, p99: Number.NaN }
  const baseline = writes.insertAndSend ?? { p50: Number.NaN, p99: Number.NaN }

  report("bench/mcp", [
    {
      what: "tools/list size",
      bytes: toolListBytes,
      tokens_estimate_bytes_div_4: Math.round(toolListBytes / 4),
      bytes_before_lean: TOOLS_LIST_BYTES_BEFORE,
      ratio: toolListBytes / TOOLS_LIST_BYTES_BEFORE,
      target: "<= 0.50"
    },
    {
      what: "tools/list (authenticated, /mcp)",
      req_s: listRps,
      bare_fastify_req_s: bareRps,
      ratio: listRps / bareRps,
      bare_same_payload_req_s: bareToolsRps,
      ratio_same_payload: listRps / bareToolsRps,
      target: ">= 0.30"
    },
    {
      what: "create_app (one at a time)",
      p50_ms: created.p50,
      p99_ms: created.p99,
      bare_insert_send_p50_ms: baseline.p50,
      bare_insert_send_p99_ms: baseline.p99,
      p50_ratio: created.p50 / baseline.p50,
      target: "<= 2.0"
    }
  ])
} finally {
  await bare.close()
  await system.stop()
  await db.close()
}
