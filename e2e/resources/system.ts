/** The real server (HTTP, engine with every registered controller) for Resource e2e tests. */
import { startSystem, type RunningSystem } from "../../src/system/boot.ts"
import type { TursoFake } from "../fakes/turso/index.ts"
import { ORG, type captureLogs } from "./support.ts"

export const tursoEnv = (fake: TursoFake) => ({
  TURSO_API_URL: fake.url,
  TURSO_ORG: ORG,
  TURSO_API_TOKEN: fake.token,
  TURSO_GROUP: "default"
})

/** The real server (HTTP, engine with every registered controller) on a test database. */
export const startTestSystem = (options: {
  readonly databaseUrl: string
  readonly key: Buffer
  readonly dataDir: string
  readonly env?: Record<string, string>
  readonly logs?: ReturnType<typeof captureLogs>
}): Promise<RunningSystem> =>
  startSystem({
    env: {
      DATABASE_URL: options.databaseUrl,
      DATA_ENCRYPTION_KEY: options.key.toString("base64"),
      DATA_DIR: options.dataDir,
      PORT: "0",
      LOG_LEVEL: options.logs ? "trace" : "silent",
      ...options.env
    },
    engine: { resyncSeconds: 3600 },
    queue: { heartbeatSeconds: 10, monitorIntervalSeconds: 1 },
    ...(options.logs ? { logDestination: options.logs.destination } : {})
  })
