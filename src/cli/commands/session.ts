/**
 * The operator CLI's connection to the system: PostgreSQL directly (it is an operator tool, not
 * an API client) with the same stores the server uses.
 *
 * Which database: DATABASE_URL when set; otherwise the embedded cluster in DATA_DIR — the one
 * the server is running (port and password from DATA_DIR/embedded-postgres.json), or, when the
 * server is stopped, the CLI starts that cluster itself and stops it again when done.
 * Which key: DATA_ENCRYPTION_KEY, or the embedded default's key file in DATA_DIR — the store
 * needs it to open sealed spec fields (App env), even though the CLI never prints their values.
 */
import { Cause, Effect, Exit, Layer, ManagedRuntime, Result } from "effect"
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import path from "node:path"
import pg from "pg"
import { decodeConfig } from "../../config/config.ts"
import { KEY_FILE } from "../../crypto/data-key.ts"
import { parseKey, SecretBox } from "../../crypto/secret-box.ts"
import { Database } from "../../db/database.ts"
import { migrationsApplied } from "../../db/migrate.ts"
import { EventStore } from "../../store/events.ts"
import { ObjectStore } from "../../store/objects.ts"
import { UserStore } from "../../store/users.ts"
import { CliFailure, type CliIo } from "./io.ts"

export type OperatorServices = Database | SecretBox | ObjectStore | EventStore | UserStore

export interface Connection {
  readonly databaseUrl: string
  readonly pool: pg.Pool
}

export interface OperatorSession<R> extends Connection {
  readonly runtime: ManagedRuntime.ManagedRuntime<R, unknown>
  /** Run an effect; a failure is rethrown as its typed error (what reportFailure prints). */
  run<A>(effect: Effect.Effect<A, unknown, R>): Promise<A>
  close(): Promise<void>
}

const SETTINGS_FILE = "embedded-postgres.json"

interface EmbeddedSettings {
  readonly port: number
  readonly password: string
}

const fail = (message: string) => new CliFailure({ message })

const readEmbeddedSettings = async (dataDir: string): Promise<EmbeddedSettings> => {
  const file = path.join(dataDir, SETTINGS_FILE)
  if (!existsSync(file)) {
    throw fail(
      `no database: DATABASE_URL is not set and ${dataDir} holds no embedded database (${SETTINGS_FILE} is missing). Set DATABASE_URL, or DATA_DIR to the server's data folder, or start the server once with npm start.`
    )
  }
  return JSON.parse(await readFile(file, "utf8")) as EmbeddedSettings
}

const reachable = async (url: string): Promise<boolean> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  client.on("error", () => {})
  try {
    await client.connect()
    return true
  } catch (error) {
    if ((error as { code?: string }).code === "ECONNREFUSED") return false
    throw fail(`cannot connect to the embedded database: ${(error as Error).message}`)
  } finally {
    await client.end().catch(() => {})
  }
}

/** The embedded cluster's URL; started by us (and stopped by `stop`) when the server is not running. */
const embeddedDatabase = async (dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> => {
  const settings = await readEmbeddedSettings(dataDir)
  const url = `postgres://postgres:${encodeURIComponent(settings.password)}@127.0.0.1:${settings.port}/deploy`
  if (await reachable(url)) return { url, stop: async () => {} }
  // Imported only here: embedded-postgres installs exit hooks that would swallow our exit code.
  const { startEmbeddedPostgres } = await import("../../db/embedded.ts")
  const started = await startEmbeddedPostgres({ dataDir }).catch((error: unknown) => {
    throw fail(`the embedded database in ${dataDir} is not running and could not be started: ${(error as Error).message}`)
  })
  return { url: started.url, stop: started.stop }
}

const encryptionKeys = async (env: CliIo["env"], dataDir: string, embedded: boolean) => {
  const previous = (env.DATA_ENCRYPTION_OLD_KEYS ?? "").split(",").filter(Boolean).map(parseKey)
  if (env.DATA_ENCRYPTION_KEY) return { current: parseKey(env.DATA_ENCRYPTION_KEY), previous }
  const file = path.join(dataDir, KEY_FILE)
  if (embedded && existsSync(file)) return { current: parseKey((await readFile(file, "utf8")).trim()), previous }
  throw fail(
    embedded
      ? `no data encryption key: set DATA_ENCRYPTION_KEY, or DATA_DIR to the server's data folder (it holds ${KEY_FILE}).`
      : "DATA_ENCRYPTION_KEY is required with DATABASE_URL: use the server's key, so the CLI can open what the server sealed."
  )
}

const storesLayer = (pool: pg.Pool, keys: { current: Buffer; previous: ReadonlyArray<Buffer> }) =>
  Layer.mergeAll(ObjectStore.layer, EventStore.layer, UserStore.layer).pipe(
    Layer.provideMerge(Layer.mergeAll(Database.fromPool(pool), SecretBox.layer(keys.current, keys.previous)))
  )

/**
 * Connect and build the stores; `extend` adds services on top (e.g. the reconcile queue).
 * Fails with a one-line CliFailure when there is no database, no key, or an unmigrated schema.
 */
export const openSession = async <R = never>(
  io: CliIo,
  extend?: (connection: Connection) => Layer.Layer<R, unknown, OperatorServices>
): Promise<OperatorSession<OperatorServices | R>> => {
  const decoded = decodeConfig(io.env)
  if (Result.isFailure(decoded)) throw fail(decoded.failure.message)
  const config = decoded.success
  const dataDir = path.resolve(config.DATA_DIR)
  const embedded = config.DATABASE_URL ? undefined : await embeddedDatabase(dataDir)
  const databaseUrl = config.DATABASE_URL ?? (embedded as { url: string }).url
  const cleanups: Array<() => Promise<void>> = embedded ? [embedded.stop] : []
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  }
  try {
    const keys = await encryptionKeys(io.env, dataDir, embedded !== undefined)
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: "deploy-mcp-cli" })
    pool.on("error", () => {})
    cleanups.push(() => pool.end())
    const migrated = await migrationsApplied(pool).catch((error: unknown) => {
      throw fail(`cannot reach the database: ${(error as Error).message}`)
    })
    if (!migrated) {
      throw fail("the database schema is not up to date (migrations pending): start the server once (npm start) to apply them, then run this again.")
    }
    const stores = storesLayer(pool, keys)
    const layer = extend ? Layer.provideMerge(extend({ databaseUrl, pool }), stores) : stores
    const runtime = ManagedRuntime.make(layer as Layer.Layer<OperatorServices | R, unknown, never>)
    cleanups.push(() => runtime.dispose())
    await runtime.context()
    const run = async <A>(effect: Effect.Effect<A, unknown, OperatorServices | R>): Promise<A> => {
      const exit = await runtime.runPromiseExit(effect)
      if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
      return exit.value
    }
    return { databaseUrl, pool, runtime, run, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** Run an effect in a session, closing it afterwards whatever happens; a failure is rethrown as its typed error. */
export const withSession = async <A, R = never>(
  io: CliIo,
  effect: Effect.Effect<A, unknown, OperatorServices | R>,
  extend?: (connection: Connection) => Layer.Layer<R, unknown, OperatorServices>
): Promise<A> => {
  const session = await openSession(io, extend)
  try {
    return await session.run(effect)
  } finally {
    await session.close()
  }
}
