/**
 * The local runtime end to end, with real parts only: the server started as `npm start` starts it
 * (no Coolify, so APP_RUNTIME resolves to local), apps from real git repositories built and run
 * as real sandboxed processes, reached through the server's own HTTP router by Host header, a real
 * `git push` to the built-in remote, and a real restart of the server on the same database.
 */
import { after, before, describe, test } from "node:test"
import { Effect } from "effect"
import assert from "node:assert/strict"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { existsSync } from "node:fs"
import { readdir, writeFile } from "node:fs/promises"
import { request } from "node:http"
import { connect } from "node:net"
import path from "node:path"
import { appPaths } from "../../src/providers/local/paths.ts"
import { startSystem, type RunningSystem } from "../../src/system/boot.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import { startMcpSystem, structured, textOf, type McpTestSystem, type TestUser } from "../mcp/support.ts"
import { removeDir, tempDir } from "../support/postgres.ts"
import { waitFor } from "../support/wait.ts"
import { gitIn, makeRepo } from "./repos.ts"
import { runCli } from "../operator/cli.ts"

type App = StoredObject<"App">

let t: McpTestSystem
let system: RunningSystem
let alice: TestUser
let client: Client
let work: string
/** The second server of the restart test, stopped in `after`. */
let restarted: RunningSystem | undefined

/** A GET through the server's router with the app's Host header (`*.localhost` is not in this machine's resolver). */
const get = (appUrl: string, pathName = "/") =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const server = new URL(system.url)
    const host = new URL(appUrl).host
    const req = request({ host: server.hostname, port: server.port, path: pathName, headers: { host }, agent: false }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on("error", reject)
    req.end()
  })

/** The App as stored, or undefined once it is gone. */
const readApp = (name: string, owner: TestUser = alice): Promise<App | undefined> =>
  system.runtime.runPromise(
    ObjectStore.use((store) => store.get(owner.user.id, { kind: "App", project: "default", name })).pipe(
      Effect.catchTag("ObjectNotFound", () => Effect.succeed(undefined))
    )
  ) as Promise<App | undefined>

const conditionOf = (app: App | undefined, type: string) => app?.status.conditions?.find((c) => c.type === type)

/** Waits until the App's condition has this status (and reason, when given); returns the App. */
const waitForCondition = (name: string, type: string, status: "True" | "False", reason?: string, timeoutMs = 60_000) =>
  waitFor(
    async () => {
      const app = await readApp(name)
      const found = conditionOf(app, type)
      return found?.status === status && (reason === undefined || found.reason === reason) ? app : undefined
    },
    { timeoutMs, what: `${name} ${type}=${status}${reason ? ` ${reason}` : ""}` }
  ).catch(async (error: unknown) => {
    const app = await readApp(name)
    throw new Error(`${(error as Error).message}; conditions: ${JSON.stringify(app?.status.conditions ?? [], null, 1)}`)
  })

const call = async (name: string, args: Record<string, unknown>) => {
  const result = await client.callTool({ name, arguments: args })
  assert.notEqual(result.isError, true, textOf(result))
  return result
}

const buildsOf = async (uid: string) => {
  const dir = appPaths(path.resolve(t.env["DATA_DIR"]!), uid).builds
  return existsSync(dir) ? (await readdir(dir)).sort() : []
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

/** A Node app with no dependencies: its body, a crash switch, its port, and a file reader for the sandbox test. */
const nodeServer = (body: string) => `
const http = require("node:http")
const fs = require("node:fs")
http.createServer((req, res) => {
  const url = new URL(req.url, "http://app")
  if (url.pathname === "/crash") { res.end("bye"); setImmediate(() => process.exit(3)); return }
  if (url.pathname === "/port") { res.end(process.env.PORT); return }
  if (url.pathname === "/read") {
    try { res.end("READ " + fs.readFileSync(url.searchParams.get("path"), "utf8")) }
    catch (error) { res.end("DENIED " + error.code) }
    return
  }
  res.end(${JSON.stringify(body)})
}).listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening: " + ${JSON.stringify(body)}))
`

describe("local runtime", () => {
  before(async () => {
    // Crash restarts wait 1.5 s, so the Crashed condition is there to be seen before Ready returns.
    t = await startMcpSystem({ localRuntime: { backoff: { initialMs: 1_500 } } })
    system = t.system
    alice = await t.createUser("alice")
    client = await t.connect(alice.key)
    work = await tempDir("local-repos")
  })
  after(async () => {
    await client?.close().catch(() => undefined)
    if (restarted) {
      await restarted.stop()
      await t.db.drop()
      await removeDir(t.env["DATA_DIR"]!)
    } else await t?.stop()
    if (work) await removeDir(work)
  })

  test("a static site, a Node app and a Procfile app from local git repositories become Ready and serve their own body", async () => {
    const site = await makeRepo(path.join(work, "site"), { "index.html": "<h1>static site v1</h1>\n" })
    const node = await makeRepo(path.join(work, "node"), { "package.json": JSON.stringify({ name: "node-app", main: "server.js" }), "server.js": nodeServer("node app v1") })
    const proc = await makeRepo(path.join(work, "proc"), { Procfile: "web: node web.js\n", "web.js": nodeServer("procfile app v1") })
    await call("create_app", { name: "site", repo: site, build_pack: "static" })
    await call("create_app", { name: "node", repo: node })
    await call("create_app", { name: "proc", repo: proc })
    for (const [name, body] of [["site", "<h1>static site v1</h1>\n"], ["node", "node app v1"], ["proc", "procfile app v1"]] as const) {
      const app = await waitForCondition(name, "Ready", "True")
      const port = new URL(system.url).port
      assert.equal(app.status.url, `http://${name}.localhost:${port}`, "status.url is the URL that works")
      assert.equal(conditionOf(app, "Deployed")?.status, "True")
      assert.match(conditionOf(app, "Ready")?.message ?? "", /Serving http:\/\//)
      assert.doesNotMatch(conditionOf(app, "Ready")?.message ?? "", /WITHOUT a sandbox/, "bubblewrap is installed here: apps run sandboxed")
      const response = await get(app.status.url!)
      assert.equal(response.status, 200)
      assert.equal(response.body, body)
    }
    const plans = await Promise.all(["site", "node", "proc"].map(async (name) => (await readApp(name))?.status.latestDeployment?.plan))
    assert.deepEqual(plans, [
      { kind: "static", root: "." },
      { kind: "process", detectedFrom: "package.json", start: "node 'server.js'" },
      { kind: "process", detectedFrom: "Procfile", start: "node web.js" }
    ], "each deployment records the plan it ran")
    const unknown = await get("http://nothing-here.localhost")
    assert.equal(unknown.status, 404)
    assert.match(unknown.body, /nothing-here\.localhost/)
  })

  test("a Python app (app.py, no requirements) is detected and served by the sandbox's python3", async () => {
    const server = [
      "import os, http.server",
      "class Hello(http.server.BaseHTTPRequestHandler):",
      "    def do_GET(self):",
      "        body = b'python app v1'",
      "        self.send_response(200); self.send_header('content-length', str(len(body))); self.end_headers(); self.wfile.write(body)",
      "http.server.HTTPServer((os.environ['HOST'], int(os.environ['PORT'])), Hello).serve_forever()",
      ""
    ].join("\n")
    const repo = await makeRepo(path.join(work, "py"), { "app.py": server })
    await call("create_app", { name: "py", repo })
    const app = await waitForCondition("py", "Ready", "True")
    assert.deepEqual(app.status.latestDeployment?.plan, { kind: "process", detectedFrom: "python", start: "python3 app.py" })
    assert.deepEqual(await get(app.status.url!), { status: 200, body: "python app v1" })
  })

  test("another tenant's app of the same name is refused (HostTaken) and cannot take the first one's traffic", async () => {
    const bob = await t.createUser("bob")
    const bobClient = await t.connect(bob.key)
    const repo = await makeRepo(path.join(work, "bob-site"), { "index.html": "bob's page\n" })
    const created = await bobClient.callTool({ name: "create_app", arguments: { name: "site", repo, build_pack: "static" } })
    assert.notEqual(created.isError, true, textOf(created))
    const refused = await waitFor(async () => {
      const app = await readApp("site", bob)
      return conditionOf(app, "Synced")?.reason === "HostTaken" ? app : undefined
    }, { what: "bob's site refused" })
    assert.match(conditionOf(refused, "Synced")?.message ?? "", /site\.localhost is already served by another app/)
    assert.equal(conditionOf(refused, "Ready")?.status, "False")
    assert.doesNotMatch(JSON.stringify(refused.status), /alice/, "nothing of the other tenant is shown")
    const alices = (await readApp("site"))!
    assert.equal((await get(alices.status.url!)).body, "<h1>static site v1</h1>\n", "the first app keeps its host")
    await bobClient.close()
  })

  test("an app cannot read the server's data folder or another app's files", async () => {
    const dataDir = path.resolve(t.env["DATA_DIR"]!)
    await writeFile(path.join(dataDir, "canary.txt"), "server secret")
    const site = (await readApp("site"))!
    const siteFile = path.join(appPaths(dataDir, site.metadata.uid).builds, (await buildsOf(site.metadata.uid))[0]!, "index.html")
    assert.ok(existsSync(siteFile), "the other app's file exists on the host")
    const node = (await readApp("node"))!
    for (const file of [path.join(dataDir, "canary.txt"), siteFile]) {
      const response = await get(node.status.url!, `/read?path=${encodeURIComponent(file)}`)
      assert.match(response.body, /^DENIED /, `the app read ${file}: ${response.body}`)
    }
    const own = await get(node.status.url!, `/read?path=${encodeURIComponent("server.js")}`)
    assert.match(own.body, /^READ /, "its own folder is readable")
  })

  test("the app's process dies → Ready=False Crashed with the exit code, then restarted and Ready", async () => {
    const node = (await readApp("node"))!
    const deploymentBefore = node.status.latestDeployment?.id
    assert.equal((await get(node.status.url!, "/crash")).body, "bye")
    const crashed = await waitForCondition("node", "Ready", "False", "Crashed", 20_000)
    assert.match(conditionOf(crashed, "Ready")?.message ?? "", /exited with code 3/)
    const back = await waitForCondition("node", "Ready", "True", undefined, 30_000)
    assert.equal(back.status.latestDeployment?.id, deploymentBefore, "a restart is not a deployment")
    assert.equal((await get(back.status.url!)).body, "node app v1")
  })

  test("a failing build keeps the previous version serving: Deployed=False BuildFailed, Ready stays True", async () => {
    await call("update_app", { name: "node", build_command: "echo compiling && exit 7" })
    const failed = await waitForCondition("node", "Deployed", "False", "BuildFailed")
    assert.match(conditionOf(failed, "Deployed")?.message ?? "", /compiling/, "the build log's tail is in the message")
    assert.equal(conditionOf(failed, "Ready")?.status, "True")
    assert.equal((await get(failed.status.url!)).body, "node app v1")
    // The failed build's log and the running version's output, as get_app_details shows them.
    const details = structured<{ deployLogs: { available: boolean; lines: Array<string> }; runtimeLogs: { available: boolean; lines: Array<string> } }>(
      await call("get_app_details", { name: "node", deploy_log_lines: 50, runtime_log_lines: 50 })
    )
    assert.equal(details.deployLogs.available, true)
    assert.ok(details.deployLogs.lines.some((line) => line.includes("compiling")), JSON.stringify(details.deployLogs))
    assert.ok(details.runtimeLogs.lines.some((line) => line.includes("listening: node app v1")), JSON.stringify(details.runtimeLogs))
    // And as the operator's describe shows them, read from the same files on this machine.
    const described = await runCli(["describe", "app", "node", "--user", "alice"], {
      DATABASE_URL: t.env["DATABASE_URL"]!,
      DATA_ENCRYPTION_KEY: t.env["DATA_ENCRYPTION_KEY"]!,
      DATA_DIR: t.env["DATA_DIR"]!
    })
    assert.equal(described.code, 0, described.stderr)
    assert.match(described.stdout, /Build Log:\n(.*\n)*.*compiling/)
    assert.match(described.stdout, /Runtime Log:\n(.*\n)*.*listening: node app v1/)
  })

  test("git push to the built-in remote → exactly one new deployment per push, no failed request during the swap", async () => {
    const created = await call("create_app", { name: "pushed" })
    assert.match(textOf(created), /git push/)
    await waitForCondition("pushed", "Deployed", "False", "WaitingForPush")
    const repo = await makeRepo(path.join(work, "pushed"), { "package.json": JSON.stringify({ name: "pushed", main: "server.js" }), "server.js": nodeServer("pushed v1") })
    const remote = `${system.url.replace("http://", `http://x:${alice.key}@`)}/git/default/pushed.git`
    await gitIn(repo, ["push", "--quiet", remote, "HEAD:refs/heads/main"])
    const first = await waitForCondition("pushed", "Ready", "True")
    assert.equal((await get(first.status.url!)).body, "pushed v1")
    const uid = first.metadata.uid
    assert.equal((await buildsOf(uid)).length, 1)

    let failures = 0
    let served = 0
    let polling = true
    const poller = (async () => {
      while (polling) {
        const response = await get(first.status.url!).catch(() => ({ status: 0, body: "" }))
        if (response.status === 200) served++
        else failures++
      }
    })()
    await writeFile(path.join(repo, "server.js"), nodeServer("pushed v2"))
    await gitIn(repo, ["commit", "--quiet", "-am", "v2"])
    await gitIn(repo, ["push", "--quiet", remote, "HEAD:refs/heads/main"])
    const second = await waitFor(async () => {
      const app = await readApp("pushed")
      return app?.status.latestDeployment?.state === "finished" && app.status.latestDeployment.id !== first.status.latestDeployment?.id ? app : undefined
    }, { timeoutMs: 60_000, what: "the second deployment" })
    await waitFor(async () => (await get(second.status.url!)).body === "pushed v2", { what: "v2 served" })
    polling = false
    await poller
    assert.equal(failures, 0, `${failures} requests failed during the swap (${served} served)`)
    assert.ok(served > 0)
    assert.equal((await buildsOf(uid)).length, 2, "one build per pushed commit")
    assert.equal(second.status.deployedRevision, await gitIn(repo, ["rev-parse", "HEAD"]))
  })

  test("a second server on the same database refuses to start the local runtime, and says why", async () => {
    const otherDir = await tempDir("second-replica")
    try {
      await assert.rejects(startSystem({ env: { ...t.env, DATA_DIR: otherDir } }), /Another Deploy MCP server already runs the local runtime on this database/)
    } finally {
      await removeDir(otherDir)
    }
  })

  test("after a server restart every app serves again without a rebuild", async () => {
    const before = new Map<string, { deployment: string | undefined; builds: ReadonlyArray<string> }>()
    for (const name of ["site", "node", "proc", "pushed"]) {
      const app = (await readApp(name))!
      before.set(name, { deployment: app.status.latestDeployment?.id, builds: await buildsOf(app.metadata.uid) })
    }
    await client.close()
    await system.stop()
    restarted = await startSystem({ env: t.env, localRuntime: { backoff: { initialMs: 1_500 } } })
    system = restarted
    for (const [name, body] of [["site", "<h1>static site v1</h1>\n"], ["node", "node app v1"], ["proc", "procfile app v1"], ["pushed", "pushed v2"]] as const) {
      const app = await waitFor(async () => {
        const found = await readApp(name)
        return found && conditionOf(found, "Ready")?.status === "True" && found.status.url?.endsWith(`:${new URL(system.url).port}`) ? found : undefined
      }, { timeoutMs: 60_000, what: `${name} Ready after the restart` })
      assert.equal((await get(app.status.url!)).body, body)
      assert.equal(app.status.latestDeployment?.id, before.get(name)?.deployment, `${name}: no new deployment`)
      assert.deepEqual(await buildsOf(app.metadata.uid), before.get(name)?.builds, `${name}: no rebuild`)
    }
  })

  test("delete_app stops the process, closes its port and removes its files and route", async () => {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js")
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js")
    client = new Client({ name: "e2e", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${system.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${alice.key}` } } }))
    const node = (await readApp("node"))!
    const port = Number((await get(node.status.url!, "/port")).body)
    assert.ok(await portOpen(port), "the app listens before the delete")
    await call("delete_app", { name: "node" })
    await waitFor(async () => (await readApp("node")) === undefined, { timeoutMs: 30_000, what: "the App gone" })
    assert.equal(await portOpen(port), false, "the port is closed")
    assert.equal(existsSync(appPaths(path.resolve(t.env["DATA_DIR"]!), node.metadata.uid).root), false, "its folder is removed")
    assert.equal((await get(node.status.url!)).status, 404)
  })
})
