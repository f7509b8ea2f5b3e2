import assert from "node:assert/strict"
import { createHash, randomBytes } from "node:crypto"
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises"
import http from "node:http"
import type { AddressInfo } from "node:net"
import os from "node:os"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import Fastify, { type FastifyInstance } from "fastify"
import WebSocket, { WebSocketServer } from "ws"
import { freePort } from "../../db/embedded.ts"
import { appHostMatcher, normalizeHost, registerAppRouter, RouteTable } from "./router.ts"

interface Answer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** One request with an explicit Host header and a raw path (no client-side normalisation of `..`). */
const request = (port: number, host: string, pathname: string, init: { method?: string; body?: Buffer } = {}) =>
  new Promise<Answer>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: pathname, method: init.method ?? "GET", headers: { host }, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(init.body)
  })

/** An upstream app: answers with its name and what it received. */
const startUpstream = async (name: string) => {
  const server = http.createServer((req, res) => {
    const hash = createHash("sha256")
    let bytes = 0
    req.on("data", (chunk: Buffer) => {
      hash.update(chunk)
      bytes += chunk.length
    })
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, bytes, sha256: hash.digest("hex") }))
    })
  })
  const sockets = new WebSocketServer({ server })
  sockets.on("connection", (socket, req) => {
    socket.on("message", (data) => socket.send(`${name} echo (${req.headers["x-forwarded-host"]}): ${String(data)}`))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const client of sockets.clients) client.terminate()
      sockets.close()
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

describe("app router", () => {
  let app: FastifyInstance
  let port: number
  let routes: RouteTable
  let upstreamA: Awaited<ReturnType<typeof startUpstream>>
  let upstreamB: Awaited<ReturnType<typeof startUpstream>>
  let site: string
  let scratch: string

  before(async () => {
    upstreamA = await startUpstream("A")
    upstreamB = await startUpstream("B")
    scratch = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-router-"))
    site = path.join(scratch, "site")
    await mkdir(path.join(site, "docs"), { recursive: true })
    await writeFile(path.join(site, "index.html"), "<h1>home</h1>")
    await writeFile(path.join(site, "style.css"), "body{}")
    await writeFile(path.join(site, "docs", "index.html"), "<h1>docs</h1>")
    await writeFile(path.join(site, ".env"), "SECRET=1")
    await writeFile(path.join(scratch, "outside.txt"), "outside the site")
    await symlink(path.join(scratch, "outside.txt"), path.join(site, "leak.txt"))
    await symlink(path.join(site, "style.css"), path.join(site, "alias.css"))

    routes = new RouteTable()
    app = Fastify({ trustProxy: true })
    registerAppRouter(app, {
      routes,
      isAppHost: appHostMatcher({ appDnsSuffix: "apps.example.com", serverHosts: ["localhost", "127.0.0.1", "deploy.apps.example.com"] }),
      serverHosts: ["localhost", "127.0.0.1", "deploy.apps.example.com"]
    })
    app.get("/healthz", async () => ({ ok: true }))
    app.post("/echo", async (req) => ({ got: req.body }))
    // Another upgrade handler of the server (say, for its own endpoints): the router must leave its upgrades alone.
    app.server.on("upgrade", (req, socket) => {
      if (normalizeHost(req.headers.host) === "localhost") socket.end("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    })
    await app.listen({ port: 0, host: "127.0.0.1" })
    port = (app.server.address() as AddressInfo).port
  })

  after(async () => {
    await app.close()
    await upstreamA.close()
    await upstreamB.close()
    await rm(scratch, { recursive: true, force: true })
  })

  test("hosts are normalised: lowercase, port and trailing dot stripped; junk matches nothing", () => {
    assert.equal(normalizeHost("Shop.LocalHost:8081"), "shop.localhost")
    assert.equal(normalizeHost("shop.apps.example.com."), "shop.apps.example.com")
    assert.equal(normalizeHost("[::1]:8081"), "[::1]")
    for (const junk of [undefined, "", "a b", "evil.com/x", "..", "x".repeat(400)]) assert.equal(normalizeHost(junk), undefined)
    const isApp = appHostMatcher({ appDnsSuffix: "apps.example.com", serverHosts: ["localhost", "deploy.apps.example.com"] })
    assert.equal(isApp("shop.localhost:8081"), true)
    assert.equal(isApp("shop.apps.example.com"), true)
    assert.equal(isApp("localhost"), false)
    assert.equal(isApp("apps.example.com"), false)
    assert.equal(isApp("deploy.apps.example.com"), false)
    assert.equal(isApp("example.org"), false)
  })

  test("Host routes to two different upstreams, with X-Forwarded headers and the original Host", async () => {
    routes.set("Shop.localhost:9999", { kind: "proxy", port: upstreamA.port })
    routes.set("blog.apps.example.com", { kind: "proxy", port: upstreamB.port })
    const a = await request(port, `shop.localhost:${port}`, "/cart?x=1")
    const b = await request(port, "blog.apps.example.com", "/posts")
    assert.equal(a.status, 200)
    const fromA = JSON.parse(a.body)
    assert.equal(fromA.name, "A")
    assert.equal(fromA.url, "/cart?x=1")
    assert.equal(fromA.headers.host, `shop.localhost:${port}`)
    assert.equal(fromA.headers["x-forwarded-host"], `shop.localhost:${port}`)
    assert.equal(fromA.headers["x-forwarded-proto"], "http")
    assert.equal(fromA.headers["x-forwarded-for"], "127.0.0.1")
    assert.equal(JSON.parse(b.body).name, "B")
    assert.equal(JSON.parse(b.body).url, "/posts")
  })

  test("a POST body larger than Fastify's body limit streams through intact", async () => {
    routes.set("shop.localhost", { kind: "proxy", port: upstreamA.port })
    const body = randomBytes(3 * 1024 * 1024)
    const answer = await request(port, "shop.localhost", "/upload", { method: "POST", body })
    assert.equal(answer.status, 200)
    const got = JSON.parse(answer.body)
    assert.equal(got.method, "POST")
    assert.equal(got.bytes, body.length)
    assert.equal(got.sha256, createHash("sha256").update(body).digest("hex"))
  })

  test("switching a host's target sends the next request to the new upstream", async () => {
    routes.set("swap.localhost", { kind: "proxy", port: upstreamA.port })
    assert.equal(JSON.parse((await request(port, "swap.localhost", "/")).body).name, "A")
    routes.set("swap.localhost", { kind: "proxy", port: upstreamB.port })
    assert.equal(JSON.parse((await request(port, "swap.localhost", "/")).body).name, "B")
    routes.remove("swap.localhost")
    assert.equal((await request(port, "swap.localhost", "/")).status, 404)
  })

  test("static sites: files, index.html for folders, 404 for missing, dotfiles, traversal and links out", async () => {
    routes.set("docs.localhost", { kind: "static", root: site })
    const home = await request(port, "docs.localhost", "/")
    assert.equal(home.status, 200)
    assert.equal(home.body, "<h1>home</h1>")
    assert.match(String(home.headers["content-type"]), /text\/html/)
    const css = await request(port, "docs.localhost", "/style.css?v=2")
    assert.equal(css.body, "body{}")
    assert.match(String(css.headers["content-type"]), /text\/css/)
    assert.equal((await request(port, "docs.localhost", "/alias.css")).body, "body{}")
    assert.equal((await request(port, "docs.localhost", "/docs/")).body, "<h1>docs</h1>")
    const redirect = await request(port, "docs.localhost", "/docs?q=1")
    assert.equal(redirect.status, 301)
    assert.equal(redirect.headers.location, "/docs/?q=1")
    assert.equal((await request(port, "docs.localhost", "/nope.html")).status, 404)
    for (const attempt of ["/../outside.txt", "/%2e%2e/outside.txt", "/docs/../../outside.txt", "/..%2foutside.txt", "/.env", "/leak.txt"]) {
      const refused = await request(port, "docs.localhost", attempt)
      assert.equal(refused.status, 404, attempt)
      assert.equal(refused.body.includes("outside the site") || refused.body.includes("SECRET"), false, attempt)
    }
    const post = await request(port, "docs.localhost", "/", { method: "POST", body: Buffer.from("x") })
    assert.equal(post.status, 405)
    const head = await request(port, "docs.localhost", "/style.css", { method: "HEAD" })
    assert.equal(head.status, 200)
    assert.equal(head.body, "")
  })

  test("an unavailable app answers 503 with its message; an unknown app host 404 naming it", async () => {
    routes.set("sleepy.localhost", { kind: "unavailable", message: "sleepy is building commit abc123; try again in a minute." })
    const unavailable = await request(port, "sleepy.localhost", "/")
    assert.equal(unavailable.status, 503)
    assert.equal(unavailable.body, "sleepy is building commit abc123; try again in a minute.\n")
    assert.match(String(unavailable.headers["content-type"]), /text\/plain/)
    const unknown = await request(port, `ghost.localhost:${port}`, "/anything")
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body, "No app is served at ghost.localhost.\n")
    assert.equal((await request(port, "ghost.apps.example.com", "/")).body, "No app is served at ghost.apps.example.com.\n")
  })

  test("a target that is down is a 502 with a clear text, and the server keeps serving", async () => {
    const dead = await freePort()
    routes.set("dead.localhost", { kind: "proxy", port: dead })
    const answer = await request(port, "dead.localhost", "/")
    assert.equal(answer.status, 502)
    assert.equal(answer.body, `The app at dead.localhost did not answer (port ${dead}: nothing is listening on its port). It may be starting or may have crashed; check its status and logs.\n`)
    assert.equal((await request(port, `localhost:${port}`, "/healthz")).status, 200)
  })

  test("the server's own hosts keep their routes, body parsing and 404s, even if the table names them", async () => {
    routes.set("deploy.apps.example.com", { kind: "proxy", port: upstreamA.port })
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "deploy.apps.example.com"]) {
      const health = await request(port, host, "/healthz")
      assert.equal(health.status, 200, host)
      assert.deepEqual(JSON.parse(health.body), { ok: true })
    }
    const echo = await new Promise<Answer>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, path: "/echo", method: "POST", headers: { host: `localhost:${port}`, "content-type": "application/json" } }, (res) => {
        let body = ""
        res.on("data", (chunk) => (body += chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on("error", reject)
      req.end(JSON.stringify({ hello: "world" }))
    })
    assert.deepEqual(JSON.parse(echo.body), { got: { hello: "world" } })
    assert.equal((await request(port, `localhost:${port}`, "/missing")).status, 404)
    // An app host's unknown path is the app's business, not the server's 404.
    routes.set("shop.localhost", { kind: "proxy", port: upstreamA.port })
    assert.equal(JSON.parse((await request(port, "shop.localhost", "/missing")).body).url, "/missing")
  })

  test("WebSockets are proxied to the app; unknown app hosts are refused; other upgrades are left alone", async () => {
    routes.set("chat.localhost", { kind: "proxy", port: upstreamB.port })
    const socket = new WebSocket(`ws://127.0.0.1:${port}/live`, { headers: { host: `chat.localhost:${port}` } })
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once("open", () => socket.send("hello"))
      socket.once("message", (data) => resolve(String(data)))
      socket.once("error", reject)
    })
    assert.equal(reply, `B echo (chat.localhost:${port}): hello`)
    socket.close()

    const statusOf = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const attempt = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host } })
        attempt.once("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? 0)
          attempt.terminate()
        })
        attempt.once("open", () => reject(new Error(`${host} unexpectedly opened`)))
        attempt.once("error", () => {})
      })
    assert.equal(await statusOf("ghost.localhost"), 404)
    routes.set("sleepy.localhost", { kind: "unavailable", message: "building" })
    assert.equal(await statusOf("sleepy.localhost"), 503)
    routes.set("down.localhost", { kind: "proxy", port: await freePort() })
    assert.equal(await statusOf("down.localhost"), 502)
    assert.equal(await statusOf(`localhost:${port}`), 418)
  })
})

test("RouteTable.drained waits for the requests still open to a port, and no longer than its bound", async () => {
  const routes = new RouteTable()
  let settled = false
  await routes.drained(4000, 10_000) // nothing open: at once
  const first = routes.track(4000)
  const second = routes.track(4000)
  const waiting = routes.drained(4000, 10_000).then(() => (settled = true))
  first()
  first() // a second call of one release counts once
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(settled, false, "one request is still open")
  second()
  await waiting
  assert.equal(settled, true)
  routes.track(4001) // never released: the bound ends the wait
  await routes.drained(4001, 50)
})
