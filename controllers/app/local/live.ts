/**
 * Which deployment of an app serves traffic on this machine, kept on disk beside its builds
 * (DATA_DIR/apps/<uid>/live.json): the local runtime's "real world" that survives a restart. After
 * one, the runtime reads it to start the last good build again without rebuilding, and to know
 * which apps to wake.
 */
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises"
import path from "node:path"
import { Schema } from "effect"
import { localRuntimeRoot } from "../../../src/providers/local/paths.ts"

export const LiveDeployment = Schema.Struct({
  owner: Schema.String,
  uid: Schema.String,
  deploymentId: Schema.String,
  revision: Schema.String,
  /** A process to run (`start` in the build folder) or files to serve (`staticRoot`, relative to it). */
  start: Schema.optionalKey(Schema.String),
  staticRoot: Schema.optionalKey(Schema.String),
  /** The health check path the process was admitted with. */
  healthPath: Schema.String
})
export type LiveDeployment = typeof LiveDeployment.Type

const decode = Schema.decodeUnknownOption(Schema.fromJsonString(LiveDeployment))

const liveFile = (root: string) => path.join(root, "live.json")

export const readLive = async (appRoot: string): Promise<LiveDeployment | undefined> => {
  const text = await readFile(liveFile(appRoot), "utf8").catch(() => undefined)
  if (text === undefined) return undefined
  const decoded = decode(text)
  return decoded._tag === "Some" ? decoded.value : undefined
}

/** Written to a temporary file and renamed: a crash leaves the old record or the new one, never half. */
export const writeLive = async (appRoot: string, live: LiveDeployment): Promise<void> => {
  await mkdir(appRoot, { recursive: true })
  const temporary = `${liveFile(appRoot)}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify(live), { mode: 0o600 })
  await rename(temporary, liveFile(appRoot))
}

/** Every app with a live deployment on this machine (to wake them after a restart). */
export const listLive = async (dataDir: string): Promise<ReadonlyArray<LiveDeployment>> => {
  const root = localRuntimeRoot(dataDir)
  const entries = await readdir(root).catch(() => [] as Array<string>)
  const found = await Promise.all(entries.map((entry) => readLive(path.join(root, entry))))
  return found.filter((live): live is LiveDeployment => live !== undefined)
}
