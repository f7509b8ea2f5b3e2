import { describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { execFileSync } from "node:child_process"
import { Effect, Result, Schema } from "effect"
import { MAX_REPO_LENGTH, RepoReference, repoLabel, repoSource } from "../../schemas/index.ts"
import { localReposAllowed } from "../config/runtime.ts"
import type { AppConfigValues } from "../config/config.ts"
import { checkLocalRepository } from "./local-repo.ts"
import { normalizeRepoInput, type RepoInputOptions } from "./normalize.ts"

const options: RepoInputOptions = { login: "alice", githubHost: "github.com", localAllowed: true }

const ok = (input: string, overrides: Partial<RepoInputOptions> = {}): string => {
  const result = normalizeRepoInput(input, { ...options, ...overrides })
  if (Result.isFailure(result)) assert.fail(`expected "${input}" to be accepted: ${result.failure.message}`)
  // Whatever is accepted is a valid stored form.
  assert.equal(Schema.is(RepoReference)(result.success), true, `${result.success} must match the spec's pattern`)
  return result.success
}

const refused = (input: string, overrides: Partial<RepoInputOptions> = {}): string => {
  const result = normalizeRepoInput(input, { ...options, ...overrides })
  if (Result.isSuccess(result)) assert.fail(`expected "${input}" to be refused, got ${result.success}`)
  assert.match(result.failure.message, /^repo: /)
  return result.failure.message
}

describe("normalizeRepoInput", () => {
  test("GitHub references keep their owner/name form", () => {
    assert.equal(ok("site"), "alice/site")
    assert.equal(ok("octocat/hello-world"), "octocat/hello-world")
    assert.equal(ok("https://github.com/octocat/hello-world.git"), "octocat/hello-world")
    assert.equal(ok("git@github.com:octocat/hello-world.git"), "octocat/hello-world")
    assert.equal(ok("https://ghe.example.com/acme/api", { githubHost: "ghe.example.com" }), "acme/api")
  })

  test("other https hosts keep the URL, without a trailing slash", () => {
    assert.equal(ok("https://gitlab.com/acme/site.git"), "https://gitlab.com/acme/site.git")
    assert.equal(ok("  https://GitLab.com/acme/site/  "), "https://gitlab.com/acme/site")
    assert.equal(ok("https://git.example.com:8443/group/sub/app"), "https://git.example.com:8443/group/sub/app")
  })

  test("a URL with credentials is refused, not silently cleaned", () => {
    assert.match(refused("https://bob:hunter2@gitlab.com/acme/site.git"), /contains credentials \(user:password@\)/)
    assert.match(refused("https://token@github.com/acme/site"), /contains credentials/)
  })

  test("queries, fragments, http, ssh to other hosts and other schemes are refused with the accepted forms", () => {
    assert.match(refused("https://gitlab.com/acme/site?ref=main"), /query or fragment/)
    assert.match(refused("https://gitlab.com/acme/site#readme"), /query or fragment/)
    assert.match(refused("http://gitlab.com/acme/site"), /only https:\/\/ git URLs/)
    assert.match(refused("https://gitlab.com/"), /no repository/)
    assert.match(refused("git@gitlab.com:acme/site.git"), /ssh address.*https:\/\//)
    assert.match(refused("ftp://example.com/site.git"), /ftp:, which is not supported/)
    assert.match(refused("   "), /is empty/)
  })

  test("the length is bounded before any pattern", () => {
    assert.match(refused(`https://gitlab.com/${"a".repeat(MAX_REPO_LENGTH)}`), new RegExp(`at most ${MAX_REPO_LENGTH}`))
  })

  test("local paths and file:// URLs become file:/// URLs of the resolved path", () => {
    assert.equal(ok("/srv/apps/site/"), "file:///srv/apps/site")
    assert.equal(ok("/srv/apps/../apps/site"), "file:///srv/apps/site")
    assert.equal(ok("file:///srv/my%20site"), "file:///srv/my%20site")
    assert.equal(ok("file://localhost/srv/site"), "file:///srv/site")
    assert.match(refused("file://other-host/srv/site"), /only this machine's paths/)
  })

  test("with LOCAL_REPOS off a local path is refused, naming LOCAL_REPOS", () => {
    assert.match(refused("/srv/site", { localAllowed: false }), /LOCAL_REPOS=on/)
    assert.match(refused("file:///srv/site", { localAllowed: false }), /LOCAL_REPOS=on/)
  })
})

describe("repoSource", () => {
  test("classifies every stored form", () => {
    assert.deepEqual(repoSource("octocat/site"), { _tag: "GitHub", fullName: "octocat/site" })
    assert.deepEqual(repoSource("https://gitlab.com/acme/site.git"), { _tag: "Git", url: "https://gitlab.com/acme/site.git" })
    assert.deepEqual(repoSource("file:///srv/my%20site"), { _tag: "Local", path: "/srv/my site" })
    assert.deepEqual(repoSource(undefined), { _tag: "Push" })
    assert.equal(repoLabel(undefined), "git push")
    assert.equal(repoLabel("file:///srv/site"), "/srv/site")
  })

  test("the spec refuses what the tools never store", () => {
    const valid = Schema.is(RepoReference)
    assert.equal(valid("https://bob:pw@gitlab.com/a/b"), false)
    assert.equal(valid("https://gitlab.com/a/b?x=1"), false)
    assert.equal(valid("http://gitlab.com/a/b"), false)
    assert.equal(valid("../etc"), false)
  })
})

describe("localReposAllowed", () => {
  const config = (HOST: string, LOCAL_REPOS?: "on" | "off") => ({ HOST, ...(LOCAL_REPOS ? { LOCAL_REPOS } : {}) }) as unknown as AppConfigValues
  test("on by default only on loopback; LOCAL_REPOS decides when set", () => {
    assert.equal(localReposAllowed(config("127.0.0.1")), true)
    assert.equal(localReposAllowed(config("0.0.0.0")), false)
    assert.equal(localReposAllowed(config("0.0.0.0", "on")), true)
    assert.equal(localReposAllowed(config("127.0.0.1", "off")), false)
  })
})

describe("checkLocalRepository", () => {
  const check = (dir: string) => Effect.runPromise(Effect.flip(checkLocalRepository(dir)).pipe(Effect.map((error) => error.message), Effect.orElseSucceed(() => "")))

  test("a git repository passes; a missing path, a file and a plain folder are refused with what to do", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-local-repo-"))
    try {
      const repo = path.join(root, "repo")
      execFileSync("git", ["init", "--quiet", repo])
      assert.equal(await Effect.runPromise(checkLocalRepository(repo)), undefined)
      assert.match(await check(path.join(root, "missing")), /does not exist on the server's machine/)
      await writeFile(path.join(root, "file"), "x")
      assert.match(await check(path.join(root, "file")), /is a file, not a folder/)
      assert.match(await check(root), /is not a git repository git can fetch from/)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
