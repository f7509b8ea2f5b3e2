/**
 * GitHub sign-in on the real server against the GitHub fake, without a browser: state bound to
 * the browser, PKCE, sealed token, session cookie, downgrade protection, sign-out, the App setup
 * callback verified with GitHub, and CSRF on every form.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { Effect, Option } from "effect"
import { GitHubInstallations } from "../../src/github/installations.ts"
import { GitHubTokenStore } from "../../src/github/tokens.ts"
import { UserStore } from "../../src/store/users.ts"
import { CookieJar, countRows, csrfTokenIn, signInThroughFake, startGitHubTestSystem, type GitHubTestSystem } from "./support.ts"

describe("GitHub sign-in", () => {
  let t: GitHubTestSystem
  before(async () => {
    t = await startGitHubTestSystem({ fake: { users: [{ login: "alice" }, { login: "bob" }], repos: [{ fullName: "alice/site", private: true }] } })
  })
  after(() => t.stop())

  const userId = async (login: string) => {
    const user = await t.system.runtime.runPromise(UserStore.use((users) => users.byLogin(login)))
    return Option.getOrThrow(user).id
  }
  const storedToken = async (login: string) =>
    Option.getOrThrow(await t.system.runtime.runPromise(GitHubTokenStore.use((tokens) => tokens.get(login)).pipe(Effect.provide(GitHubTokenStore.layer))))
  const storedTokenOf = async (login: string) => storedToken(await userId(login))

  test("/auth/github sends the browser to GitHub with state and an S256 PKCE challenge, bound by an HttpOnly cookie", async () => {
    const jar = new CookieJar()
    const start = await jar.fetch(`${t.system.url}/auth/github?return_to=https://evil.example/steal`)
    assert.equal(start.status, 302)
    const location = new URL(start.headers.get("location") ?? "")
    assert.equal(location.origin + location.pathname, `${t.fake.url}/login/oauth/authorize`)
    assert.equal(location.searchParams.get("client_id"), t.fake.clientId)
    assert.equal(location.searchParams.get("code_challenge_method"), "S256")
    assert.match(location.searchParams.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/)
    assert.match(location.searchParams.get("state") ?? "", /^[A-Za-z0-9_-]{43}$/)
    assert.equal(location.searchParams.get("redirect_uri"), `${t.system.url}/auth/github/callback`)
    assert.equal(location.searchParams.get("scope"), null)
    const cookie = jar.setCookies.find((line) => line.startsWith("dm_oauth="))
    assert.ok(cookie)
    assert.match(cookie, /HttpOnly/i)
    assert.match(cookie, /SameSite=Lax/i)
    assert.match(cookie, /Path=\/auth\/github/i)
    assert.doesNotMatch(cookie, /Secure/i, "plain http: no Secure flag")
    // The open redirect was dropped: the callback lands on the dashboard.
    t.fake.signIn("alice")
    const authorize = await fetch(location.toString(), { redirect: "manual" })
    const callback = await jar.fetch(authorize.headers.get("location") ?? "")
    assert.equal(callback.status, 303)
    assert.equal(callback.headers.get("location"), "/dashboard")
  })

  test("the callback creates the user, seals the token and starts a session", async () => {
    const jar = new CookieJar()
    const callback = await signInThroughFake(t, jar, "alice")
    assert.equal(callback.status, 303)
    const session = jar.setCookies.find((line) => line.startsWith("dm_session="))
    assert.ok(session)
    assert.match(session, /HttpOnly/i)
    assert.match(session, /SameSite=Lax/i)
    assert.match(session, /Max-Age=604800/i)
    assert.match(session, /Path=\//i)
    assert.ok(!jar.cookies.has("dm_oauth"), "the sign-in cookie is used once")
    const user = await t.system.runtime.runPromise(UserStore.use((users) => users.byLogin("alice")))
    assert.equal(Option.getOrThrow(user).githubId, t.fake.state.account("alice")?.id)
    const stored = await storedTokenOf("alice")
    assert.match(stored.token, /^gho_/)
    const raw = await t.db.pool.query<{ sealed: Buffer }>(`SELECT sealed FROM github_user_tokens`)
    assert.ok(raw.rows.every((row) => !row.sealed.toString("latin1").includes(stored.token)), "the token is not stored in clear")
    const dashboard = await jar.fetch(`${t.system.url}/dashboard`)
    assert.equal(dashboard.status, 200)
    assert.match(await dashboard.text(), /Signed in as <strong id="github-login">alice<\/strong>/)
  })

  test("a callback not started in this browser, with a wrong state, or a replayed code is refused", async () => {
    const jar = new CookieJar()
    t.fake.signIn("alice")
    const start = await jar.fetch(`${t.system.url}/auth/github`)
    const authorize = await fetch(start.headers.get("location") ?? "", { redirect: "manual" })
    const callbackUrl = new URL(authorize.headers.get("location") ?? "")

    const otherBrowser = await new CookieJar().fetch(callbackUrl.toString())
    assert.equal(otherBrowser.status, 400)
    const wrongState = new URL(callbackUrl)
    wrongState.searchParams.set("state", "x".repeat(43))
    const forged = await jar.fetch(wrongState.toString())
    assert.equal(forged.status, 400)
    assert.match(await forged.text(), /not started in this browser/)
    // The refused attempts consumed the cookie: even the genuine callback must start over.
    const late = await jar.fetch(callbackUrl.toString())
    assert.equal(late.status, 400)

    const fresh = new CookieJar()
    const ok = await signInThroughFake(t, fresh, "alice")
    assert.equal(ok.status, 303)
    const replayJar = new CookieJar()
    const start2 = await replayJar.fetch(`${t.system.url}/auth/github`)
    const state = new URL(start2.headers.get("location") ?? "").searchParams.get("state") ?? ""
    const usedCode = new URL(ok.url).searchParams.get("code")
    assert.ok(usedCode)
    const replay = await replayJar.fetch(`${t.system.url}/auth/github/callback?code=${usedCode}&state=${state}`)
    assert.equal(replay.status, 400, "a used or foreign code is rejected by GitHub's exchange (PKCE verifier or single use)")
  })

  test("downgrade protection: a sign-in without repo keeps the stored repo-scoped token while GitHub accepts it", async () => {
    const jar = new CookieJar()
    await signInThroughFake(t, jar, "bob", "?scope=repo")
    const withRepo = await storedTokenOf("bob")
    assert.deepEqual(withRepo.scopes, ["repo"])

    await signInThroughFake(t, new CookieJar(), "bob")
    const afterPlain = await storedTokenOf("bob")
    assert.equal(afterPlain.token, withRepo.token, "the repo-scoped token is kept")
    assert.deepEqual(afterPlain.scopes, ["repo"])
    assert.ok(t.fake.calls.some((call) => call.path === "/user" && call.status === 200), "GitHub was asked whether the stored token still works")

    t.fake.revokeUserToken(withRepo.token)
    await signInThroughFake(t, new CookieJar(), "bob")
    const afterRevoke = await storedTokenOf("bob")
    assert.notEqual(afterRevoke.token, withRepo.token, "a token GitHub no longer accepts is replaced")
    assert.deepEqual(afterRevoke.scopes, [])

    await signInThroughFake(t, new CookieJar(), "bob", "?scope=repo")
    assert.deepEqual((await storedTokenOf("bob")).scopes, ["repo"], "an upgrade always replaces")
  })

  test("sign-out needs the session's CSRF token and ends the session for good", async () => {
    const jar = new CookieJar()
    await signInThroughFake(t, jar, "alice")
    const sessionCookie = jar.cookies.get("dm_session") ?? ""
    const page = await (await jar.fetch(`${t.system.url}/dashboard`)).text()
    const csrf = csrfTokenIn(page)

    const noToken = await jar.fetch(`${t.system.url}/auth/signout`, { form: {} })
    assert.equal(noToken.status, 403)
    const crossSite = await jar.fetch(`${t.system.url}/auth/signout`, { form: { _csrf: csrf }, headers: { origin: "https://evil.example" } })
    assert.equal(crossSite.status, 403)
    const other = new CookieJar()
    await signInThroughFake(t, other, "alice")
    const otherCsrf = csrfTokenIn(await (await other.fetch(`${t.system.url}/dashboard`)).text())
    const foreign = await jar.fetch(`${t.system.url}/auth/signout`, { form: { _csrf: otherCsrf }, headers: { cookie: `dm_session=${sessionCookie}; dm_csrf=${otherCsrf}` } })
    assert.equal(foreign.status, 403, "a token of another session does not pass, even planted in the cookie")

    const out = await jar.fetch(`${t.system.url}/auth/signout`, { form: { _csrf: csrf } })
    assert.equal(out.status, 303)
    assert.ok(!jar.cookies.has("dm_session"))
    const replayed = await fetch(`${t.system.url}/dashboard`, { headers: { cookie: `dm_session=${sessionCookie}` } })
    assert.match(await replayed.text(), /Sign in with GitHub/, "the old cookie no longer opens the dashboard")
    const forgedCookie = await fetch(`${t.system.url}/dashboard`, { headers: { cookie: `dm_session=${sessionCookie.slice(0, -4)}AAAA` } })
    assert.match(await forgedCookie.text(), /Sign in with GitHub/)
  })

  test("API keys: created only with the session's CSRF token, shown once with the claude mcp add line, revoked", async () => {
    const jar = new CookieJar()
    await signInThroughFake(t, jar, "alice")
    const csrf = csrfTokenIn(await (await jar.fetch(`${t.system.url}/dashboard`)).text())
    const keysBefore = await countRows(t, `SELECT count(*) AS n FROM api_keys`)
    const refused = await jar.fetch(`${t.system.url}/dashboard/api-keys`, { form: { name: "laptop" } })
    assert.equal(refused.status, 403)
    assert.equal(await countRows(t, `SELECT count(*) AS n FROM api_keys`), keysBefore)

    const created = await jar.fetch(`${t.system.url}/dashboard/api-keys`, { form: { name: "laptop", _csrf: csrf } })
    assert.equal(created.status, 200)
    assert.equal(created.headers.get("cache-control"), "no-store")
    const html = await created.text()
    const key = /<pre id="api-key">(dk_live_[0-9A-Za-z]{40})<\/pre>/.exec(html)?.[1]
    assert.ok(key)
    assert.ok(html.includes(`claude mcp add --transport http deploy ${t.system.url}/mcp --header &#34;Authorization: Bearer ${key}&#34;`))
    const again = await (await jar.fetch(`${t.system.url}/dashboard`)).text()
    assert.ok(!again.includes(key), "the key is shown once")
    const prefix = key.slice(0, 16)
    assert.ok(again.includes(prefix))

    const bob = new CookieJar()
    await signInThroughFake(t, bob, "bob")
    const bobCsrf = csrfTokenIn(await (await bob.fetch(`${t.system.url}/dashboard`)).text())
    const notHis = await bob.fetch(`${t.system.url}/dashboard/api-keys/revoke`, { form: { prefix, _csrf: bobCsrf } })
    assert.equal(notHis.status, 404, "another user's key behaves like an unknown one")
    const revoked = await jar.fetch(`${t.system.url}/dashboard/api-keys/revoke`, { form: { prefix, _csrf: csrf } })
    assert.equal(revoked.status, 200)
    assert.equal(await countRows(t, `SELECT count(*) AS n FROM api_keys WHERE prefix = $1 AND revoked_at IS NOT NULL`, [prefix]), 1)
  })

  describe("the GitHub App setup callback", () => {
    test("is verified with GitHub: a made-up or someone else's installation id is refused", async () => {
      const jar = new CookieJar()
      await signInThroughFake(t, jar, "alice")
      const bobs = await t.fake.install("bob")
      const made = await jar.fetch(`${t.system.url}/auth/githubapp/callback?installation_id=987654&setup_action=install`)
      assert.equal(made.status, 403)
      const foreign = await jar.fetch(`${t.system.url}/auth/githubapp/callback?installation_id=${bobs.id}&setup_action=install`)
      assert.equal(foreign.status, 403)
      const alice = await userId("alice")
      const linked = await t.system.runtime.runPromise(GitHubInstallations.use((i) => i.linkedTo(alice, bobs.id)).pipe(Effect.provide(GitHubInstallations.layer)))
      assert.ok(Option.isNone(linked), "alice is not linked to bob's installation")
    })

    test("without a session it sends the browser to sign in and back", async () => {
      const answer = await new CookieJar().fetch(`${t.system.url}/auth/githubapp/callback?installation_id=5&setup_action=install`)
      assert.equal(answer.status, 303)
      assert.equal(answer.headers.get("location"), `/auth/github?return_to=${encodeURIComponent("/auth/githubapp/callback?installation_id=5&setup_action=install")}`)
    })

    test("a real installation of the user's is recorded and linked", async () => {
      const jar = new CookieJar()
      await signInThroughFake(t, jar, "alice")
      t.fake.configure({ webhook: null }) // only the callback may tell us
      const installation = await t.fake.install("alice", ["site"])
      const answer = await jar.fetch(`${t.system.url}/auth/githubapp/callback?installation_id=${installation.id}&setup_action=install`)
      assert.equal(answer.status, 303)
      assert.equal(answer.headers.get("location"), `/dashboard?installed=${installation.id}`)
      const alice = await userId("alice")
      const linked = await t.system.runtime.runPromise(GitHubInstallations.use((i) => i.linkedTo(alice, installation.id)).pipe(Effect.provide(GitHubInstallations.layer)))
      assert.equal(Option.getOrThrow(linked).accountLogin, "alice")
      const page = await (await jar.fetch(`${t.system.url}/dashboard?installed=${installation.id}`)).text()
      assert.match(page, /GitHub App: <span class="ok">installed<\/span>/)
      t.fake.configure({ webhook: { url: t.webhookUrl, secret: t.secret } })
    })
  })
})

describe("on https", () => {
  test("cookies are Secure when PUBLIC_URL is https", async () => {
    const t = await startGitHubTestSystem({ env: { PUBLIC_URL: "https://deploy.example.com" } })
    try {
      const jar = new CookieJar()
      const start = await jar.fetch(`${t.system.url}/auth/github`)
      assert.equal(new URL(start.headers.get("location") ?? "").searchParams.get("redirect_uri"), "https://deploy.example.com/auth/github/callback")
      assert.match(jar.setCookies.find((line) => line.startsWith("dm_oauth=")) ?? "", /Secure/)
    } finally {
      await t.stop()
    }
  })
})
