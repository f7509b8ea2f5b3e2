/**
 * Where the local runtime keeps an app's files, all under DATA_DIR/apps/<app uid>/. One place, so
 * the source, build, supervisor and finalizer agree, and deleting an app is removing one folder.
 * Tenant-controlled names never appear in a path: only the App's uid and our deployment ids do.
 */
import path from "node:path"

export interface AppPaths {
  /** Everything of one app: removed whole when the app is deleted. */
  readonly root: string
  /** Bare mirror of the app's repository (fetched into; never checked out). */
  readonly mirror: string
  /** One folder per deployment: the checked-out commit, built in place. */
  readonly builds: string
  /** Build logs, one file per deployment, and the size-capped runtime log. */
  readonly logs: string
}

export const localRuntimeRoot = (dataDir: string): string => path.resolve(dataDir, "apps")

export const appPaths = (dataDir: string, appUid: string): AppPaths => {
  const root = path.join(localRuntimeRoot(dataDir), appUid)
  return { root, mirror: path.join(root, "mirror.git"), builds: path.join(root, "builds"), logs: path.join(root, "logs") }
}

export const buildDir = (paths: AppPaths, deploymentId: string): string => path.join(paths.builds, deploymentId)
export const buildLogFile = (paths: AppPaths, deploymentId: string): string => path.join(paths.logs, `build-${deploymentId}.log`)
export const runtimeLogFile = (paths: AppPaths): string => path.join(paths.logs, "runtime.log")

/** The built-in git remote's bare repository of an app (pushed to by `git push`, read by the runtime). */
export const pushRemoteDir = (dataDir: string, appUid: string): string => path.resolve(dataDir, "git", `${appUid}.git`)
