/**
 * A client checked out of a pg Pool for several statements (a transaction, the migration lock).
 *
 * pg-pool removes its own 'error' listener while a client is checked out, so when the server ends
 * the connection between two statements (a restart's "terminating connection due to administrator
 * command", pg_terminate_backend, a network cut) the client emits an 'error' nobody handles and
 * the process dies. A checkout listens for that error for its whole lifetime: pg has already
 * marked the client unqueryable, so the next statement rejects like any failed query, and
 * `release` destroys the broken connection instead of handing it to the next caller.
 */
import type pg from "pg"

export interface CheckedOutClient {
  readonly client: pg.PoolClient
  /** Returns the client to the pool; destroys it when given an error or when it broke meanwhile. */
  release(error?: Error | boolean): void
}

export const checkOut = async (pool: pg.Pool): Promise<CheckedOutClient> => {
  const client = await pool.connect()
  let broken: Error | undefined
  const onError = (error: Error) => {
    broken ??= error
  }
  client.on("error", onError)
  let released = false
  return {
    client,
    release: (error) => {
      if (released) return
      released = true
      client.release(broken ?? error)
      // After release: pg-pool has put its own listener back, so the client is never unguarded.
      client.removeListener("error", onError)
    }
  }
}
