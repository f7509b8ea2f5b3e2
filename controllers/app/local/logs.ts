/**
 * Deploy and runtime logs for get_app_details (and the CLI's describe) from the local runtime's
 * files: the latest deployment's build log and the app's size-capped runtime log, under DATA_DIR.
 * Implements the MCP server's AppLogs hook; a missing file becomes an explanation, never an error.
 */
import path from "node:path"
import { Effect, Layer } from "effect"
import type { StoredObject } from "../../../src/store/objects.ts"
import { AppLogs, clampLogLines, NO_DEPLOYMENT_YET, type AppLogsService, type LogExcerpt } from "../../../src/mcp/hooks.ts"
import { tailLog } from "../../../src/providers/local/log-file.ts"
import { appPaths, buildLogFile, runtimeLogFile } from "../../../src/providers/local/paths.ts"

const read = (file: string, lines: number, missing: string, note?: string): Effect.Effect<LogExcerpt> =>
  Effect.promise(async () => {
    const found = await tailLog(file, clampLogLines(lines)).catch(() => undefined)
    if (found === undefined || found.length === 0) return { available: false, lines: [], message: missing }
    return { available: true, lines: found, ...(note ? { message: note } : {}) }
  })

export const makeLocalAppLogs = (dataDir: string): AppLogsService => {
  const pathsOf = (app: StoredObject<"App">) => appPaths(path.resolve(dataDir), app.metadata.uid)
  return {
    deployLogs: (app, lines) => {
      const latest = app.status.latestDeployment
      if (!latest) return Effect.succeed(NO_DEPLOYMENT_YET)
      return read(
        buildLogFile(pathsOf(app), latest.id),
        lines,
        `Deployment ${latest.id} has no build output on this server yet (it may not have reached its build, or ran on another machine).`,
        `Deployment ${latest.id} (${latest.state}).`
      )
    },
    runtimeLogs: (app, lines) =>
      read(runtimeLogFile(pathsOf(app)), lines, "The app has printed nothing yet (or has not started); the Ready condition says why.")
  }
}

/** The hook's implementation on the local runtime: the logs are files on this machine. */
export const localAppLogsLayer = (dataDir: string) => Layer.succeed(AppLogs, makeLocalAppLogs(dataDir))
