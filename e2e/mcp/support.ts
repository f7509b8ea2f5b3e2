/**
 * The real server for MCP e2e tests (startSystem on a fresh test database), users with API keys,
 * and MCP clients that are the SDK's own Client over StreamableHTTPClientTransport — with every
 * HTTP status the server answered recorded, so tests can assert "never a 5xx".
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { ApiKeyStore } from "../../src/auth/api-key-store.ts"
import { UserStore, type User } from "../../src/store/users.ts"
import { startSystem, type RunningSystem, type StartOptions } from "../../src/system/boot.ts"
import { createTestDatabase, removeDir, tempDir, type TestDatabase } from "../support/postgres.ts"

export interface TestUser {
  readonly user: User
  readonly key: string
  readonly prefix: string
}

export interface McpTestSystem {
  readonly system: RunningSystem
  readonly db: TestDatabase
  readonly mcpUrl: string
  /** The environment the system was started with (to start another replica on the same database). */
  readonly env: Record<string, string>
  /** Every HTTP status any client of this system received. */
  readonly statuses: Array<number>
  /** A user (with a GitHub identity unless github: false) and a fresh key. */
  createUser(login: string, options?: { readonly github?: boolean }): Promise<TestUser>
  connect(key: string, name?: string): Promise<Client>
  stop(): Promise<void>
}

let nextGitHubId = 1000

export const startMcpSystem = async (options: Omit<StartOptions, "env"> & { readonly env?: Record<string, string> } = {}): Promise<McpTestSystem> => {
  const db = await createTestDatabase()
  const dataDir = await tempDir("mcp")
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    DATA_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    ...options.env
  }
  const system = await startSystem({ ...options, env }).catch(async (error: unknown) => {
    await db.drop()
    await removeDir(dataDir)
    throw error
  })
  const mcpUrl = `${system.url}/mcp`
  const statuses: Array<number> = []
  const clients: Array<Client> = []
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init)
    statuses.push(response.status)
    return response
  }
  return {
    system,
    db,
    mcpUrl,
    env,
    statuses,
    createUser: (login, userOptions = {}) =>
      system.runtime.runPromise(
        Effect.gen(function*() {
          const users = yield* UserStore
          const user = userOptions.github === false ? yield* users.ensure(login) : yield* users.upsertGitHub(nextGitHubId++, login)
          const created = yield* (yield* ApiKeyStore).create(user.id, "e2e")
          return { user, key: created.key, prefix: created.prefix }
        }).pipe(Effect.provide(ApiKeyStore.layer))
      ),
    connect: async (key, name = "e2e") => {
      const client = new Client({ name, version: "1.0.0" })
      const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${key}` } },
        fetch: recordingFetch
      })
      await client.connect(transport)
      clients.push(client)
      return client
    },
    stop: async () => {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)))
      await system.stop()
      await db.drop()
      await removeDir(dataDir)
    }
  }
}

/** The text of a tool result's first content item. */
export const textOf = (result: { readonly [key: string]: unknown }): string => {
  const content = result.content as ReadonlyArray<{ type: string; text?: string }> | undefined
  return content?.[0]?.text ?? ""
}

/** A tool result's structured content, typed by the caller's expectation. */
export const structured = <T>(result: { readonly [key: string]: unknown }): T => result.structuredContent as T

/** Raw JSON-RPC over HTTP, for what the SDK client would not send (bad headers, bad bodies). */
export const rawPost = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

export const initializeRequest = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
} as const
