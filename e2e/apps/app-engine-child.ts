/**
 * An engine replica running the App controller in its own process, pointed at Coolify through
 * APP_CHILD_COOLIFY_URL, so crash tests can SIGKILL it in the middle of a call. "READY" on a line
 * of its own says its workers are listening.
 */
import { startAppEngine } from "./support.ts"

const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is required`)
  return value
}

await startAppEngine({
  databaseUrl: env("APP_CHILD_DATABASE_URL"),
  key: Buffer.from(env("APP_CHILD_KEY"), "base64"),
  // Long enough that a held request is still waiting when the parent kills this process.
  coolify: { url: env("APP_CHILD_COOLIFY_URL"), token: env("APP_CHILD_COOLIFY_TOKEN"), timeoutMs: 60_000 },
  // Batches of 8: the crash test's five held steps are fetched together.
  engine: { concurrency: 16 },
  ...(process.env["APP_CHILD_LOG"] ? { logDestination: process.stderr } : {})
})
process.stdout.write("READY\n")
