/**
 * What this server can do right now, from its configuration alone: where apps run and whether they
 * can deploy, where databases live, whether GitHub is set up, and what is missing for what. whoami
 * reports it (an agent's first call) and create_app uses it, so neither promises what cannot happen.
 */
import { Schema } from "effect"
import type { AppConfigValues } from "../config/config.ts"
import { appRuntimeName } from "../config/runtime.ts"
import { missingGitHubVariables } from "../github/api-layer.ts"

export const ServerCapabilities = Schema.Struct({
  appRuntime: Schema.Literals(["local", "coolify"]),
  canDeploy: Schema.Boolean,
  databaseProvider: Schema.Literals(["turso", "local-sqlite"]),
  githubConfigured: Schema.Boolean,
  /** One sentence per missing piece: what it is needed for and who can fix it. */
  missing: Schema.Array(Schema.String)
})
export type ServerCapabilities = typeof ServerCapabilities.Type

const list = (names: ReadonlyArray<string>) => (names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`)

/** Why apps cannot deploy on this server, or undefined when they can. */
export const deployBlocker = (config: AppConfigValues): string | undefined => {
  // The local runtime needs nothing beyond this machine: bubblewrap sandboxes apps where it works,
  // and where it does not each app's Ready condition says it runs unsandboxed.
  if (appRuntimeName(config) === "local") return undefined
  const absent = (["COOLIFY_URL", "COOLIFY_TOKEN"] as const).filter((name) => config[name] === undefined)
  if (absent.length === 0) return undefined
  return `Apps cannot deploy: the coolify runtime needs COOLIFY_URL and COOLIFY_TOKEN, and ${list(absent)} ${absent.length === 1 ? "is" : "are"} not set; apps are saved and deploy once the operator sets ${absent.length === 1 ? "it" : "them"}.`
}

export const serverCapabilities = (config: AppConfigValues): ServerCapabilities => {
  const blocker = deployBlocker(config)
  const turso = config.TURSO_ORG !== undefined && config.TURSO_API_TOKEN !== undefined
  const githubMissing = missingGitHubVariables(config)
  const missing: Array<string> = blocker === undefined ? [] : [blocker]
  if (!turso) missing.push("Databases are local libSQL files on this server; Turso databases need the operator to set TURSO_ORG and TURSO_API_TOKEN.")
  if (githubMissing.length > 0) {
    missing.push(
      `GitHub sign-in, private repositories, push tokens and create_github_repo need the operator to set ${list(githubMissing)}; until then give public repositories as "owner/name".`
    )
  }
  return {
    appRuntime: appRuntimeName(config),
    canDeploy: blocker === undefined,
    databaseProvider: turso ? "turso" : "local-sqlite",
    githubConfigured: githubMissing.length === 0,
    missing
  }
}
