/**
 * A PostgreSQL session advisory lock that only one server holds at a time: the local runtime runs
 * app processes inside the server process, so two servers on one database would each build and
 * run every app, and fight over the same files. The lock is held by its own connection for as
 * long as the server lives; PostgreSQL releases it when that connection ends (the server stops or
 * dies), so a crashed server never blocks the next start.
 */
import pg from "pg"

/** A fixed 64-bit lock id: "deploy-mcp local runtime" → the first 8 bytes of its sha256, as a signed bigint. */
const LOCAL_RUNTIME_LOCK_ID = "-3558643164470461465"

export interface HeldLock {
  release(): Promise<void>
}

export const acquireSingleRunnerLock = async (
  connectionString: string,
  onConnectionLost: (error: Error) => void
): Promise<HeldLock | undefined> => {
  const client = new pg.Client({ connectionString, application_name: "deploy-mcp local-runtime lock" })
  let released = false
  // Without a listener a dropped connection would kill the process; losing it also loses the lock, which the caller reports.
  client.on("error", (error) => {
    if (!released) onConnectionLost(error)
  })
  await client.connect()
  const result = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [LOCAL_RUNTIME_LOCK_ID])
  if (result.rows[0]?.locked !== true) {
    await client.end()
    return undefined
  }
  return {
    release: async () => {
      released = true
      await client.end().catch(() => undefined)
    }
  }
}
