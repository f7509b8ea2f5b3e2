/**
 * Settings derived from several variables: which app runtime runs apps, and whether local paths
 * may be used as repositories. One place, so the controller, whoami and the tools agree.
 */
import type { AppConfigValues } from "./config.ts"

export type AppRuntimeName = "local" | "coolify"

/** APP_RUNTIME when set; else coolify when COOLIFY_URL is set, else the local runtime. */
export const appRuntimeName = (config: AppConfigValues): AppRuntimeName =>
  config.APP_RUNTIME ?? (config.COOLIFY_URL !== undefined ? "coolify" : "local")

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"])

/** A server reachable only from this machine may read this machine's paths; one on the network may not. */
export const localReposAllowed = (config: AppConfigValues): boolean =>
  config.LOCAL_REPOS === undefined ? LOOPBACK.has(config.HOST) || config.HOST.startsWith("127.") : config.LOCAL_REPOS === "on"
