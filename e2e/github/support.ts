/**
 * The real server (startSystem) wired to the GitHub fake, on a fresh test database, for the
 * GitHub e2e tests; plus small helpers to create Apps and read them back.
 */
import { randomBytes } from "node:crypto"
import { Writable } from "node:stream"
import { createObject } from "../../src/desired/write.ts"
import { ObjectStore } from "../../src/store/objects.ts"
import { UserStore, type User } from "../../src/store/users.ts"
import { startSystem, type RunningSystem } from "../../src/system/boot.ts"
import type { SpecOf } from "../../schemas/index.ts"
import { startGitHubFake, type GitHubFake, type GitHubFakeOptions } from "../fakes/github/index.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"

export interface GitHubTestSystem {
  readonly db: TestDatabase
  readonly key: Buffer
  readonly fake: GitHubFake
  readonly system: RunningSystem
  readonly secret: string
  readonly webhookUrl: string
  /** Log lines the server wrote (at LOG_LEVEL warn and above unless `logLevel` says otherwise). */
  readonly logs: Array<Record<string, unknown>>
  stop(): Promise<void>
}

export const startGitHubTestSystem = async (
  options: { readonly fake?: GitHubFakeOptions; readonly env?: Readonly<Record<string, string | undefined>>; readonly logLevel?: string } = {}
): Promise<GitHubTestSystem> => {
  const db = await createTestDatabase()
  const key = randomBytes(32)
  const secret = randomBytes(20).toString("hex")
  const fake = await startGitHubFake(options.fake ?? { users: [{ login: "alice" }, { login: "bob" }] })
  const logs: Array<Record<string, unknown>> = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") logs.push(JSON.parse(line) as Record<string, unknown>)
      done()
    }
  })
  const system = await startSystem({
    env: {
      DATABASE_URL: db.url,
      DATA_ENCRYPTION_KEY: key.toString("base64"),
      PORT: "0",
      LOG_LEVEL: options.logLevel ?? "warn",
      CONTROLLERS: "off",
      GITHUB_URL: fake.url,
      GITHUB_API_URL: fake.apiUrl,
      GITHUB_APP_ID: String(fake.appId),
      GITHUB_APP_SLUG: fake.appSlug,
      GITHUB_APP_PRIVATE_KEY: fake.appPrivateKey,
      GITHUB_CLIENT_ID: fake.clientId,
      GITHUB_CLIENT_SECRET: fake.clientSecret,
      GITHUB_WEBHOOK_SECRET: secret,
      SESSION_SECRET: randomBytes(32).toString("hex"),
      ...options.env
    },
    logDestination: destination
  })
  const webhookUrl = `${system.url}/webhooks/github`
  fake.configure({ callbackUrl: `${system.url}/auth/github`, setupUrl: `${system.url}/auth/githubapp/callback`, webhook: { url: webhookUrl, secret } })
  return {
    db,
    key,
    fake,
    system,
    secret,
    webhookUrl,
    logs,
    stop: async () => {
      await fake.settled()
      await system.stop()
      await fake.close()
      await db.drop()
    }
  }
}

export const appSpec = (repo: string, branch = "main"): SpecOf["App"] => ({
  repo,
  branch,
  revision: null,
  buildPack: "nixpacks",
  runtimeMode: "on_demand",
  env: { SECRET: "x" },
  resourceRefs: [],
  redeployNonce: 0
})

/** A user as GitHub sign-in would create it (the fake's account id as github id). */
export const gitHubUser = (t: GitHubTestSystem, login: string): Promise<User> => {
  const account = t.fake.state.account(login)
  if (!account) throw new Error(`the fake has no account ${login}`)
  return t.system.runtime.runPromise(UserStore.use((users) => users.upsertGitHub(account.id, login)))
}

export const createApp = (t: GitHubTestSystem, owner: string, name: string, repo: string, branch = "main") =>
  t.system.runtime.runPromise(createObject(owner, { kind: "App", name, spec: appSpec(repo, branch) }))

export const getApp = (t: GitHubTestSystem, owner: string, name: string) =>
  t.system.runtime.runPromise(ObjectStore.use((store) => store.get(owner, { kind: "App", name })))

export const countRows = async (t: GitHubTestSystem, sql: string, values: ReadonlyArray<unknown> = []): Promise<number> =>
  Number((await t.db.pool.query<{ n: string }>(sql, values as Array<unknown>)).rows[0]?.n ?? 0)

/** A minimal cookie jar for driving the browser routes with fetch (no redirects followed). */
export class CookieJar {
  readonly cookies = new Map<string, string>()
  /** Raw Set-Cookie headers seen, newest last. */
  readonly setCookies: Array<string> = []
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ")
  }
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      this.setCookies.push(line)
      const [pair = "", ...attributes] = line.split(";")
      const index = pair.indexOf("=")
      const name = pair.slice(0, index).trim()
      const value = pair.slice(index + 1).trim()
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute) || /^\s*expires=thu, 01 jan 1970/i.test(attribute))
      if (value === "" || expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
  async fetch(url: string, init: { readonly method?: string; readonly form?: Record<string, string>; readonly headers?: Record<string, string> } = {}): Promise<Response> {
    const response = await fetch(url, {
      method: init.method ?? (init.form ? "POST" : "GET"),
      redirect: "manual",
      headers: {
        ...(this.cookies.size > 0 ? { cookie: this.header() } : {}),
        ...(init.form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...init.headers
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {})
    })
    this.store(response)
    return response
  }
}

/**
 * The whole OAuth round trip without a browser: our /auth/github → the fake's authorize page
 * (acting at once for the signed-in fake user) → our callback. Returns the callback's answer.
 */
export const signInThroughFake = async (t: GitHubTestSystem, jar: CookieJar, login: string, query = ""): Promise<Response> => {
  t.fake.signIn(login)
  const start = await jar.fetch(`${t.system.url}/auth/github${query}`)
  if (start.status !== 302) throw new Error(`/auth/github answered ${start.status}`)
  const authorize = await fetch(start.headers.get("location") ?? "", { redirect: "manual" })
  if (authorize.status !== 302) throw new Error(`the fake's authorize page answered ${authorize.status}: ${await authorize.text()}`)
  return jar.fetch(authorize.headers.get("location") ?? "")
}

/** The CSRF token in a dashboard page's forms. */
export const csrfTokenIn = (html: string): string => {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (!match?.[1]) throw new Error("no CSRF token in the page")
  return match[1]
}
