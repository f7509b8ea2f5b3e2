/**
 * Starting and stopping the whole system: configuration → database (embedded by default) →
 * migrations → platform services → controllers → HTTP server. Used by `npm start` and by e2e tests,
 * which run the real thing.
 */
import { Layer, ManagedRuntime, Result } from "effect"
import path from "node:path"
import pg from "pg"
import { controllersLayer } from "../../controllers/registry.ts"
import type { EngineOptions } from "../../controllers/engine/engine.ts"
import type { AnyController } from "../../controllers/engine/controller.ts"
import { announceLocalAccessOnFirstStart } from "../auth/first-start.ts"
import { decodeConfig, secretVariableNames, type AppConfigValues, ConfigError } from "../config/config.ts"
import { loadOrCreateDataKey } from "../crypto/data-key.ts"
import { parseKey } from "../crypto/secret-box.ts"
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded.ts"
import { migrate, MigrationError } from "../db/migrate.ts"
import { makeLogger, registerSecret, type Logger } from "../log/logger.ts"
import { buildHttpServer } from "../server/http.ts"
import { makeObservability, type Observability } from "../observability/index.ts"
import type { SpanExporter } from "@opentelemetry/sdk-trace-node"
import { platformLayer, type Platform } from "./platform.ts"
import type { FastifyInstance } from "fastify"
import type pino from "pino"
import { mkdir } from "node:fs/promises"
import { DataDirInUse, lockDataDir } from "./data-dir-lock.ts"
import type { LocalRuntimeOptions } from "../../controllers/app/local/layer.ts"
import { appRuntimeName } from "../config/runtime.ts"
import { acquireSingleRunnerLock } from "../db/single-runner-lock.ts"
import { RouteTable } from "../providers/local/router.ts"

export class StartupError extends Error {
  override readonly name = "StartupError"
}

export interface StartOptions {
  readonly env: Readonly<Record<string, string | undefined>>
  /** Extra layers for tests (e.g. a controller that flips conditions). */
  readonly engine?: EngineOptions
  /** Extra controllers for tests, run beside the built-in ones. */
  readonly controllers?: ReadonlyArray<AnyController<Platform>>
  readonly queue?: { readonly heartbeatSeconds?: number; readonly monitorIntervalSeconds?: number }
  readonly logDestination?: pino.DestinationStream
  /** Tests: local runtime timings (supervisor backoff, poll intervals). */
  readonly localRuntime?: Pick<LocalRuntimeOptions, "settings" | "backoff">
  /** Tests: trace into this exporter (e.g. InMemorySpanExporter), even without OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly traceExporter?: SpanExporter
}

export interface RunningSystem {
  readonly config: AppConfigValues
  readonly url: string
  readonly databaseUrl: string
  readonly pool: pg.Pool
  readonly runtime: ManagedRuntime.ManagedRuntime<Platform, unknown>
  readonly http: FastifyInstance
  readonly logger: Logger
  readonly embedded: boolean
  /** Prometheus registry and tracing of this system. */
  readonly observability: Observability
  stop(): Promise<void>
}

const resolveKeys = async (config: AppConfigValues, embedded: boolean): Promise<{ current: Buffer; previous: Array<Buffer> }> => {
  const previous = (config.DATA_ENCRYPTION_OLD_KEYS ?? "").split(",").filter(Boolean).map(parseKey)
  if (config.DATA_ENCRYPTION_KEY) return { current: parseKey(config.DATA_ENCRYPTION_KEY), previous }
  if (!embedded) {
    // Replicas sharing an external database must share the key; a per-machine key would split them.
    throw new StartupError(
      "DATA_ENCRYPTION_KEY is required when DATABASE_URL is set (every replica must use the same key). Example of a good value: DATA_ENCRYPTION_KEY=$(openssl rand -base64 32)"
    )
  }
  return { current: await loadOrCreateDataKey(config.DATA_DIR), previous }
}

export const startSystem = async (options: StartOptions): Promise<RunningSystem> => {
  const decoded = decodeConfig(options.env)
  if (Result.isFailure(decoded)) throw new StartupError(decoded.failure.message)
  // PORT=0 (tests) is resolved to a free port before anything builds a URL from it: app URLs, the
  // git remote and the first-start announcement are then true before the server listens.
  const config = decoded.success.PORT === 0 ? { ...decoded.success, PORT: await freePort(decoded.success.HOST) } : decoded.success
  for (const name of secretVariableNames) registerSecret(options.env[name])
  const logger = makeLogger({ level: config.LOG_LEVEL, ...(options.logDestination ? { destination: options.logDestination } : {}) })

  let embedded: EmbeddedDatabase | undefined
  const cleanups: Array<() => Promise<void>> = []
  let stopping = false
  const stopAll = async () => {
    stopping = true
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => logger.warn({ err: error }, "shutdown step failed"))
  }
  const observability = makeObservability({ otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, traceExporter: options.traceExporter })
  // Pushed first, so it runs last: spans of the shutdown itself are still exported.
  cleanups.push(() => observability.shutdown())
  try {
    let databaseUrl = config.DATABASE_URL
    if (!databaseUrl) {
      const dataDir = path.resolve(config.DATA_DIR)
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      const lock = await lockDataDir(dataDir).catch((error: unknown) => {
        throw error instanceof DataDirInUse ? new StartupError(error.message) : error
      })
      cleanups.push(() => lock.release())
      embedded = await startEmbeddedPostgres({ dataDir, onLog: (line) => logger.debug({ postgres: line }) })
      const stopEmbedded = embedded.stop
      cleanups.push(stopEmbedded)
      databaseUrl = embedded.url
      registerSecret(new URL(databaseUrl).password)
      logger.info({ dataDir }, "embedded PostgreSQL started")
    }
    const keys = await resolveKeys(config, embedded !== undefined)
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 20, application_name: "deploy-mcp" })
    // pg-pool's end() resolves before the sockets of the clients it ends have closed, so stopping
    // PostgreSQL right after can still terminate one: expected while we stop, a warning otherwise.
    pool.on("error", (error) => (stopping ? logger.debug({ err: error }, "connection closed during shutdown") : logger.warn({ err: error }, "idle database connection failed")))
    cleanups.push(() => pool.end())
    const migrated = await migrate(pool).catch((error: unknown) => {
      if (error instanceof MigrationError) throw new StartupError(`migration ${error.file} failed: ${error.message}`)
      throw new StartupError(`cannot reach the database: ${(error as Error).message}`)
    })
    if (migrated.applied.length) logger.info({ applied: migrated.applied }, "migrations applied")

    const platform = platformLayer({
      config,
      databaseUrl,
      pool,
      encryptionKey: keys.current,
      previousKeys: keys.previous,
      logger,
      ...(options.queue ? { queue: options.queue } : {})
    }).pipe(Layer.provideMerge(observability.layer))
    const publicUrl = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`
    // The local runtime runs apps in this process and serves them through this server's HTTP port.
    const appRoutes = config.CONTROLLERS === "on" && appRuntimeName(config) === "local" ? new RouteTable() : undefined
    if (appRoutes) {
      const lock = await acquireSingleRunnerLock(databaseUrl, (error) =>
        logger.error({ err: error }, "lost the local runtime's database lock: another server could start running these apps; restart this one")
      )
      if (!lock) {
        throw new StartupError(
          "Another Deploy MCP server already runs the local runtime on this database. The local runtime builds and runs apps on one machine, so only one server may run it: stop the other server, give this one its own DATABASE_URL, or run several replicas with APP_RUNTIME=coolify."
        )
      }
      cleanups.push(() => lock.release())
    }
    const publicOrigin = new URL(publicUrl)
    const withControllers =
      config.CONTROLLERS === "on"
        ? Layer.provideMerge(
            controllersLayer({
              config,
              engine: { metrics: observability.metrics.engine, ...options.engine },
              ...(options.controllers ? { extraControllers: options.controllers } : {}),
              ...(appRoutes ? { localRuntime: { routes: appRoutes, publicOrigin: { protocol: publicOrigin.protocol, port: publicOrigin.port }, ...options.localRuntime } } : {})
            }),
            platform
          )
        : platform
    const runtime = ManagedRuntime.make(withControllers as Layer.Layer<Platform, unknown, never>)
    await runtime.context()
    cleanups.push(() => runtime.dispose())

    const http = await buildHttpServer({ runtime, config, logger, publicUrl, ...(appRoutes ? { appRoutes } : {}) })
    await http.listen({ port: config.PORT, host: config.HOST })
    cleanups.push(() => http.close())
    const address = http.server.address()
    const port = typeof address === "object" && address ? address.port : config.PORT
    if (embedded) await announceLocalAccessOnFirstStart(runtime, `${config.PUBLIC_URL ?? `http://localhost:${port}`}/mcp`)
    return {
      config,
      url: `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${port}`,
      databaseUrl,
      pool,
      runtime,
      http,
      logger,
      embedded: embedded !== undefined,
      observability,
      stop: stopAll
    }
  } catch (error) {
    await stopAll()
    if (error instanceof StartupError || error instanceof ConfigError) throw error
    throw new StartupError(error instanceof Error ? error.message : `start-up failed: ${String(error)}`)
  }
}
