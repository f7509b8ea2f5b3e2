import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import http from "node:http"
import type { AddressInfo } from "node:net"
import os from "node:os"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { after, before, describe, test } from "node:test"
import { Effect } from "effect"
import { CHECKOUT_MARKER, checkout, ensureCommit, fetchBranch } from "./git.ts"

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" }
  }).trim()

const commitFile = async (repo: string, file: string, content: string, message: string) => {
  await writeFile(path.join(repo, file), content)
  git(repo, "add", file)
  git(repo, "commit", "--quiet", "-m", message)
  return git(repo, "rev-parse", "HEAD")
}

const processesMentioning = async (text: string) => {
  const found: Array<string> = []
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")
    if (cmdline.includes(text)) found.push(cmdline.replaceAll("\0", " "))
  }
  return found
}

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const fail = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(effect))

describe("local git", () => {
  let root: string
  let repo: string
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-git-"))
    repo = path.join(root, "repo")
    git(root, "init", "--quiet", repo)
  })
  after(() => rm(root, { recursive: true, force: true }))

  test("fetchBranch creates the mirror and returns the branch head; a new commit moves it; checkout writes exactly that tree", async () => {
    const first = await commitFile(repo, "index.js", "console.log('one')\n", "first")
    const mirror = path.join(root, "app1", "mirror.git")
    const fetched = await run(fetchBranch({ mirror, url: repo, branch: "main" }))
    assert.equal(fetched.head, first)
    assert.equal(git(mirror, "rev-parse", "refs/heads/main"), first)

    const second = await commitFile(repo, "index.js", "console.log('two')\n", "second")
    assert.equal((await run(fetchBranch({ mirror, url: pathToFileURL(repo).href, branch: "main" }))).head, second)

    const into = path.join(root, "app1", "builds", "d1")
    await run(checkout({ mirror, sha: first, into }))
    assert.equal(await readFile(path.join(into, "index.js"), "utf8"), "console.log('one')\n")
    assert.equal((await readFile(path.join(into, CHECKOUT_MARKER), "utf8")).trim(), first)
    // The mirror stays bare: no index, no work tree files.
    assert.equal(existsSync(path.join(mirror, "index")), false)
    assert.equal(existsSync(path.join(mirror, "index.js")), false)
    assert.deepEqual((await readdir(path.dirname(into))).sort(), ["d1"])
  })

  test("checkout reuses a complete folder (build output kept), redoes a half-written one, refuses a folder of another commit", async () => {
    const sha = await commitFile(repo, "app.txt", "v1\n", "app v1")
    const mirror = path.join(root, "app2", "mirror.git")
    await run(fetchBranch({ mirror, url: repo, branch: "main" }))
    const into = path.join(root, "app2", "builds", "d1")
    await run(checkout({ mirror, sha, into }))
    await writeFile(path.join(into, "built.txt"), "from the build\n")
    await run(checkout({ mirror, sha, into }))
    assert.equal(await readFile(path.join(into, "built.txt"), "utf8"), "from the build\n")

    // No marker: an interrupted checkout. It is cleared and written again.
    await rm(path.join(into, CHECKOUT_MARKER))
    await writeFile(path.join(into, "app.txt"), "garbage")
    await run(checkout({ mirror, sha, into }))
    assert.equal(await readFile(path.join(into, "app.txt"), "utf8"), "v1\n")
    assert.equal(existsSync(path.join(into, "built.txt")), false)

    const other = await commitFile(repo, "app.txt", "v2\n", "app v2")
    await run(fetchBranch({ mirror, url: repo, branch: "main" }))
    const refused = await fail(checkout({ mirror, sha: other, into }))
    assert.equal(refused._tag, "GitFailed")
    assert.match(refused.message, /already holds commit/)
  })

  test("an unknown branch names the repository, the branch and the branches it has", async () => {
    git(repo, "branch", "--force", "dev")
    const mirror = path.join(root, "app3", "mirror.git")
    const error = await fail(fetchBranch({ mirror, url: repo, branch: "nope" }))
    assert.equal(error._tag, "GitBranchNotFound")
    assert.equal(error.message, `branch 'nope' not found in ${repo}; the repository has: dev, main.`)
  })

  test("an unreachable repository is a GitFailed naming it", async () => {
    const missing = path.join(root, "does-not-exist")
    const error = await fail(fetchBranch({ mirror: path.join(root, "app4", "mirror.git"), url: missing, branch: "main" }))
    assert.equal(error._tag, "GitFailed")
    assert.match(error.message, new RegExp(`Could not fetch branch 'main' from ${missing}`))
  })

  test("ensureCommit: the branch head, a commit only on another branch (by id), an unknown commit", async () => {
    const mirror = path.join(root, "app5", "mirror.git")
    const head = git(repo, "rev-parse", "main")
    await run(ensureCommit({ mirror, url: repo, branch: "main", sha: head }))
    assert.equal(git(mirror, "cat-file", "-t", head), "commit")

    git(repo, "checkout", "--quiet", "-b", "side")
    const side = await commitFile(repo, "side.txt", "side\n", "side only")
    git(repo, "checkout", "--quiet", "main")
    await run(ensureCommit({ mirror, url: repo, branch: "main", sha: side }))
    assert.equal(git(mirror, "cat-file", "-t", side), "commit")
    const into = path.join(root, "app5", "builds", "side")
    await run(checkout({ mirror, sha: side, into }))
    assert.equal(await readFile(path.join(into, "side.txt"), "utf8"), "side\n")
    // Pinned, so a force-push that drops it cannot let gc take a commit a deployment runs.
    assert.equal(git(mirror, "rev-parse", `refs/deploy-mcp/pinned/${side}`), side)

    const unknown = "0123456789abcdef0123456789abcdef01234567"
    const error = await fail(ensureCommit({ mirror, url: repo, branch: "main", sha: unknown }))
    assert.equal(error._tag, "GitCommitNotFound")
    assert.match(error.message, new RegExp(`commit ${unknown} does not exist in ${repo}`))
  })

  test("bad input is refused before git runs", async () => {
    const mirror = path.join(root, "app6", "mirror.git")
    const cases = [
      fetchBranch({ mirror, url: "ext::sh -c touch% /tmp/pwned", branch: "main" }),
      fetchBranch({ mirror, url: "ssh://git@example.com/x.git", branch: "main" }),
      fetchBranch({ mirror, url: "https://user:secret@example.com/x.git", branch: "main" }),
      fetchBranch({ mirror, url: repo, branch: "--upload-pack=evil" }),
      fetchBranch({ mirror, url: repo, branch: "a..b" }),
      fetchBranch({ mirror, url: "x".repeat(5000), branch: "main" }),
      ensureCommit({ mirror, url: repo, branch: "main", sha: "HEAD" }),
      checkout({ mirror: "relative/mirror", sha: "0123456789abcdef0123456789abcdef01234567", into: path.join(root, "x") })
    ]
    for (const effect of cases) assert.equal((await fail(effect as Effect.Effect<unknown, { _tag: string }>))._tag, "GitInvalidInput")
    assert.equal(existsSync(mirror), false)
  })

  test("a server that never answers is stopped at the timeout", async () => {
    const server = http.createServer(() => {})
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const { port } = server.address() as AddressInfo
      const started = Date.now()
      const error = await fail(fetchBranch({ mirror: path.join(root, "app8", "mirror.git"), url: `http://127.0.0.1:${port}/x.git`, branch: "main", timeoutMs: 1000 }))
      assert.equal(error._tag, "GitFailed")
      assert.match(error.message, /did not finish within 1 s and was stopped/)
      assert.ok(Date.now() - started < 10_000)
      // git and its git-remote-http helper (its own process) are both gone.
      const deadline = Date.now() + 5000
      let alive = await processesMentioning(`127.0.0.1:${port}`)
      while (alive.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        alive = await processesMentioning(`127.0.0.1:${port}`)
      }
      assert.deepEqual(alive, [])
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })

  test("credentials reach the server as a Basic header, and never the mirror's config, argv or the error", async () => {
    const token = "ghs_SuperSecretInstallationToken123"
    const seen: Array<string | undefined> = []
    const argvLeaks: Array<string> = []
    const server = http.createServer(async (request, response) => {
      seen.push(request.headers.authorization)
      // While git waits for this answer its processes are alive: none may carry the token in argv.
      for (const pid of await readdir("/proc").catch(() => [])) {
        if (!/^\d+$/.test(pid)) continue
        const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")
        if (cmdline.includes(token) || cmdline.includes(Buffer.from(`x-access-token:${token}`).toString("base64"))) argvLeaks.push(cmdline)
      }
      response.writeHead(404, { "content-type": "text/plain" }).end("not here")
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const { port } = server.address() as AddressInfo
      const url = `http://127.0.0.1:${port}/owner/private.git`
      const mirror = path.join(root, "app7", "mirror.git")
      const error = await fail(fetchBranch({ mirror, url, branch: "main", credentials: { username: "x-access-token", password: token } }))
      assert.equal(error._tag, "GitFailed")
      assert.match(error.message, new RegExp(`Could not fetch branch 'main' from ${url}`))
      assert.equal(seen[0], `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`)
      assert.deepEqual(argvLeaks, [])
      const everything = JSON.stringify(error) + error.message
      assert.equal(everything.includes(token), false)
      const config = git(mirror, "config", "--list", "--show-origin")
      assert.equal(config.includes(token), false)
      assert.equal(/extraheader|authorization/i.test(config), false)
      for (const file of await readdir(mirror, { recursive: true })) {
        const full = path.join(mirror, file)
        const content = await readFile(full, "utf8").catch(() => "")
        assert.equal(content.includes(token), false, file)
      }
    } finally {
      server.close()
    }
  })
})
