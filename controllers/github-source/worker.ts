/**
 * Runs the GitHubSource reconciler on the engine's queue: one job per installation id. There is
 * no stored object behind the key (the installation row is the desired state), so this is a small
 * worker on ReconcileQueue rather than a Controller. A failed ensure fails the job and pg-boss
 * retries it with the engine's backoff; once the source exists, the installation's waiting Apps
 * are enqueued so they pick it up.
 */
import { Effect, Layer } from "effect"
import type { Job } from "pg-boss"
import type { AppConfigValues } from "../../src/config/config.ts"
import { Database } from "../../src/db/database.ts"
import { GitHubInstallations } from "../../src/github/installations.ts"
import { AppLogger } from "../../src/log/service.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import { ReconcileQueue, queueName, type JobData } from "../engine/queue.ts"
import { ensureGitHubSource, type GitHubAppCredentials } from "./ensure.ts"
import { GITHUB_SOURCE_KIND } from "./queue.ts"

/** One installation: skip it unless active, ensure its source, then wake its Apps. */
export const reconcileGitHubSource = (installationId: number, credentials: GitHubAppCredentials) =>
  Effect.gen(function*() {
    const database = yield* Database
    const active = yield* database.query<{ active: boolean }>(
      `SELECT deleted_at IS NULL AND NOT suspended AS active FROM github_installations WHERE installation_id = $1`,
      [installationId]
    )
    if (active.rows[0]?.active !== true) return { skipped: true as const }
    const source = yield* ensureGitHubSource(installationId, credentials)
    const installations = yield* GitHubInstallations
    const queue = yield* ReconcileQueue
    const apps = yield* installations.appsAffectedBy(installationId)
    yield* Effect.forEach(apps, (key) => queue.enqueue("App", key), { discard: true })
    yield* AppLogger.use((logger) =>
      Effect.sync(() => logger.info({ installation: installationId, coolifySource: source.uuid, created: source.created, apps: apps.length }, "Coolify GitHub App source ensured"))
    )
    return { skipped: false as const, ...source }
  })

/** The GitHub App's credentials from configuration, or undefined when GitHub or Coolify is not configured. */
export const credentialsFromConfig = (config: AppConfigValues): GitHubAppCredentials | undefined => {
  const { GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, COOLIFY_URL, COOLIFY_TOKEN } = config
  if (!GITHUB_APP_ID || !GITHUB_APP_PRIVATE_KEY || !GITHUB_CLIENT_ID || !GITHUB_CLIENT_SECRET || !COOLIFY_URL || !COOLIFY_TOKEN) return undefined
  return {
    htmlUrl: config.GITHUB_URL,
    apiUrl: config.GITHUB_API_URL,
    appId: Number(GITHUB_APP_ID),
    clientId: GITHUB_CLIENT_ID,
    clientSecret: GITHUB_CLIENT_SECRET,
    privateKey: GITHUB_APP_PRIVATE_KEY,
    ...(config.GITHUB_WEBHOOK_SECRET === undefined ? {} : { webhookSecret: config.GITHUB_WEBHOOK_SECRET })
  }
}

/** Works the GitHubSource queue for as long as the layer lives (nothing when not configured). */
export const githubSourceLayer = (config: AppConfigValues): Layer.Layer<never, unknown, Database | ReconcileQueue | AppLogger> => {
  const credentials = credentialsFromConfig(config)
  if (credentials === undefined || config.COOLIFY_URL === undefined || config.COOLIFY_TOKEN === undefined) return Layer.empty
  const worker = Layer.effectDiscard(
    Effect.gen(function*() {
      const queue = yield* ReconcileQueue
      const context = yield* Effect.context<Database | ReconcileQueue | AppLogger | CoolifyApi | GitHubInstallations>()
      yield* queue.ensureQueue(GITHUB_SOURCE_KIND)
      const name = queueName(GITHUB_SOURCE_KIND)
      const id = yield* Effect.promise(() =>
        queue.boss.work<JobData>(name, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]: Array<Job<JobData>>) => {
          if (job === undefined) return
          // A thrown error fails the job: pg-boss retries it with backoff.
          await Effect.runPromiseWith(context)(reconcileGitHubSource(Number(job.data.uid), credentials))
        })
      )
      yield* Effect.addFinalizer(() => Effect.promise(() => queue.boss.offWork(name, { id, wait: true }).catch(() => undefined)))
    })
  )
  return worker.pipe(
    Layer.provide(Layer.mergeAll(
      CoolifyApi.layer({ url: config.COOLIFY_URL, token: config.COOLIFY_TOKEN, requestsPerMinute: config.COOLIFY_REQUESTS_PER_MINUTE }),
      GitHubInstallations.layer
    ))
  )
}
