/**
 * The embedded default's first start: with no users yet, create a local user (named after the OS
 * user, or "local") with one API key, and print a ready `claude mcp add …` line — the whole setup
 * for someone trying the server on their machine. Later starts only say how to make another key.
 */
import { Effect, type ManagedRuntime } from "effect"
import os from "node:os"
import { Database } from "../db/database.ts"
import { PLATFORM_OWNER } from "../store/objects.ts"
import { UserStore } from "../store/users.ts"
import type { Platform } from "../system/platform.ts"
import { ApiKeyStore } from "./api-key-store.ts"

/** Arbitrary constant: two servers starting on one data folder mint one key, not two. */
const FIRST_START_LOCK = 7_301_991_043

export const localLogin = (username: string | undefined = safeUsername()): string =>
  username && /^[A-Za-z0-9][A-Za-z0-9._-]{0,38}$/.test(username) ? username : "local"

const safeUsername = (): string | undefined => {
  try {
    return os.userInfo().username
  } catch {
    return undefined
  }
}

export const claudeMcpAddLine = (mcpUrl: string, key: string) => `claude mcp add --transport http deploy ${mcpUrl} --header "Authorization: Bearer ${key}"`

export interface FirstStartOptions {
  readonly mcpUrl: string
  readonly write: (text: string) => void
  readonly login?: string
}

export type FirstStartResult = { readonly created: true; readonly login: string; readonly key: string } | { readonly created: false; readonly login: string | undefined }

export const announceLocalAccess = (options: FirstStartOptions) =>
  Effect.gen(function*() {
    const db = yield* Database
    const result = yield* db.transaction(
      Effect.gen(function*() {
        yield* db.query(`SELECT pg_advisory_xact_lock($1)`, [FIRST_START_LOCK])
        const users = yield* db.query<{ login: string; github_id: string | null }>(
          `SELECT login, github_id FROM users WHERE id <> $1 ORDER BY (github_id IS NULL) DESC, created_at LIMIT 1`,
          [PLATFORM_OWNER]
        )
        const existing = users.rows[0]
        if (existing) return { created: false, login: existing.login } satisfies FirstStartResult
        const login = options.login ?? localLogin()
        const user = yield* (yield* UserStore).ensure(login)
        const minted = yield* (yield* ApiKeyStore).create(user.id, "created on first start")
        return { created: true, login, key: minted.key } satisfies FirstStartResult
      })
    )
    const another = `npm run cli -- apikey create --user ${result.login ?? "<login>"}`
    options.write(
      result.created
        ? [
            `deploy-mcp: first start — created local user '${result.login}' with an API key. Connect Claude Code with:`,
            "",
            `  ${claudeMcpAddLine(options.mcpUrl, result.key)}`,
            "",
            `The key is shown only this once. Make another with: ${another}`,
            ""
          ].join("\n")
        : `deploy-mcp: MCP endpoint ${options.mcpUrl}. Make an API key with: ${another}\n`
    )
    return result
  })

/** Run from boot (embedded default only): one call, after the server listens. */
export const announceLocalAccessOnFirstStart = (runtime: ManagedRuntime.ManagedRuntime<Platform, unknown>, mcpUrl: string, write: (text: string) => void = (text) => void process.stderr.write(text)) =>
  runtime.runPromise(announceLocalAccess({ mcpUrl, write }).pipe(Effect.provide(ApiKeyStore.layer)))
