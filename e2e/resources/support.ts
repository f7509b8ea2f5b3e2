/**
 * What the Resource e2e tests share: a bare engine replica running only the Resource controller
 * (what crash tests kill and restart), log capture, and readers for objects and credentials.
 * The whole server lives in system.ts, so a replica never loads the HTTP side.
 */
import { randomBytes } from "node:crypto"
import { Writable } from "node:stream"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import pg from "pg"
import type { AnyController } from "../../controllers/engine/controller.ts"
import { engineLayers } from "../support/engine.ts"
import { waitFor } from "../support/wait.ts"
import { resourceController } from "../../controllers/resource/index.ts"
import { makeLogger } from "../../src/log/logger.ts"
import { AppLogger } from "../../src/log/service.ts"
import { LocalSqliteProvider } from "../../src/providers/sqlite-local/index.ts"
import { TursoDatabaseProvider } from "../../src/providers/turso/index.ts"
import { CredentialStore, type StoredCredentials } from "../../src/store/credentials.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import type { Condition } from "../../schemas/index.ts"

/** Every log line the run wrote, as pino wrote it (after redaction). */
export const captureLogs = () => {
  const chunks: Array<string> = []
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString())
      callback()
    }
  })
  return { destination, text: () => chunks.join("") }
}

export const ORG = "acme"

export type DatabaseProviderChoice =
  | { readonly turso: { readonly url: string; readonly token: string } }
  | { readonly dataDir: string }

/**
 * An engine replica running only the Resource controller (no HTTP, no other controllers): what
 * crash tests kill and restart, in a child process or in this one.
 */
export const startResourceEngine = async (options: {
  readonly databaseUrl: string
  readonly key: Buffer
  readonly provider: DatabaseProviderChoice
  readonly logDestination?: NodeJS.WritableStream
  /** Controllers for other kinds beside it (e.g. an App controller that records its reconciles). */
  readonly extraControllers?: ReadonlyArray<AnyController<never>>
}) => {
  // Small pools: crash tests run several replicas at once against one PostgreSQL.
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 })
  pool.on("error", () => {})
  const provider =
    "turso" in options.provider
      ? TursoDatabaseProvider.layer({ apiUrl: options.provider.turso.url, org: ORG, group: "default", token: options.provider.turso.token, retries: 1 })
      : LocalSqliteProvider.layer({ dataDir: options.provider.dataDir })
  const logger = makeLogger({ level: options.logDestination ? "trace" : "silent", ...(options.logDestination ? { destination: options.logDestination } : {}) })
  const layer = engineLayers(pool, { url: options.databaseUrl, key: options.key, queue: { heartbeatSeconds: 10, monitorIntervalSeconds: 1, max: 4 } }, [
    resourceController,
    ...(options.extraControllers ?? [])
  ]).pipe(
    Layer.provide(Layer.mergeAll(provider, AppLogger.layer(logger)))
  )
  const runtime = ManagedRuntime.make(layer)
  await runtime.context()
  return {
    runtime,
    dispose: async () => {
      await runtime.dispose()
      await pool.end()
    }
  }
}

export const newKey = () => randomBytes(32)

type Runtime = ManagedRuntime.ManagedRuntime<ObjectStore | CredentialStore | UserStore, unknown>

export const ensureUser = (runtime: Runtime, login: string) => runtime.runPromise(UserStore.use((users) => users.ensure(login))).then((user) => user.id)

export const findResource = (runtime: Runtime, owner: string, name: string): Promise<StoredObject<"Resource"> | undefined> =>
  runtime.runPromise(ObjectStore.use((store) => store.find(owner, { kind: "Resource", name }))).then(Option.getOrUndefined)

export const storedCredentials = (runtime: Runtime, owner: string, uid: string): Promise<StoredCredentials | undefined> =>
  runtime.runPromise(CredentialStore.use((store) => store.get(owner, uid))).then(Option.getOrUndefined)

export const condition = (object: StoredObject<"Resource"> | undefined, type: string): Condition | undefined =>
  object?.status.conditions?.find((entry) => entry.type === type)

/** Waits until the resource's Ready condition is True for its current generation. */
export const waitForReady = (runtime: Runtime, owner: string, name: string, options: { readonly timeoutMs?: number; readonly credentialsVersion?: number } = {}) =>
  waitFor(
    async () => {
      const object = await findResource(runtime, owner, name)
      const ready = condition(object, "Ready")
      if (!object || ready?.status !== "True" || object.status.observedGeneration !== object.metadata.generation) return undefined
      if (options.credentialsVersion !== undefined && object.status.credentialsVersion !== options.credentialsVersion) return undefined
      return object
    },
    { timeoutMs: options.timeoutMs ?? 20_000, what: `Resource ${name} Ready` }
  )

/** Waits until no row for the resource is left (its finalizer ran and removed it). */
export const waitForGone = (runtime: Runtime, owner: string, name: string, timeoutMs = 20_000) =>
  waitFor(async () => (await findResource(runtime, owner, name)) === undefined, { timeoutMs, what: `Resource ${name} to be gone` })

export const run = <A, E, R>(runtime: ManagedRuntime.ManagedRuntime<R, unknown>, effect: Effect.Effect<A, E, R>) => runtime.runPromise(effect)
