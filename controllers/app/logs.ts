/**
 * Deploy and runtime logs for get_app_details, from Coolify: the latest deployment's build log and
 * the running container's output, at most LOG_LINES_MAX (src/mcp/hooks.ts) lines each. Implements the MCP server's
 * AppLogs hook (src/mcp/hooks.ts); failures become an explanation, never an error.
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "../../src/config/config.ts"
import { AppLogs, clampLogLines, NO_DEPLOYMENT_YET, type AppLogsService, type LogExcerpt } from "../../src/mcp/hooks.ts"
import { CoolifyApi, deploymentLogLines } from "../../src/providers/coolify/index.ts"
import type { CoolifyError } from "../../src/providers/coolify/index.ts"
import { externalIdOf } from "./observe.ts"
import { appRuntimeName } from "../../src/config/runtime.ts"
import { localAppLogsLayer } from "./local/logs.ts"

/** Coolify calls a minute the logs may use: their own share beside the controller's pacing. */
export const LOGS_REQUESTS_PER_MINUTE = 10

const tail = (lines: ReadonlyArray<string>, count: number): LogExcerpt => ({
  available: true,
  lines: lines.filter((line) => line !== "").slice(-clampLogLines(count))
})

const unavailable = (message: string): LogExcerpt => ({ available: false, lines: [], message })

const failed = (what: string) => (error: CoolifyError) => Effect.succeed(unavailable(`Coolify could not return the ${what}: ${error.message}`))

export const makeCoolifyAppLogs = (api: CoolifyApi["Service"]): AppLogsService => ({
  deployLogs: (app, lines) => {
    const latest = app.status.latestDeployment
    if (!latest) return Effect.succeed(NO_DEPLOYMENT_YET)
    return api.getDeployment(latest.id).pipe(
      Effect.map((deployment) => ({ ...tail(deploymentLogLines(deployment.logs), lines), message: `Deployment ${latest.id} (${deployment.status}).` })),
      Effect.catchTag("CoolifyNotFound", () => Effect.succeed(unavailable(`Coolify no longer has deployment ${latest.id}.`))),
      Effect.catch(failed("deploy logs"))
    )
  },
  runtimeLogs: (app, lines) => {
    const uuid = externalIdOf(app)
    if (uuid === undefined) return Effect.succeed(unavailable("The app has not been created in Coolify yet; see the Synced and Deployed conditions."))
    return api.getApplicationLogs(uuid, clampLogLines(lines)).pipe(
      Effect.map((text) => tail(text.split("\n"), lines)),
      Effect.catchTag("CoolifyBadRequest", () =>
        Effect.succeed(unavailable("The app's container is not running, so it has no runtime logs; the deploy logs and the Ready condition say why."))
      ),
      Effect.catch(failed("runtime logs"))
    )
  }
})

/** The hook's implementation when Coolify is configured (COOLIFY_URL, COOLIFY_TOKEN); nothing otherwise. */
export const coolifyAppLogsLayer: Layer.Layer<never, never, AppConfig> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* AppConfig
    if (config.COOLIFY_URL === undefined || config.COOLIFY_TOKEN === undefined) return Layer.empty
    return Layer.effect(AppLogs, CoolifyApi.use((api) => Effect.succeed(makeCoolifyAppLogs(api)))).pipe(
      Layer.provide(CoolifyApi.layer({ url: config.COOLIFY_URL, token: config.COOLIFY_TOKEN, requestsPerMinute: LOGS_REQUESTS_PER_MINUTE, timeoutMs: 10_000 }))
    )
  })
)

/** Logs from wherever apps run: files on this machine for the local runtime, Coolify's API for coolify. */
export const appLogsLayer: Layer.Layer<never, never, AppConfig> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* AppConfig
    return appRuntimeName(config) === "local" ? localAppLogsLayer(config.DATA_DIR) : coolifyAppLogsLayer
  })
)
