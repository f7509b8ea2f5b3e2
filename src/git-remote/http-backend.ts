/**
 * Runs git's own smart-HTTP server, `git http-backend`, as a CGI program for one request: the
 * request body streams into it, its CGI headers become the HTTP status and headers, and its
 * output streams back. Git speaks git's protocol (and inflates gzip bodies itself); this module
 * only translates between Node's HTTP objects and CGI.
 *
 * The response is left open when the program ends: the caller may still have something to do
 * before the client is told the push is over (the revision write), and ends it itself.
 */
import { spawn } from "node:child_process"
import type { IncomingMessage, ServerResponse } from "node:http"

export interface CgiRequest {
  /** The folder holding the bare repositories (GIT_PROJECT_ROOT). */
  readonly projectRoot: string
  /** "/<repo>.git/info/refs" etc., relative to projectRoot. */
  readonly pathInfo: string
  readonly method: string
  readonly queryString: string
  /** Who pushes (REMOTE_USER): git enables receive-pack for authenticated requests only. */
  readonly remoteUser: string
  readonly remoteAddr: string
}

export interface CgiOutcome {
  /** The HTTP status git answered (200 when it named none). */
  readonly status: number
  /** The program's exit code (null when killed). */
  readonly exitCode: number | null
  readonly stderr: string
}

const HEADER_END = /\r?\n\r?\n/
const MAX_HEADER_BYTES = 64 * 1024
const MAX_STDERR = 8 * 1024
/** Git-Protocol (e.g. "version=2"): passed on so clients may use protocol v2. */
const GIT_PROTOCOL = /^[A-Za-z0-9=:,._-]{1,128}$/

const single = (value: string | ReadonlyArray<string> | undefined): string | undefined => (Array.isArray(value) ? value[0] : (value as string | undefined))

const parseHeaders = (block: string): { readonly status: number; readonly headers: Record<string, string> } => {
  let status = 200
  const headers: Record<string, string> = {}
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":")
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim()
    const value = line.slice(colon + 1).trim()
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500
    else headers[name] = value
  }
  return { status, headers }
}

export const runHttpBackend = (cgi: CgiRequest, request: IncomingMessage, response: ServerResponse): Promise<CgiOutcome> =>
  new Promise((resolve) => {
    const contentType = single(request.headers["content-type"])
    const contentLength = single(request.headers["content-length"])
    const contentEncoding = single(request.headers["content-encoding"])
    const gitProtocol = single(request.headers["git-protocol"])
    const child = spawn("git", ["http-backend"], {
      stdio: ["pipe", "pipe", "pipe"],
      // Only what CGI needs: the server's own environment (database URL, tokens) stays out.
      env: {
        PATH: process.env["PATH"] ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_PROJECT_ROOT: cgi.projectRoot,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: cgi.pathInfo,
        REQUEST_METHOD: cgi.method,
        QUERY_STRING: cgi.queryString,
        REMOTE_USER: cgi.remoteUser,
        REMOTE_ADDR: cgi.remoteAddr,
        ...(contentType ? { CONTENT_TYPE: contentType } : {}),
        ...(contentLength && /^[0-9]{1,15}$/.test(contentLength) ? { CONTENT_LENGTH: contentLength } : {}),
        ...(contentEncoding ? { HTTP_CONTENT_ENCODING: contentEncoding } : {}),
        ...(gitProtocol && GIT_PROTOCOL.test(gitProtocol) ? { GIT_PROTOCOL: gitProtocol } : {})
      }
    })
    let stderr = ""
    let status = 200
    let head: Buffer = Buffer.alloc(0)
    let headersSent = false
    let spawnFailed = false

    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.toString("utf8").slice(0, MAX_STDERR - stderr.length)
    })
    // The program may stop reading early (a refusal); the rest of the body is not needed.
    child.stdin.on("error", () => {})
    request.pipe(child.stdin)
    request.on("error", () => child.kill())
    response.on("close", () => {
      if (child.exitCode === null) child.kill()
    })

    child.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        if (!response.write(chunk)) {
          child.stdout.pause()
          response.once("drain", () => child.stdout.resume())
        }
        return
      }
      head = Buffer.concat([head, chunk])
      const text = head.toString("latin1")
      const end = HEADER_END.exec(text)
      if (!end) {
        if (head.length > MAX_HEADER_BYTES) child.kill()
        return
      }
      const parsed = parseHeaders(text.slice(0, end.index))
      status = parsed.status
      response.writeHead(status, parsed.headers)
      headersSent = true
      const rest = head.subarray(Buffer.byteLength(text.slice(0, end.index + end[0].length), "latin1"))
      if (rest.length > 0) response.write(rest)
    })

    child.on("error", (error) => {
      spawnFailed = true
      stderr += String(error)
    })
    child.on("close", (code) => {
      if (!headersSent) {
        status = 500
        if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain; charset=utf-8" })
        response.write(spawnFailed ? "The git remote is unavailable: git could not be started on the server.\n" : "git http-backend ended without an answer.\n")
      }
      resolve({ status, exitCode: spawnFailed ? null : code, stderr })
    })
  })
