/**
 * An engine replica running the Resource controller against a Turso fake, in its own process, so
 * crash tests can SIGKILL it at any step. Logs go to stdout (the parent scans them for tokens);
 * "READY" on a line of its own says the workers are listening.
 */
import { startResourceEngine } from "./support.ts"

const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is required`)
  return value
}

await startResourceEngine({
  databaseUrl: env("RESOURCE_CHILD_DATABASE_URL"),
  key: Buffer.from(env("RESOURCE_CHILD_KEY"), "base64"),
  provider: { turso: { url: env("RESOURCE_CHILD_TURSO_URL"), token: env("RESOURCE_CHILD_TURSO_TOKEN") } },
  logDestination: process.stdout
})
process.stdout.write("READY\n")
