/**
 * The built-in git remote (push-to-deploy): smart HTTP at /git/<project>/<app>.git, served by
 * `git http-backend` (http-backend.ts). Before git sees a request: HTTP Basic with an API key as
 * the password (any username), and the key's user must own the app — an unknown app and another
 * tenant's look the same (404). Only apps without `repo` take pushes: their code has no other home.
 *
 * After a receive-pack, the app's branch head in the bare repository becomes `spec.revision`
 * through the same write as a GitHub push (desired/revision.ts). That step reads the head under a
 * per-app advisory lock inside its transaction, so concurrent pushes (git's ref locking lets one
 * win each ref update) are recorded in the order git applied them and never roll an app back.
 */
import { Cause, Effect, Exit, Option, Schema } from "effect"
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify"
import path from "node:path"
import { DnsLabel, repoLabel } from "../../schemas/index.ts"
import { ApiKeyVerifier, type Principal } from "../auth/api-key-verifier.ts"
import type { AppConfigValues } from "../config/config.ts"
import { Database } from "../db/database.ts"
import { setDesiredRevision } from "../desired/revision.ts"
import { inTransaction } from "../desired/write.ts"
import type { Logger } from "../log/logger.ts"
import type { McpRuntime } from "../mcp/runtime.ts"
import { TokenBuckets } from "../mcp/rate-limit.ts"
import { pushRemoteDir } from "../providers/local/paths.ts"
import { ObjectStore, type StoredObject } from "../store/objects.ts"
import { branchHead, ensureBareRepo } from "./bare-repo.ts"
import { runHttpBackend } from "./http-backend.ts"
import { GIT_REMOTE_PREFIX } from "./urls.ts"

export interface GitRemoteOptions {
  readonly runtime: McpRuntime
  readonly config: AppConfigValues
  readonly logger: Logger
  readonly publicUrl: string
}

type App = StoredObject<"App">

const isDnsLabel = Schema.is(DnsLabel)
type Service = "git-upload-pack" | "git-receive-pack"

const REALM = 'Basic realm="Deploy MCP"'
const MAX_AUTHORIZATION = 1024

/** The password of an HTTP Basic header; the username is ignored (git insists on one). */
const basicPassword = (header: string | undefined): string | undefined => {
  if (header === undefined || header.length > MAX_AUTHORIZATION) return undefined
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}

const text = (reply: FastifyReply, status: number, message: string) => reply.code(status).header("content-type", "text/plain; charset=utf-8").send(`${message}\n`)

export const registerGitRemoteRoutes = async (app: FastifyInstance, options: GitRemoteOptions) => {
  const { runtime, logger, config } = options
  const verifier = await runtime.runPromise(Effect.service(ApiKeyVerifier))
  // Same policy as /mcp: wrong keys cost an argon2 run each, so they are limited per address.
  const failedAuth = new TokenBuckets(60)
  const sweeper = setInterval(() => failedAuth.sweep(), 60_000)
  sweeper.unref()
  app.addHook("onClose", async () => clearInterval(sweeper))

  const howToAuthenticate = `Use an API key (dk_live_…) as the password, any username; create one with \`npm run cli -- apikey create --user <login>\` on the server or on the dashboard at ${options.publicUrl}/.`

  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<Principal | undefined> => {
    const key = basicPassword(request.headers.authorization)
    if (key === undefined) {
      await text(reply.header("www-authenticate", REALM), 401, `Authentication required. ${howToAuthenticate}`)
      return undefined
    }
    const verified = await runtime.runPromiseExit(verifier.verify(key))
    if (Exit.isFailure(verified)) {
      logger.error({ cause: Cause.pretty(verified.cause) }, "API key verification failed (git remote)")
      await text(reply.header("retry-after", "5"), 503, "Cannot verify API keys right now (the database is unreachable); retry in a few seconds.")
      return undefined
    }
    if (Option.isNone(verified.value)) {
      const limited = failedAuth.take(`ip:${request.ip}`)
      if (!limited.ok) {
        await text(reply.header("retry-after", String(limited.retryAfterSeconds)), 429, `Too many requests with invalid API keys from this address; retry after ${limited.retryAfterSeconds} s.`)
        return undefined
      }
      await text(reply.header("www-authenticate", REALM), 401, `Invalid or revoked API key. ${howToAuthenticate}`)
      return undefined
    }
    return verified.value.value
  }

  /** The caller's app behind the URL, or the refusal already sent. */
  const appOf = async (request: FastifyRequest<{ Params: { project: string; repo: string } }>, reply: FastifyReply, principal: Principal): Promise<App | undefined> => {
    const { project, repo } = request.params
    const name = repo.endsWith(".git") ? repo.slice(0, -".git".length) : repo
    const notFound = () => text(reply, 404, `Repository not found: you have no app '${name}' in project '${project}'. Create it with create_app (without repo), then push.`)
    if (project.length > 63 || name.length > 63 || !isDnsLabel(project) || !isDnsLabel(name)) {
      await notFound()
      return undefined
    }
    const found = await runtime.runPromiseExit(ObjectStore.use((store) => store.get(principal.userId, { kind: "App", project, name })))
    if (Exit.isFailure(found)) {
      const missing = Cause.findErrorOption(found.cause).pipe(Option.filter((error) => error._tag === "ObjectNotFound"))
      if (Option.isSome(missing)) await notFound()
      else {
        logger.error({ cause: Cause.pretty(found.cause) }, "git remote: could not read the app")
        await text(reply, 503, "Cannot read the app right now; retry in a few seconds.")
      }
      return undefined
    }
    const object = found.value
    if (object.metadata.deletionTimestamp) {
      await text(reply, 404, `Repository not found: app '${name}' in project '${project}' is being deleted.`)
      return undefined
    }
    if (object.spec.repo !== undefined) {
      await text(
        reply,
        403,
        `App '${name}' deploys from ${repoLabel(object.spec.repo)}; push there instead. The built-in git remote serves only apps created without repo.`
      )
      return undefined
    }
    return object
  }

  /** The pushed head of the app's branch becomes its desired revision; serialised per app. */
  const recordPush = (object: App, dir: string) =>
    inTransaction(
      Effect.gen(function*() {
        yield* Database.use((db) => db.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`git-remote:${object.metadata.uid}`]))
        // Fresh: the branch may have been changed since the request began.
        const current = yield* ObjectStore.use((store) => store.get(object.metadata.owner, { kind: "App", project: object.metadata.project, name: object.metadata.name }))
        const sha = yield* Effect.promise(() => branchHead(dir, current.spec.branch))
        if (sha === undefined) return { branch: current.spec.branch, changed: false, sha: undefined }
        const result = yield* setDesiredRevision({ owner: object.metadata.owner, project: object.metadata.project, name: object.metadata.name }, sha)
        return { branch: current.spec.branch, changed: result.changed, sha }
      })
    )

  const serve = (service: Service | undefined, suffix: string) =>
    async (request: FastifyRequest<{ Params: { project: string; repo: string } }>, reply: FastifyReply) => {
      if (service === undefined) {
        return text(reply, 403, "Only git's smart HTTP protocol is served here: use git 1.6.6 or newer (git clone / git push).")
      }
      const principal = await authenticate(request, reply)
      if (!principal) return reply
      const object = await appOf(request, reply, principal)
      if (!object) return reply
      const dir = pushRemoteDir(config.DATA_DIR, object.metadata.uid)
      await ensureBareRepo(dir, object.spec.branch)
      reply.hijack()
      const query = request.url.indexOf("?")
      const outcome = await runHttpBackend(
        {
          projectRoot: path.dirname(dir),
          pathInfo: `/${path.basename(dir)}${suffix}`,
          method: request.method,
          queryString: query < 0 ? "" : request.url.slice(query + 1),
          remoteUser: principal.login,
          remoteAddr: request.ip
        },
        request.raw,
        reply.raw
      )
      if (outcome.exitCode !== 0) logger.warn({ app: object.metadata.uid, service, status: outcome.status, stderr: outcome.stderr }, "git http-backend failed")
      if (request.method === "POST" && service === "git-receive-pack" && outcome.exitCode === 0) {
        const recorded = await runtime.runPromiseExit(recordPush(object, dir))
        if (Exit.isFailure(recorded)) logger.error({ app: object.metadata.uid, cause: Cause.pretty(recorded.cause) }, "git remote: could not record the pushed revision")
        else logger.info({ app: object.metadata.uid, ...recorded.value }, recorded.value.sha === undefined ? "push received; the app's branch was not pushed" : "push received")
      }
      reply.raw.end()
      return reply
    }

  await app.register(async (scope) => {
    // git's bodies are packfiles (often chunked, maybe gzip): git http-backend reads them raw.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null))
    const base = `${GIT_REMOTE_PREFIX}/:project/:repo`
    scope.get<{ Params: { project: string; repo: string }; Querystring: { service?: string } }>(`${base}/info/refs`, (request, reply) => {
      const asked = request.query.service
      return serve(asked === "git-upload-pack" || asked === "git-receive-pack" ? asked : undefined, "/info/refs")(request, reply)
    })
    scope.post<{ Params: { project: string; repo: string } }>(`${base}/git-upload-pack`, serve("git-upload-pack", "/git-upload-pack"))
    scope.post<{ Params: { project: string; repo: string } }>(`${base}/git-receive-pack`, serve("git-receive-pack", "/git-receive-pack"))
  })
}
