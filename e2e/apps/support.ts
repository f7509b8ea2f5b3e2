/**
 * What the App e2e tests share: an engine replica running only the App controller against a
 * Coolify fake (in this process, or in a child that crash tests kill), a writer that changes
 * desired state the way tools do (src/desired/write.ts), and readers that wait on conditions.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { after, afterEach, before } from "node:test"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import pg from "pg"
import type { AppSpec, Condition } from "../../schemas/index.ts"
import { appProvidersLayer, coolifyRuntimeLayer, makeAppController, RepoAccess, resolveAppControllerSettings, type AppControllerSettings } from "../../controllers/app/index.ts"
import { Placement } from "../../controllers/placement/Placement.ts"
import type { EngineOptions } from "../../controllers/engine/engine.ts"
import { ReconcileQueue } from "../../controllers/engine/queue.ts"
import { createObject, deleteObject, updateObjectSpec } from "../../src/desired/write.ts"
import type { Database } from "../../src/db/database.ts"
import { makeLogger } from "../../src/log/logger.ts"
import { AppLogger } from "../../src/log/service.ts"
import type { CoolifyApiConfig } from "../../src/providers/coolify/index.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { startCoolifyFake, type CoolifyFake, type CoolifyFakeOptions, type FakeApplication } from "../fakes/coolify/index.ts"
import { appSpec } from "../support/app-spec.ts"
import { engineLayers } from "../support/engine.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { waitFor } from "../support/wait.ts"
import { coolifyAppName } from "../../controllers/app/names.ts"

export type App = StoredObject<"App">

/** Short timings: the fake builds in tens of milliseconds; pg-boss polls deferred jobs every 0.5 s. */
export const FAST_SETTINGS: Partial<AppControllerSettings> = {
  deployPollMs: 200,
  observeMaxAgeMs: 1_000,
  listMinIntervalMs: 100,
  startGraceMs: 0,
  waitRetryMs: 500,
  deletePollMs: 200,
  unhealthyRecheckMs: 1_000,
  createSettleMs: 0,
  githubSourcesMaxAgeMs: 200
}

export const FAST_ENGINE: EngineOptions = { pollingIntervalSeconds: 0.5, resyncSeconds: 3600, concurrency: 8 }

export interface AppEngineOptions {
  readonly databaseUrl: string
  readonly key: Buffer
  readonly coolify: CoolifyApiConfig
  readonly settings?: Partial<AppControllerSettings>
  readonly engine?: EngineOptions
  readonly repoAccess?: Layer.Layer<RepoAccess>
  readonly placement?: Layer.Layer<Placement>
  readonly dnsSuffix?: string
  readonly logDestination?: NodeJS.WritableStream
  readonly poolSize?: number
}

/** An engine replica running only the App controller, with its own pool and pg-boss. */
export const startAppEngine = async (options: AppEngineOptions) => {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 6 })
  pool.on("error", () => {})
  // No start-up resync: it would park a far-future job on each key (spread over the resync
  // period), and the engine's enqueueAfter does not move a parked job earlier, so RequeueAfter
  // polls would wait for it. Tests ask for reconciles explicitly (reconcileAgain).
  await pool.query(`INSERT INTO engine_resync (kind, last_run) VALUES ('App', now()) ON CONFLICT (kind) DO UPDATE SET last_run = now()`)
  const settings = { ...FAST_SETTINGS, ...options.settings }
  const logger = makeLogger({ level: options.logDestination ? "debug" : "silent", ...(options.logDestination ? { destination: options.logDestination } : {}) })
  const loggerLayer = AppLogger.layer(logger)
  const runtimeLayer = coolifyRuntimeLayer(resolveAppControllerSettings(settings)).pipe(
    Layer.provide(Layer.mergeAll(appProvidersLayer({ coolify: { retryBaseDelayMs: 20, ...options.coolify }, settings }), options.repoAccess ?? RepoAccess.layerAssumePublic))
  )
  const providers = Layer.mergeAll(
    runtimeLayer,
    options.placement ?? Placement.layerSingleServer(options.dnsSuffix ?? "apps.test"),
    loggerLayer
  ).pipe(Layer.provideMerge(loggerLayer))
  const layer = engineLayers(
    pool,
    { url: options.databaseUrl, key: options.key, queue: { heartbeatSeconds: 10, monitorIntervalSeconds: 1, max: options.poolSize ?? 6 }, engine: { ...FAST_ENGINE, ...options.engine } },
    [makeAppController(settings)]
  ).pipe(Layer.provide(providers))
  const runtime = ManagedRuntime.make(layer)
  await runtime.context()
  return {
    runtime,
    pool,
    dispose: async () => {
      await runtime.dispose()
      await pool.end()
    }
  }
}

export type AppEngine = Awaited<ReturnType<typeof startAppEngine>>

/** What a single-replica App e2e file works with: its database, the Coolify fake, one App engine and a user. */
export interface AppTestbed {
  readonly db: TestDatabase
  readonly fake: CoolifyFake
  readonly engine: AppEngine
  readonly owner: string
}

export interface AppTestbedOptions {
  /** The login of the user who owns the file's apps. */
  readonly login: string
  readonly fake?: CoolifyFakeOptions
  /** Overrides of the engine's Coolify client config (url and token come from the fake). */
  readonly coolify?: Partial<CoolifyApiConfig>
  readonly settings?: Partial<AppControllerSettings>
}

/**
 * Registers the file's hooks: before all tests a fresh database, a Coolify fake and an App engine
 * against it, and the owner; after each test the fake saw no contract violation and its faults are
 * cleared (so one test's faults never leak into the next); after all, whatever started is closed.
 * `ready` receives the testbed once started, so a file can keep it in short module-level names.
 */
export const useAppTestbed = (options: AppTestbedOptions, ready: (testbed: AppTestbed) => void) => {
  let db: TestDatabase | undefined
  let fake: CoolifyFake | undefined
  let engine: AppEngine | undefined
  before(async () => {
    db = await createTestDatabase()
    fake = await startCoolifyFake(options.fake)
    engine = await startAppEngine({
      databaseUrl: db.url,
      key: newKey(),
      coolify: { url: fake.url, token: fake.token, ...options.coolify },
      ...(options.settings ? { settings: options.settings } : {})
    })
    const owner = await ensureUser(engine.runtime, options.login)
    ready({ db, fake, engine, owner })
  })
  after(async () => {
    await engine?.dispose()
    await fake?.close()
    await db?.drop()
  })
  afterEach(() => {
    assert.deepEqual(fake?.violations, [])
    fake?.faults.clear()
  })
}

export const newKey = () => randomBytes(32)

type Runtime = ManagedRuntime.ManagedRuntime<ObjectStore | UserStore, unknown>
/** Any replica's runtime can write desired state: the write path needs the store, the database and the queue. */
type WriterRuntime = ManagedRuntime.ManagedRuntime<ObjectStore | Database | ReconcileQueue, unknown>

export const ensureUser = (runtime: Runtime, login: string) => runtime.runPromise(UserStore.use((users) => users.ensure(login))).then((user) => user.id)

export { appSpec }

export const createApp = (runtime: WriterRuntime, owner: string, name: string, spec: Partial<AppSpec> = {}) =>
  runtime.runPromise(createObject(owner, { kind: "App", name, spec: appSpec(spec) }))

export const updateApp = (runtime: WriterRuntime, owner: string, name: string, update: (spec: AppSpec) => AppSpec) =>
  runtime.runPromise(updateObjectSpec(owner, { kind: "App", name }, update))

export const deleteApp = (runtime: WriterRuntime, owner: string, name: string) => runtime.runPromise(deleteObject(owner, { kind: "App", name }))

export const findApp = (runtime: Runtime, owner: string, name: string): Promise<App | undefined> =>
  runtime.runPromise(ObjectStore.use((store) => store.find(owner, { kind: "App", name }))).then(Option.getOrUndefined)

export const conditionOf = (object: { readonly status: { readonly conditions?: ReadonlyArray<Condition> } } | undefined, type: string): Condition | undefined =>
  object?.status.conditions?.find((entry) => entry.type === type)

/** Waits until `check` holds for the app's current generation. */
export const waitForApp = (runtime: Runtime, owner: string, name: string, check: (app: App) => boolean, what: string, timeoutMs = 20_000) =>
  waitFor(
    async () => {
      const app = await findApp(runtime, owner, name)
      return app && app.status.observedGeneration === app.metadata.generation && check(app) ? app : undefined
    },
    { timeoutMs, what: `${name}: ${what}` }
  ).catch(async (error: unknown) => {
    const app = await findApp(runtime, owner, name)
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(app?.status)}; annotations: ${JSON.stringify(app?.metadata.annotations)}`)
  })

export const waitForReady = (runtime: Runtime, owner: string, name: string, timeoutMs = 20_000) =>
  waitForApp(runtime, owner, name, (app) => conditionOf(app, "Ready")?.status === "True", "Ready=True", timeoutMs)

export const waitForGone = (runtime: Runtime, owner: string, name: string, timeoutMs = 20_000) =>
  waitFor(async () => (await findApp(runtime, owner, name)) === undefined, { timeoutMs, what: `App ${name} row gone` })

/** The fake's applications created for (owner, project "default", name). */
export const coolifyAppsOf = (fake: CoolifyFake, owner: string, name: string): ReadonlyArray<FakeApplication> =>
  fake.state.applications.filter((app) => app.fields["name"] === coolifyAppName(owner, "default", name))

export const deploymentsOf = (fake: CoolifyFake, app: FakeApplication | undefined) =>
  app === undefined ? [] : fake.state.deployments.filter((deployment) => deployment.applicationId === app.id)

export const run = <A, E, R>(runtime: ManagedRuntime.ManagedRuntime<R, unknown>, effect: Effect.Effect<A, E, R>) => runtime.runPromise(effect)

/** Reconciles completed for a key so far (pg-boss keeps completed jobs for an hour). */
const completedReconciles = async (pool: pg.Pool, uid: string): Promise<number> => {
  const result = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'reconcile-app' AND singleton_key = $1 AND state = 'completed'`, [uid])
  return result.rows[0]?.n ?? 0
}

/** Enqueues the app's key (as a resync would) and waits until one more reconcile of it completed. */
export const reconcileAgain = async (engine: AppEngine, owner: string, uid: string) => {
  const before = await completedReconciles(engine.pool, uid)
  await engine.runtime.runPromise(ReconcileQueue.use((queue) => queue.enqueue("App", { owner, uid })))
  await waitFor(async () => (await completedReconciles(engine.pool, uid)) > before, { what: `another reconcile of ${uid}` })
}
