/**
 * bench/local-runtime: the local runtime on the whole system (issue 14), started as `npm start`
 * starts it, apps from real git repositories, requests through the server's own router.
 *
 *  (a) create_app → first 200 through the router, p50 of several runs, for a static site and a
 *      Node app with no dependencies; baseline: the same Node app started by hand
 *      (`node server.js` → first 200) in the same run. Targets: static ≤ 1 s, Node ≤ 3 s,
 *      overhead over the by-hand start ≤ 1.5 s.
 *  (b) a redeploy under a steady load (sequential requests): requests served and failed while the
 *      new version starts beside the old and traffic switches. Target: 0 failed.
 *
 * `node bench/local-runtime.ts` (or `npm run bench -- local-runtime`). Figures, no assertions.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { request } from "node:http"
import os from "node:os"
import path from "node:path"
import { ApiKeyStore } from "../src/auth/api-key-store.ts"
import { freePort } from "../src/db/embedded.ts"
import { UserStore } from "../src/store/users.ts"
import { startSystem } from "../src/system/boot.ts"
import { makeRepo } from "../e2e/local/repos.ts"
import { benchDatabase, percentile, report, sized } from "./support.ts"

const RUNS = sized("BENCH_LOCAL_RUNS", 5, 2)
const LOAD_SECONDS = sized("BENCH_LOCAL_LOAD_SECONDS", 0, 0)

const SERVER_JS = (body: string) =>
  `require("node:http").createServer((req, res) => res.end(${JSON.stringify(body)})).listen(Number(process.env.PORT), process.env.HOST)\n`

const db = await benchDatabase()
const dataDir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-bench-local-"))
const work = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-bench-repos-"))
const system = await startSystem({
  env: { DATABASE_URL: db.url, DATA_ENCRYPTION_KEY: randomBytes(32).toString("base64"), DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }
})
const server = new URL(system.url)

const key = await system.runtime.runPromise(
  Effect.gen(function*() {
    const user = yield* (yield* UserStore).ensure("bench")
    return (yield* (yield* ApiKeyStore).create(user.id, "bench")).key
  }).pipe(Effect.provide(ApiKeyStore.layer))
)
const client = new Client({ name: "bench", version: "1.0.0" })
await client.connect(new StreamableHTTPClientTransport(new URL(`${system.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }))

/** One GET to `port` with this Host header; the status, or 0 when the connection failed. */
const get = (port: number, host: string) =>
  new Promise<number>((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, agent: false }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
    })
    req.on("error", () => resolve(0))
    req.end()
  })

/** Seconds from `start()` to the first 200 (polling every 5 ms). */
const untilFirst200 = async (start: () => Promise<unknown>, port: () => number, host: string) => {
  const started = performance.now()
  await start()
  for (;;) {
    if ((await get(port(), host)) === 200) return (performance.now() - started) / 1000
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const callTool = async (name: string, args: Record<string, unknown>) => {
  const result = await client.callTool({ name, arguments: args })
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`)
}

const nodeRepo = await makeRepo(path.join(work, "node"), { "package.json": JSON.stringify({ name: "bench-node", main: "server.js" }), "server.js": SERVER_JS("node") })
const siteRepo = await makeRepo(path.join(work, "site"), { "index.html": "<h1>site</h1>\n" })

const byHand: Array<number> = []
const node: Array<number> = []
const site: Array<number> = []
for (let run = 0; run < RUNS; run++) {
  const port = await freePort()
  let child: ReturnType<typeof spawn> | undefined
  byHand.push(
    await untilFirst200(
      async () => {
        child = spawn(process.execPath, ["server.js"], { cwd: nodeRepo, env: { PORT: String(port), HOST: "127.0.0.1" }, stdio: "ignore" })
      },
      () => port,
      `127.0.0.1:${port}`
    )
  )
  child?.kill("SIGKILL")
  node.push(await untilFirst200(() => callTool("create_app", { name: `node-${run}`, repo: nodeRepo }), () => Number(server.port), `node-${run}.localhost`))
  site.push(await untilFirst200(() => callTool("create_app", { name: `site-${run}`, repo: siteRepo, build_pack: "static" }), () => Number(server.port), `site-${run}.localhost`))
}

// (b) a redeploy under load: requests in a loop while the new version starts and traffic switches.
let served = 0
let failed = 0
let loading = true
const load = (async () => {
  while (loading) {
    if ((await get(Number(server.port), "node-0.localhost")) === 200) served++
    else failed++
  }
})()
const redeployStarted = performance.now()
await callTool("redeploy", { name: "node-0" })
const deployments = async () =>
  (await db.pool.query<{ id: string | null; state: string | null }>(
    `SELECT status->'latestDeployment'->>'id' AS id, status->'latestDeployment'->>'state' AS state FROM objects WHERE kind = 'App' AND name = 'node-0'`
  )).rows[0]
const firstId = (await deployments())?.id
for (;;) {
  const latest = await deployments()
  if (latest?.state === "finished" && latest.id !== firstId) break
  if (latest?.state === "failed") throw new Error("the redeploy failed")
  await new Promise((resolve) => setTimeout(resolve, 20))
}
await new Promise((resolve) => setTimeout(resolve, LOAD_SECONDS * 1000))
loading = false
await load
const redeploySeconds = (performance.now() - redeployStarted) / 1000

const p50 = (values: ReadonlyArray<number>) => percentile(values, 50)
report("local-runtime", [
  { case: "node by hand (baseline)", runs: RUNS, p50_s: p50(byHand) },
  { case: "node create_app → 200", runs: RUNS, p50_s: p50(node), overhead_s: p50(node) - p50(byHand), target: "≤3 s, overhead ≤1.5 s" },
  { case: "static create_app → 200", runs: RUNS, p50_s: p50(site), ratio_to_baseline: p50(site) / p50(byHand), target: "≤1 s" },
  { case: "redeploy under load", seconds: redeploySeconds, served, failed, target: "failed=0" }
])

await client.close()
await system.stop()
await db.close()
await rm(dataDir, { recursive: true, force: true })
await rm(work, { recursive: true, force: true })
