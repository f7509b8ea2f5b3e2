/**
 * The built-in git remote end to end: the real server over HTTP, the real git CLI pushing and
 * cloning through `git http-backend`, and App.spec read back from PostgreSQL.
 */
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { execFile } from "node:child_process"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import path from "node:path"
import { pushRemoteDir } from "../../src/providers/local/paths.ts"
import { ObjectStore } from "../../src/store/objects.ts"
import { startMcpSystem, structured, textOf, type McpTestSystem, type TestUser } from "../mcp/support.ts"
import { removeDir, tempDir } from "../support/postgres.ts"

interface GitResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let t: McpTestSystem
let alice: TestUser
let bob: TestUser
let client: Client
let home: string
let work: string

/** git with no user or system configuration and no way to prompt: only what the test passes counts. */
const git = (cwd: string, args: ReadonlyArray<string>) =>
  new Promise<GitResult>((resolve) => {
    execFile(
      "git",
      ["-c", "credential.helper=", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args],
      { cwd, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) })
    )
  })

const gitOk = async (cwd: string, args: ReadonlyArray<string>) => {
  const result = await git(cwd, args)
  assert.equal(result.code, 0, `git ${args.join(" ")} failed: ${result.stderr}`)
  return result.stdout.trim()
}

const remoteUrl = (key: string, project: string, name: string) => `${t.system.url.replace("http://", `http://x:${key}@`)}/git/${project}/${name}.git`

const readApp = (user: TestUser, name: string) =>
  t.system.runtime.runPromise(ObjectStore.use((store) => store.get(user.user.id, { kind: "App", project: "default", name })))

const commit = async (message: string) => {
  await writeFile(path.join(work, "index.html"), `<h1>${message}</h1>\n`)
  await gitOk(work, ["add", "index.html"])
  await gitOk(work, ["commit", "--quiet", "-m", message])
  return gitOk(work, ["rev-parse", "HEAD"])
}

const createPushApp = async (name: string) => {
  const result = await client.callTool({ name: "create_app", arguments: { name, build_pack: "static" } })
  assert.notEqual(result.isError, true, textOf(result))
  return result
}

describe("built-in git remote", () => {
  before(async () => {
    t = await startMcpSystem()
    alice = await t.createUser("alice")
    bob = await t.createUser("bob")
    client = await t.connect(alice.key)
    home = await tempDir("git-home")
    work = path.join(home, "work")
    await mkdir(work)
    await gitOk(work, ["init", "--quiet"])
  })
  after(async () => {
    await t?.stop()
    if (home) await removeDir(home)
  })

  test("create_app without repo returns the remote and the commands to push, never the key", async () => {
    const result = await createPushApp("web")
    const output = structured<{ app: { repo?: string; revision: string | null }; gitRemote: { url: string; commands: Array<string> } }>(result)
    assert.equal(output.app.repo, undefined)
    assert.equal(output.app.revision, null)
    assert.match(output.gitRemote.url, /\/git\/default\/web\.git$/)
    assert.deepEqual(output.gitRemote.commands, [`git remote add deploy ${output.gitRemote.url}`, "git push deploy main"])
    const text = textOf(result)
    assert.ok(text.includes(`git remote add deploy ${output.gitRemote.url} && git push deploy main`), text)
    assert.match(text, /password: give an API key/)
    assert.ok(!text.includes(alice.key) && !JSON.stringify(output).includes(alice.key))
  })

  test("a push to the app's branch sets spec.revision to the pushed SHA with one generation bump", async () => {
    const before = await readApp(alice, "web")
    const sha = await commit("first")
    await gitOk(work, ["push", "--quiet", remoteUrl(alice.key, "default", "web"), "HEAD:main"])
    const after = await readApp(alice, "web")
    assert.equal(after.spec.revision, sha)
    assert.equal(after.metadata.generation, before.metadata.generation + 1)

    const config = await readFile(path.join(pushRemoteDir(t.env["DATA_DIR"] ?? "", after.metadata.uid), "config"), "utf8")
    assert.ok(!config.includes(alice.key) && !config.includes("dk_live_"), "the bare repository's config holds no key")
  })

  test("the same SHA again, and pushes to another branch, change nothing", async () => {
    const before = await readApp(alice, "web")
    // Same commit under another ref: a real receive-pack whose branch head is unchanged.
    await gitOk(work, ["push", "--quiet", remoteUrl(alice.key, "default", "web"), "HEAD:refs/heads/preview"])
    await commit("preview only")
    await gitOk(work, ["push", "--quiet", remoteUrl(alice.key, "default", "web"), "HEAD:refs/heads/preview"])
    const after = await readApp(alice, "web")
    assert.equal(after.spec.revision, before.spec.revision)
    assert.equal(after.metadata.generation, before.metadata.generation)
  })

  test("a wrong key is refused with 401 and a Basic challenge; nothing is written", async () => {
    const before = await readApp(alice, "web")
    const url = `${t.system.url}/git/default/web.git/info/refs?service=git-receive-pack`
    const anonymous = await fetch(url)
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.headers.get("www-authenticate"), 'Basic realm="Deploy MCP"')
    const wrong = await fetch(url, { headers: { authorization: `Basic ${Buffer.from("x:dk_live_wrongwrongwrong").toString("base64")}` } })
    assert.equal(wrong.status, 401)
    assert.match(await wrong.text(), /Invalid or revoked API key/)

    await commit("with a wrong key")
    const pushed = await git(work, ["push", remoteUrl(`${alice.key.slice(0, -4)}abcd`, "default", "web"), "HEAD:main"])
    assert.notEqual(pushed.code, 0)
    assert.match(pushed.stderr, /Authentication failed/)
    const after = await readApp(alice, "web")
    assert.equal(after.spec.revision, before.spec.revision)
    assert.equal(after.metadata.generation, before.metadata.generation)
    const head = await gitOk(home, ["--git-dir", pushRemoteDir(t.env["DATA_DIR"] ?? "", after.metadata.uid), "rev-parse", "refs/heads/main"])
    assert.equal(head, before.spec.revision, "the bare repository did not take the push")
  })

  test("another tenant's key and an unknown app both look like a missing repository (404)", async () => {
    const before = await readApp(alice, "web")
    const asBob = await git(work, ["push", remoteUrl(bob.key, "default", "web"), "HEAD:main"])
    assert.notEqual(asBob.code, 0)
    assert.match(asBob.stderr, /not found/)
    const unknown = await git(work, ["push", remoteUrl(alice.key, "default", "nope"), "HEAD:main"])
    assert.notEqual(unknown.code, 0)
    assert.match(unknown.stderr, /not found/)
    const response = await fetch(`${t.system.url}/git/default/web.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Basic ${Buffer.from(`bob:${bob.key}`).toString("base64")}` }
    })
    assert.equal(response.status, 404)
    const after = await readApp(alice, "web")
    assert.equal(after.metadata.generation, before.metadata.generation)
  })

  test("git clone with the right key gets the deployed commit", async () => {
    const app = await readApp(alice, "web")
    await gitOk(home, ["clone", "--quiet", remoteUrl(alice.key, "default", "web"), "clone"])
    assert.equal(await gitOk(path.join(home, "clone"), ["rev-parse", "HEAD"]), app.spec.revision)
    assert.equal(await readFile(path.join(home, "clone", "index.html"), "utf8"), "<h1>first</h1>\n")
  })

  test("concurrent pushes of one app end with spec.revision at the head git kept", async () => {
    await createPushApp("race")
    const clones = await Promise.all(["a", "b"].map(async (side) => {
      const dir = path.join(home, `race-${side}`)
      await mkdir(dir)
      await gitOk(dir, ["init", "--quiet"])
      await writeFile(path.join(dir, "side"), side)
      await gitOk(dir, ["add", "side"])
      await gitOk(dir, ["commit", "--quiet", "-m", side])
      return dir
    }))
    const results = await Promise.all(clones.map((dir) => git(dir, ["push", "--force", remoteUrl(alice.key, "default", "race"), "HEAD:main"])))
    assert.ok(results.some((result) => result.code === 0), results.map((result) => result.stderr).join("\n"))
    const app = await readApp(alice, "race")
    const head = await gitOk(home, ["--git-dir", pushRemoteDir(t.env["DATA_DIR"] ?? "", app.metadata.uid), "rev-parse", "refs/heads/main"])
    assert.equal(app.spec.revision, head)
  })

  test("an app with a repo refuses pushes with what to do instead (403)", async () => {
    const created = await client.callTool({ name: "create_app", arguments: { name: "from-github", repo: "octocat/site" } })
    assert.notEqual(created.isError, true, textOf(created))
    assert.equal(structured<{ gitRemote?: unknown }>(created).gitRemote, undefined)
    const response = await fetch(`${t.system.url}/git/default/from-github.git/info/refs?service=git-receive-pack`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${alice.key}`).toString("base64")}` }
    })
    assert.equal(response.status, 403)
    assert.match(await response.text(), /deploys from octocat\/site; push there instead/)
  })

  test("create_app takes a local repository on a loopback server, stored as file://, and refuses a missing one", async () => {
    const created = await client.callTool({ name: "create_app", arguments: { name: "local", repo: `${work}/` } })
    assert.notEqual(created.isError, true, textOf(created))
    assert.equal(structured<{ app: { repo?: string } }>(created).app.repo, `file://${work}`)
    assert.match(textOf(created), new RegExp(`from ${work}@main`))
    const missing = await client.callTool({ name: "create_app", arguments: { name: "missing", repo: path.join(home, "nope") } })
    assert.equal(missing.isError, true)
    assert.match(textOf(missing), /does not exist on the server's machine/)
  })
})
