/**
 * One PostgreSQL LISTEN connection per process, fanned out to in-process subscribers by channel:
 * `wait: true` tool calls (object_changes) and the API key cache (api_key_changes) share it, so a
 * thousand waiting agents cost one connection, not a thousand.
 *
 * NOTIFY is not durable: while the connection is down, notifications are lost. After every
 * (re)connect each subscriber's `onReset` runs, so it re-reads what it watches instead of trusting
 * that nothing happened.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import pg from "pg"
import { Database } from "./database.ts"
import { AppLogger } from "../log/service.ts"
import type { Logger } from "../log/logger.ts"

export interface ListenHandlers {
  readonly onMessage: (payload: string) => void
  /** The connection was (re)established: notifications may have been missed. */
  readonly onReset?: () => void
}

export class PgListener extends Context.Service<PgListener, {
  /**
   * Subscribe for the lifetime of the scope. Returns once the channel is LISTENed on the live
   * connection (or, when it is down, once the subscription is registered: the reconnect resets it).
   */
  listen(channel: string, handlers: ListenHandlers): Effect.Effect<void, never, Scope.Scope>
}>()("deploy-mcp/db/PgListener") {
  static readonly layer = Layer.effect(
    PgListener,
    Effect.gen(function*() {
      const db = yield* Database
      const logger = yield* AppLogger
      const hub = yield* Effect.acquireRelease(
        Effect.sync(() => new ListenerHub(() => new pg.Client({ ...(db.pool.options as pg.ClientConfig), keepAlive: true }), logger)),
        (hub) => Effect.promise(() => hub.close())
      )
      return PgListener.of({
        listen: (channel, handlers) =>
          Effect.acquireRelease(
            Effect.promise(() => hub.add(channel, handlers)),
            () => Effect.sync(() => hub.remove(channel, handlers))
          )
      })
    })
  )
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/

/** The connection, its channels and their subscribers. Plain callbacks: pg's API is event-based. */
class ListenerHub {
  private client: pg.Client | undefined
  private connecting: Promise<void> | undefined
  private readonly channels = new Map<string, Set<ListenHandlers>>()
  private closed = false
  private retryDelay = 100
  private retryTimer: NodeJS.Timeout | undefined
  private readonly newClient: () => pg.Client
  private readonly logger: Logger

  constructor(newClient: () => pg.Client, logger: Logger) {
    this.newClient = newClient
    this.logger = logger
  }

  async add(channel: string, handlers: ListenHandlers): Promise<void> {
    if (!CHANNEL.test(channel)) throw new Error(`invalid channel name ${channel}`)
    let subscribers = this.channels.get(channel)
    const first = subscribers === undefined
    if (!subscribers) {
      subscribers = new Set()
      this.channels.set(channel, subscribers)
    }
    subscribers.add(handlers)
    if (!this.client) return this.ensureConnected()
    if (first) await this.client.query(`LISTEN ${channel}`).catch((error: unknown) => this.lost(error))
  }

  remove(channel: string, handlers: ListenHandlers): void {
    const subscribers = this.channels.get(channel)
    if (!subscribers) return
    subscribers.delete(handlers)
    if (subscribers.size > 0) return
    this.channels.delete(channel)
    this.client?.query(`UNLISTEN ${channel}`).catch(() => {})
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }

  private ensureConnected(): Promise<void> {
    if (this.closed || this.client) return Promise.resolve()
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  private async connect(): Promise<void> {
    const client = this.newClient()
    client.on("error", (error) => this.lost(error, client))
    client.on("end", () => this.lost(new Error("connection ended"), client))
    client.on("notification", (message) => {
      for (const handlers of this.channels.get(message.channel) ?? []) {
        try {
          handlers.onMessage(message.payload ?? "")
        } catch (error) {
          this.logger.error({ err: error, channel: message.channel }, "notification subscriber failed")
        }
      }
    })
    try {
      await client.connect()
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`)
    } catch (error) {
      client.removeAllListeners("end")
      await client.end().catch(() => {})
      this.scheduleReconnect(error)
      return
    }
    if (this.closed) {
      await client.end().catch(() => {})
      return
    }
    this.client = client
    this.retryDelay = 100
    for (const subscribers of this.channels.values()) for (const handlers of subscribers) handlers.onReset?.()
  }

  private lost(error: unknown, client: pg.Client | undefined = this.client): void {
    if (client !== this.client || this.closed) return
    this.client = undefined
    client?.removeAllListeners("end")
    client?.end().catch(() => {})
    this.scheduleReconnect(error)
  }

  private scheduleReconnect(error: unknown): void {
    if (this.closed || this.retryTimer) return
    this.logger.warn({ err: error, retryInMs: this.retryDelay }, "LISTEN connection lost; reconnecting")
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.ensureConnected()
    }, this.retryDelay)
    this.retryTimer.unref()
    this.retryDelay = Math.min(this.retryDelay * 2, 5_000)
  }
}
