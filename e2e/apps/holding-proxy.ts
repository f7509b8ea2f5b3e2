/**
 * A pass-through HTTP proxy in front of the Coolify fake that can hold one chosen request: either
 * before Coolify sees it ("before": it never takes effect) or after Coolify answered ("after": it
 * took effect, but the caller never learns). Crash tests kill the caller while it waits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface HoldRule {
  readonly method: string
  /** Matched against the path with its query string, e.g. /api/v1/deploy?uuid=abc. */
  readonly url: RegExp
  /** Matched against the request body, when given. */
  readonly body?: RegExp
  readonly phase: "before" | "after"
}

interface ActiveHold extends HoldRule {
  readonly label: string
  reached: boolean
  resolve: () => void
  readonly reachedPromise: Promise<void>
}

export interface HoldingProxy {
  readonly url: string
  /** Holds the first request matching `rule`; the promise resolves once one was held. */
  hold(label: string, rule: HoldRule): Promise<void>
  /** Holds not reached yet, for messages. */
  pending(): ReadonlyArray<string>
  /** Drops every held request (their callers are gone) and forgets the rules. */
  releaseAll(): void
  close(): Promise<void>
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks)))
    request.on("error", reject)
  })

export const startHoldingProxy = async (target: string): Promise<HoldingProxy> => {
  const holds: Array<ActiveHold> = []
  const held: Array<ServerResponse> = []

  const forward = async (request: IncomingMessage, body: Buffer) => {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string" && name !== "host" && name !== "content-length" && name !== "connection") headers[name] = value
    }
    const answer = await fetch(`${target}${request.url ?? "/"}`, {
      method: request.method ?? "GET",
      headers,
      ...(body.length > 0 ? { body: body.toString("utf8") } : {})
    })
    const answerHeaders: Record<string, string> = {}
    answer.headers.forEach((value, name) => (answerHeaders[name] = value))
    return { status: answer.status, headers: answerHeaders, text: await answer.text() }
  }

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request)
      const text = body.toString("utf8")
      const hold = holds.find(
        (rule) => !rule.reached && rule.method === request.method && rule.url.test(request.url ?? "") && (rule.body === undefined || rule.body.test(text))
      )
      if (hold?.phase === "before") {
        hold.reached = true
        held.push(response)
        hold.resolve()
        return
      }
      const answer = await forward(request, body)
      if (hold) {
        hold.reached = true
        held.push(response)
        hold.resolve()
        return
      }
      delete answer.headers["content-length"]
      delete answer.headers["transfer-encoding"]
      delete answer.headers["connection"]
      response.writeHead(answer.status, answer.headers)
      response.end(answer.text)
    })().catch(() => response.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    hold: (label, rule) => {
      let resolve!: () => void
      const reachedPromise = new Promise<void>((done) => (resolve = done))
      holds.push({ ...rule, label, reached: false, resolve, reachedPromise })
      return reachedPromise
    },
    pending: () => holds.filter((hold) => !hold.reached).map((hold) => hold.label),
    releaseAll: () => {
      for (const response of held.splice(0)) response.destroy()
      holds.length = 0
    },
    close: async () => {
      for (const response of held.splice(0)) response.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
