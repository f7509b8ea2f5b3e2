/**
 * MCP sessions (Streamable HTTP `Mcp-Session-Id`) of this process. A session belongs to the API
 * key that initialized it: another key presenting its id gets "not found", and revoking the key
 * closes its sessions at once (including open SSE streams). Sessions live in memory: on another
 * replica, or after a restart, the id is unknown → 404, and clients initialize a new session as
 * the MCP spec prescribes.
 */
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { randomUUID } from "node:crypto"

export interface Session {
  readonly id: string
  readonly keyId: string
  readonly transport: StreamableHTTPServerTransport
  readonly server: Server
  lastActive: number
  /** Open requests and SSE streams; a session with any is never idle. */
  open: number
}

export interface SessionLimits {
  /** Sessions idle (no open request or stream) this long are closed. */
  readonly idleMillis: number
  readonly maxPerKey: number
  readonly maxTotal: number
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMillis: 30 * 60_000, maxPerKey: 32, maxTotal: 10_000 }

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>()
  private readonly limits: SessionLimits
  private readonly newServer: () => Server
  private readonly sweeper: NodeJS.Timeout

  constructor(newServer: () => Server, limits: SessionLimits = DEFAULT_SESSION_LIMITS) {
    this.newServer = newServer
    this.limits = limits
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(60_000, limits.idleMillis))
    this.sweeper.unref()
  }

  /** A transport + server for an initialize request; registered once the SDK assigns the id. */
  async open(keyId: string): Promise<{ transport: StreamableHTTPServerTransport; server: Server }> {
    const server = this.newServer()
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.makeRoom(keyId)
        this.sessions.set(id, { id, keyId, transport, server, lastActive: Date.now(), open: 0 })
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id)
      }
    })
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId)
    }
    await server.connect(transport)
    return { transport, server }
  }

  /** The session with this id if it belongs to this key (otherwise it does not exist for them). */
  find(id: string, keyId: string): Session | undefined {
    const session = this.sessions.get(id)
    return session && session.keyId === keyId ? session : undefined
  }

  /** Track a request or stream on the session until `done` is called. */
  enter(session: Session): () => void {
    session.open++
    session.lastActive = Date.now()
    let left = false
    return () => {
      if (left) return
      left = true
      session.open--
      session.lastActive = Date.now()
    }
  }

  closeForKey(keyId: string): void {
    for (const session of [...this.sessions.values()]) if (session.keyId === keyId) this.close(session)
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper)
    await Promise.all([...this.sessions.values()].map((session) => this.close(session)))
  }

  get size(): number {
    return this.sessions.size
  }

  private close(session: Session): Promise<void> {
    this.sessions.delete(session.id)
    return session.server.close().catch(() => undefined)
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.limits.idleMillis
    for (const session of [...this.sessions.values()]) if (session.open === 0 && session.lastActive < cutoff) void this.close(session)
  }

  /** Keep within the caps by closing the least recently active sessions (of the key, then overall). */
  private makeRoom(keyId: string): void {
    const byAge = (sessions: Iterable<Session>) => [...sessions].sort((a, b) => a.lastActive - b.lastActive)
    const ofKey = byAge([...this.sessions.values()].filter((session) => session.keyId === keyId))
    for (const session of ofKey.slice(0, Math.max(0, ofKey.length - this.limits.maxPerKey + 1))) void this.close(session)
    const all = byAge(this.sessions.values())
    for (const session of all.slice(0, Math.max(0, all.length - this.limits.maxTotal + 1))) void this.close(session)
  }
}
