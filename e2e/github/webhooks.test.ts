/**
 * /webhooks/github on the real server: signature checks, push → spec.revision through the write
 * path, replays and concurrent deliveries, and what is ignored.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { Webhooks } from "@octokit/webhooks"
import { pushEvent, randomSha, sendWebhook } from "../fakes/github/index.ts"
import { countRows, createApp, getApp, gitHubUser, startGitHubTestSystem, type GitHubTestSystem } from "./support.ts"

const jobsFor = (t: GitHubTestSystem, uid: string) =>
  countRows(t, `SELECT count(*) AS n FROM pgboss.job WHERE name = 'reconcile-app' AND singleton_key = $1`, [uid])

describe("GitHub push webhooks", () => {
  let t: GitHubTestSystem
  let alice: string
  let bob: string

  before(async () => {
    t = await startGitHubTestSystem({ logLevel: "info" })
    alice = (await gitHubUser(t, "alice")).id
    bob = (await gitHubUser(t, "bob")).id
  })
  after(() => t.stop())

  const push = (repo: string, ref: string, sha: string, deliveryId?: string) =>
    sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "push", payload: pushEvent({ repoFullName: repo, ref, after: sha }), ...(deliveryId ? { deliveryId } : {}) })

  test("a push to a branch sets spec.revision of every App on that repo and branch, across tenants", async () => {
    const site = await createApp(t, alice, "site", "alice/site")
    const mirror = await createApp(t, bob, "mirror", "Alice/Site") // GitHub names are case-insensitive
    const staging = await createApp(t, alice, "site-staging", "alice/site", "staging")
    const sha = randomSha()
    const answer = await push("alice/site", "main", sha)
    assert.equal(answer.status, 200)
    assert.deepEqual(JSON.parse(answer.body), { matched: 2, changed: 2 })
    for (const [owner, name, before] of [[alice, "site", site], [bob, "mirror", mirror]] as const) {
      const app = await getApp(t, owner, name)
      assert.equal(app.spec.revision, sha)
      assert.equal(app.metadata.generation, before.metadata.generation + 1)
      assert.deepEqual(app.spec.env, { SECRET: "x" }, "sealed env survives the webhook's write")
    }
    assert.equal((await getApp(t, alice, "site-staging")).metadata.generation, staging.metadata.generation, "other branch untouched")
    assert.ok(t.logs.some((line) => line["msg"] === "push applied" && line["changed"] === 2))
  })

  test("the same delivery again is a no-op; a new delivery of the same SHA changes nothing", async () => {
    await createApp(t, alice, "replay", "alice/replay")
    const sha = randomSha()
    const first = await push("alice/replay", "main", sha)
    assert.deepEqual(JSON.parse(first.body), { matched: 1, changed: 1 })
    const generation = (await getApp(t, alice, "replay")).metadata.generation
    const replay = await push("alice/replay", "main", sha, first.deliveryId)
    assert.equal(replay.status, 200)
    assert.deepEqual(JSON.parse(replay.body), { duplicate: true })
    const again = await push("alice/replay", "main", sha)
    assert.deepEqual(JSON.parse(again.body), { matched: 1, changed: 0 })
    assert.equal((await getApp(t, alice, "replay")).metadata.generation, generation)
  })

  test("100 concurrent deliveries of one push, then 100 delivery ids for one SHA: exactly one generation bump each", async () => {
    const created = await createApp(t, alice, "busy", "alice/busy")
    const sha = randomSha()
    const deliveryId = crypto.randomUUID()
    const same = await Promise.all(Array.from({ length: 100 }, () => push("alice/busy", "main", sha, deliveryId)))
    assert.ok(same.every((answer) => answer.status === 200))
    assert.equal(same.filter((answer) => JSON.parse(answer.body).changed === 1).length, 1)
    assert.equal(same.filter((answer) => JSON.parse(answer.body).duplicate === true).length, 99)
    let app = await getApp(t, alice, "busy")
    assert.equal(app.metadata.generation, created.metadata.generation + 1)
    assert.equal(app.spec.revision, sha)

    const next = randomSha()
    const distinct = await Promise.all(Array.from({ length: 100 }, () => push("alice/busy", "main", next)))
    assert.ok(distinct.every((answer) => answer.status === 200))
    assert.equal(distinct.filter((answer) => JSON.parse(answer.body).changed === 1).length, 1)
    app = await getApp(t, alice, "busy")
    assert.equal(app.metadata.generation, created.metadata.generation + 2)
    assert.equal(app.spec.revision, next)
    assert.equal(await countRows(t, `SELECT count(*) AS n FROM github_webhook_deliveries WHERE delivery_id = $1`, [deliveryId]), 1)
    // No controller runs here, so every enqueue of the key is still waiting in one collapsed job.
    assert.equal(await jobsFor(t, app.metadata.uid), 1)
  })

  test("a push older than the one applied (a late or replayed delivery) does not roll the App back", async () => {
    await createApp(t, alice, "ordered", "alice/ordered")
    const at = (sha: string, pushedAt: number) => {
      const payload = pushEvent({ repoFullName: "alice/ordered", ref: "main", after: sha })
      return sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "push", payload: { ...payload, repository: { ...payload.repository, pushed_at: pushedAt } } })
    }
    const now = Math.floor(Date.now() / 1000)
    const newer = randomSha()
    assert.deepEqual(JSON.parse((await at(newer, now)).body), { matched: 1, changed: 1 })
    const late = await at(randomSha(), now - 60)
    assert.deepEqual(JSON.parse(late.body), { stale: true, matched: 0, changed: 0 })
    assert.equal((await getApp(t, alice, "ordered")).spec.revision, newer)
    assert.ok(t.logs.some((line) => line["msg"] === "push ignored: a newer push of this branch was applied already"))
    const next = randomSha()
    assert.deepEqual(JSON.parse((await at(next, now + 1)).body), { matched: 1, changed: 1 })
    assert.equal((await getApp(t, alice, "ordered")).spec.revision, next)
  })

  test("tags, branch deletions and untracked repositories are ignored with a log line", async () => {
    const app = await createApp(t, alice, "tagged", "alice/tagged")
    const tag = await push("alice/tagged", "refs/tags/v1.0.0", randomSha())
    assert.deepEqual(JSON.parse(tag.body), { ignored: "not a branch" })
    const deletion = await sendWebhook({
      url: t.webhookUrl,
      secret: t.secret,
      event: "push",
      payload: { ...pushEvent({ repoFullName: "alice/tagged", ref: "main", after: "0".repeat(40) }), deleted: true }
    })
    assert.deepEqual(JSON.parse(deletion.body), { ignored: "branch deleted" })
    const elsewhere = await push("alice/unknown", "main", randomSha())
    assert.deepEqual(JSON.parse(elsewhere.body), { matched: 0, changed: 0 })
    assert.equal((await getApp(t, alice, "tagged")).metadata.generation, app.metadata.generation)
    const messages = t.logs.map((line) => line["msg"])
    assert.ok(messages.includes("push ignored: not a branch (tags do not deploy)"))
    assert.ok(messages.includes("push ignored: the branch was deleted"))
    assert.ok(messages.includes("push ignored: no App tracks this repository and branch"))
  })

  test("a large genuine push (over Fastify's 1 MiB default, under GitHub's 25 MB) is accepted", async () => {
    await createApp(t, alice, "big", "alice/big")
    const sha = randomSha()
    const payload = { ...pushEvent({ repoFullName: "alice/big", ref: "main", after: sha }), padding: "x".repeat(3 * 1024 * 1024) }
    const answer = await sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "push", payload })
    assert.equal(answer.status, 200)
    assert.equal((await getApp(t, alice, "big")).spec.revision, sha)
  })

  test("unknown events answer 204 and ping answers 200, writing nothing", async () => {
    const before = await countRows(t, `SELECT count(*) AS n FROM github_webhook_deliveries`)
    const star = await sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "star", payload: { action: "created" } })
    assert.equal(star.status, 204)
    const ping = await sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "ping", payload: { zen: "Keep it logically awesome." } })
    assert.equal(ping.status, 200)
    assert.equal(await countRows(t, `SELECT count(*) AS n FROM github_webhook_deliveries`), before)
  })

  describe("refused deliveries change nothing", () => {
    const rawPost = async (body: string, headers: Record<string, string>) => {
      const response = await fetch(t.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": crypto.randomUUID(), ...headers },
        body
      })
      return { status: response.status, body: await response.text() }
    }
    const sign = (secret: string, body: string) => new Webhooks({ secret }).sign(body)

    let app: Awaited<ReturnType<typeof createApp>>
    let deliveries: number
    before(async () => {
      app = await createApp(t, alice, "guarded", "alice/guarded")
      deliveries = await countRows(t, `SELECT count(*) AS n FROM github_webhook_deliveries`)
    })
    const assertNothingWritten = async () => {
      const now = await getApp(t, alice, "guarded")
      assert.equal(now.metadata.generation, app.metadata.generation)
      assert.equal(now.spec.revision, null)
      assert.equal(await countRows(t, `SELECT count(*) AS n FROM github_webhook_deliveries`), deliveries)
    }
    const body = () => JSON.stringify(pushEvent({ repoFullName: "alice/guarded", ref: "main", after: randomSha() }))

    test("missing signature → 401", async () => {
      const answer = await rawPost(body(), {})
      assert.equal(answer.status, 401)
      assert.match(answer.body, /X-Hub-Signature-256 is missing/)
      await assertNothingWritten()
    })
    test("bad signature → 401", async () => {
      const payload = body()
      const answer = await rawPost(payload, { "x-hub-signature-256": `sha256=${"0".repeat(64)}` })
      assert.equal(answer.status, 401)
      const garbage = await rawPost(payload, { "x-hub-signature-256": "not-a-signature" })
      assert.equal(garbage.status, 401)
      await assertNothingWritten()
    })
    test("signed with the wrong secret → 401", async () => {
      const payload = body()
      const answer = await rawPost(payload, { "x-hub-signature-256": await sign("not-the-secret", payload) })
      assert.equal(answer.status, 401)
      await assertNothingWritten()
    })
    test("a signature over different bytes → 401 (the raw body is what is verified)", async () => {
      const payload = body()
      const reformatted = JSON.stringify(JSON.parse(payload), null, 2)
      const answer = await rawPost(reformatted, { "x-hub-signature-256": await sign(t.secret, payload) })
      assert.equal(answer.status, 401)
      await assertNothingWritten()
    })
    test("malformed JSON, correctly signed → 400", async () => {
      const payload = `{"ref": "refs/heads/main", "after": `
      const answer = await rawPost(payload, { "x-hub-signature-256": await sign(t.secret, payload) })
      assert.equal(answer.status, 400)
      await assertNothingWritten()
    })
    test("valid JSON that is not a push payload → 400", async () => {
      const payload = JSON.stringify({ ref: 42 })
      const answer = await rawPost(payload, { "x-hub-signature-256": await sign(t.secret, payload) })
      assert.equal(answer.status, 400)
      await assertNothingWritten()
    })
    test("oversized body → 413", async () => {
      const payload = JSON.stringify({ padding: "x".repeat(26 * 1024 * 1024) })
      const answer = await rawPost(payload, { "x-hub-signature-256": await sign(t.secret, payload) })
      assert.equal(answer.status, 413)
      await assertNothingWritten()
    })
    test("not JSON at all → 415", async () => {
      const payload = "payload=%7B%7D"
      const answer = await rawPost(payload, { "content-type": "application/x-www-form-urlencoded", "x-hub-signature-256": await sign(t.secret, payload) })
      assert.equal(answer.status, 415)
      await assertNothingWritten()
    })
  })
})

describe("without GITHUB_WEBHOOK_SECRET", () => {
  test("the endpoint is not served, and the log says why", async () => {
    const t = await startGitHubTestSystem({ env: { GITHUB_WEBHOOK_SECRET: undefined } })
    try {
      const answer = await sendWebhook({ url: t.webhookUrl, secret: "anything", event: "push", payload: pushEvent({ repoFullName: "alice/x", ref: "main", after: randomSha() }) })
      assert.equal(answer.status, 404)
      assert.ok(t.logs.some((line) => String(line["msg"]).startsWith("GITHUB_WEBHOOK_SECRET is not set: /webhooks/github is not served")))
    } finally {
      await t.stop()
    }
  })
})
