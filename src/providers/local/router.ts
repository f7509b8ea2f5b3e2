/**
 * Traffic for apps the local runtime runs: a request whose Host names an app is answered by that
 * app's live version (its process, through a reverse proxy, or its static files), before Fastify
 * routes or parses anything, so bodies stream through untouched. Every other request (the server's
 * own host) falls through to the normal routes.
 *
 * The table is in memory: whoever starts or stops a version sets its route, and a restart
 * rebuilds it from the deployments.
 */
import { realpath, stat } from "node:fs/promises"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Duplex } from "node:stream"
import path from "node:path"
import send from "@fastify/send"
import { Context, Layer } from "effect"
import type { FastifyInstance } from "fastify"
import { createProxyServer } from "http-proxy-3"

export type RouteTarget =
  /** A process listening on loopback (or `address`) at `port`. */
  | { readonly kind: "proxy"; readonly port: number; readonly address?: string }
  /** Files under an absolute folder; directories serve their index.html. */
  | { readonly kind: "static"; readonly root: string }
  /** The app exists but serves nothing right now (building, crashed, stopped): 503 with this text. */
  | { readonly kind: "unavailable"; readonly message: string }

const MAX_HOST_LENGTH = 253
const MAX_MESSAGE_LENGTH = 2000

/**
 * A Host header as a bare lowercase host name: port and trailing dot removed, IPv6 brackets kept.
 * undefined for anything that is not a plausible host, so it never matches an app.
 */
export const normalizeHost = (host: string | undefined): string | undefined => {
  if (host === undefined || host.length === 0 || host.length > MAX_HOST_LENGTH + 8) return undefined
  const lower = host.trim().toLowerCase()
  if (lower.startsWith("[")) {
    const end = lower.indexOf("]")
    const inner = lower.slice(1, end)
    return end > 1 && /^[0-9a-f:.]+$/.test(inner) ? `[${inner}]` : undefined
  }
  const name = lower.replace(/:\d{1,5}$/, "").replace(/\.$/, "")
  return name.length > 0 && name.length <= MAX_HOST_LENGTH && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(name) && !name.includes("..") ? name : undefined
}

/** Which app version answers which host. Hosts are stored normalised, so `App.Localhost:8081` and `app.localhost` are one. */
export class RouteTable {
  readonly #routes = new Map<string, RouteTarget>()
  /** Proxied requests still open per upstream port: a version is retired only once its count is 0. */
  readonly #inFlight = new Map<number, number>()
  readonly #drainWaiters = new Map<number, Set<() => void>>()

  /** Counts a proxied request to `port` until the returned function is called (once). */
  track(port: number): () => void {
    this.#inFlight.set(port, (this.#inFlight.get(port) ?? 0) + 1)
    let done = false
    return () => {
      if (done) return
      done = true
      const left = (this.#inFlight.get(port) ?? 1) - 1
      if (left > 0) return void this.#inFlight.set(port, left)
      this.#inFlight.delete(port)
      for (const wake of this.#drainWaiters.get(port) ?? []) wake()
      this.#drainWaiters.delete(port)
    }
  }

  /** Resolves once no proxied request to `port` is open (no route points there any more), or after timeoutMs. */
  drained(port: number, timeoutMs: number): Promise<void> {
    if (!this.#inFlight.has(port)) return Promise.resolve()
    return new Promise((resolve) => {
      const waiters = this.#drainWaiters.get(port) ?? new Set<() => void>()
      this.#drainWaiters.set(port, waiters)
      const timer = setTimeout(() => {
        waiters.delete(wake)
        resolve()
      }, timeoutMs)
      const wake = () => {
        clearTimeout(timer)
        resolve()
      }
      waiters.add(wake)
    })
  }

  set(host: string, target: RouteTarget): void {
    const name = normalizeHost(host)
    if (name === undefined) throw new TypeError(`"${host.slice(0, 300)}" is not a host name a route can be set for.`)
    this.#routes.set(name, checkTarget(target))
  }

  remove(host: string): void {
    const name = normalizeHost(host)
    if (name !== undefined) this.#routes.delete(name)
  }

  get(host: string): RouteTarget | undefined {
    const name = normalizeHost(host)
    return name === undefined ? undefined : this.#routes.get(name)
  }

  hosts(): ReadonlyArray<string> {
    return [...this.#routes.keys()]
  }
}

const checkTarget = (target: RouteTarget): RouteTarget => {
  switch (target.kind) {
    case "proxy":
      if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new TypeError(`A proxy route needs a TCP port 1-65535, not ${target.port}.`)
      return target
    case "static":
      if (!path.isAbsolute(target.root)) throw new TypeError(`A static route needs an absolute folder, not "${target.root.slice(0, 300)}".`)
      return target
    case "unavailable":
      return { kind: "unavailable", message: target.message.slice(0, MAX_MESSAGE_LENGTH) }
  }
}

/** The process-wide route table as a service, shared by whoever starts versions and the HTTP server. */
export class AppRoutes extends Context.Service<AppRoutes, RouteTable>()("deploy-mcp/providers/local/AppRoutes") {
  static readonly layer = Layer.sync(AppRoutes, () => new RouteTable())
}

export interface AppHostOptions {
  /** APP_DNS_SUFFIX: `<name>.<suffix>` is an app host. `<name>.localhost` always is. */
  readonly appDnsSuffix: string
  /** Hosts the server itself answers at (localhost, 127.0.0.1, the PUBLIC_URL host): never an app. */
  readonly serverHosts: ReadonlyArray<string>
}

/** The usual predicate for registerAppRouter: a subdomain of `localhost` or of APP_DNS_SUFFIX, other than the server's own hosts. */
export const appHostMatcher = (options: AppHostOptions): ((host: string) => boolean) => {
  const own = new Set(options.serverHosts.map(normalizeHost).filter((host) => host !== undefined))
  const suffixes = [...new Set(["localhost", normalizeHost(options.appDnsSuffix)].filter((s) => s !== undefined))].map((s) => `.${s}`)
  return (host) => {
    const name = normalizeHost(host)
    return name !== undefined && !own.has(name) && suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length)
  }
}

export interface AppRouterOptions {
  readonly routes: RouteTable
  /** Hosts that belong to apps even when the table has no route for them (then: 404 naming the host). */
  readonly isAppHost: (host: string) => boolean
  /** Hosts that always go to the server's own routes, whatever the table says. */
  readonly serverHosts?: ReadonlyArray<string>
}

type Decision = { readonly host: string; readonly target: RouteTarget | undefined }

/** Whether a request's Host belongs to an app (and which route it has), or undefined: the server's own. */
export const appTrafficDecider = (options: AppRouterOptions): ((hostHeader: string | undefined) => Decision | undefined) => {
  const serverHosts = new Set((options.serverHosts ?? []).map(normalizeHost).filter((host) => host !== undefined))
  return (hostHeader) => {
    const host = normalizeHost(hostHeader)
    if (host === undefined || serverHosts.has(host)) return undefined
    const target = options.routes.get(host)
    return target !== undefined || options.isAppHost(host) ? { host, target } : undefined
  }
}

/**
 * Answers app hosts in an onRequest hook (register before the API routes) and proxies their
 * WebSocket upgrades. Other hosts and other upgrades are left alone.
 */
export const registerAppRouter = (fastify: FastifyInstance, options: AppRouterOptions): void => {
  const decide = appTrafficDecider(options)

  const proxy = createProxyServer({ ws: true, xfwd: false })
  // Errors reach the per-request callbacks; this listener only keeps a stray one from crashing the server.
  proxy.on("error", (_error, _req, res) => {
    if (res !== undefined && "destroy" in res) res.destroy()
  })
  const upgraded = new Set<Duplex>()

  fastify.addHook("onRequest", (request, reply, done) => {
    const decision = decide(request.headers.host)
    if (decision === undefined) return done()
    // From here on the raw request and response are ours: Fastify neither parses the body nor replies.
    reply.hijack()
    answer(request.raw, reply.raw, decision).catch((error: unknown) => {
      request.log.error({ err: error, host: decision.host }, "serving an app request failed")
      if (!reply.raw.headersSent) plainText(reply.raw, 500, `The app at ${decision.host} could not be served (correlation id ${request.id}).`)
      else reply.raw.destroy()
    })
    done()
  })

  const answer = async (req: IncomingMessage, res: ServerResponse, { host, target }: Decision): Promise<void> => {
    if (target === undefined) return plainText(res, 404, `No app is served at ${host}.`)
    switch (target.kind) {
      case "unavailable":
        return plainText(res, 503, target.message, { "retry-after": "5" })
      case "static":
        return serveStatic(req, res, target.root)
      case "proxy":
        setForwardedHeaders(req, host)
        // Counted until the response closes, so the version it reaches is not stopped under it.
        res.once("close", options.routes.track(target.port))
        proxy.web(req, res, { target: upstream(target) }, (error) => {
          if (res.headersSent) return res.destroy()
          plainText(res, 502, badGateway(host, target.port, error))
        })
    }
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const decision = decide(req.headers.host)
    if (decision === undefined) return
    socket.on("error", () => socket.destroy())
    const { host, target } = decision
    if (target?.kind !== "proxy") {
      const [status, text] = target === undefined ? [404, `No app is served at ${host}.`]
        : target.kind === "unavailable" ? [503, target.message]
        : [400, `The app at ${host} is a static site and does not accept WebSocket connections.`]
      return rawResponse(socket, status, text)
    }
    upgraded.add(socket)
    socket.once("close", () => upgraded.delete(socket))
    setForwardedHeaders(req, host)
    proxy.ws(req, socket, head, { target: upstream(target) }, (error) => rawResponse(socket, 502, badGateway(host, target.port, error)))
  }
  fastify.server.on("upgrade", onUpgrade)
  fastify.addHook("onClose", (_instance, done) => {
    fastify.server.off("upgrade", onUpgrade)
    // Upgraded sockets are no longer the HTTP server's, so its close would wait on them forever.
    for (const socket of upgraded) socket.destroy()
    done()
  })
}

const upstream = (target: { readonly port: number; readonly address?: string }) => `http://${target.address ?? "127.0.0.1"}:${target.port}`

const badGateway = (host: string, port: number, error: Error) => {
  const code = (error as NodeJS.ErrnoException).code
  const why = code === "ECONNREFUSED" ? "nothing is listening on its port" : code === "ECONNRESET" ? "it closed the connection" : (code ?? error.message)
  return `The app at ${host} did not answer (port ${port}: ${why}). It may be starting or may have crashed; check its status and logs.`
}

/** The app sees the client's address, the original Host and the scheme the client used. */
const setForwardedHeaders = (req: IncomingMessage, host: string) => {
  const client = req.socket.remoteAddress ?? ""
  const prior = req.headers["x-forwarded-for"]
  req.headers["x-forwarded-for"] = prior ? `${Array.isArray(prior) ? prior.join(", ") : prior}, ${client}` : client
  // Fastify runs with trustProxy: a scheme set by the proxy in front of us is the client's.
  const proto = req.headers["x-forwarded-proto"]
  const firstProto = (Array.isArray(proto) ? proto[0] : proto)?.split(",")[0]?.trim()
  req.headers["x-forwarded-proto"] = firstProto === "https" || firstProto === "http" ? firstProto : "encrypted" in req.socket ? "https" : "http"
  req.headers["x-forwarded-host"] = req.headers.host ?? host
}

const plainText = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
  const body = `${text}\n`
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...headers
  })
  res.end(res.req.method === "HEAD" ? undefined : body)
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 404: "Not Found", 502: "Bad Gateway", 503: "Service Unavailable" }

const rawResponse = (socket: Duplex, status: number, text: string) => {
  if (!socket.writable) return socket.destroy()
  const body = `${text}\n`
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  )
}

// ---------------------------------------------------------------------------------------------
// Static files. The folder is tenant-built, so a path is resolved to its real file first and served
// only when that file lies inside the real root: a symbolic link to /etc/passwd is a 404, as are
// dotfiles (.env) and any `..`.

const isInside = (root: string, real: string) => real === root || real.startsWith(root + path.sep)
const hasHiddenSegment = (relative: string) => relative.split(/[\\/]/).some((segment) => segment.startsWith("."))

const realOrUndefined = (file: string) => realpath(file).catch(() => undefined)

const serveStatic = async (req: IncomingMessage, res: ServerResponse, root: string): Promise<void> => {
  if (req.method !== "GET" && req.method !== "HEAD") return plainText(res, 405, "A static site answers only GET and HEAD.", { allow: "GET, HEAD" })
  const rawPath = (req.url ?? "/").split("?")[0] ?? "/"
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    return plainText(res, 400, "The request path is not valid percent-encoding.")
  }
  if (decoded.includes("\0") || !decoded.startsWith("/") || hasHiddenSegment(decoded.slice(1))) return notFound(res)
  const realRoot = await realOrUndefined(root)
  if (realRoot === undefined) return plainText(res, 503, "This site's files are not in place yet.", { "retry-after": "5" })

  let real = await realOrUndefined(path.join(realRoot, decoded))
  if (real === undefined || !isInside(realRoot, real)) return notFound(res)
  if ((await stat(real)).isDirectory()) {
    if (!decoded.endsWith("/")) {
      // Relative links in the directory's index.html resolve against the slash-terminated URL.
      const query = req.url?.includes("?") ? req.url.slice(req.url.indexOf("?")) : ""
      res.writeHead(301, { location: `${rawPath}/${query}`, "content-length": 0 })
      return void res.end()
    }
    real = await realOrUndefined(path.join(real, "index.html"))
    if (real === undefined || !isInside(realRoot, real)) return notFound(res)
  }
  const relative = path.relative(realRoot, real)
  if (hasHiddenSegment(relative) || !(await stat(real)).isFile()) return notFound(res)

  const result = await send(req, `/${relative.split(path.sep).map(encodeURIComponent).join("/")}`, {
    root: realRoot,
    dotfiles: "ignore",
    index: false
  })
  if (result.type === "error" && result.statusCode >= 500) throw result.metadata.error
  res.writeHead(result.statusCode, result.headers)
  result.stream.pipe(res)
}

const notFound = (res: ServerResponse) => plainText(res, 404, "Not found.")
