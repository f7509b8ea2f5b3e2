/**
 * Host names are one namespace for every tenant (`<name>.<APP_DNS_SUFFIX>`, `<name>.localhost`,
 * custom domains), while App names are only unique per owner and project. Before an App is served
 * under a host it claims it (migrations/080_app_host_claims.sql): the first claim wins and holds
 * until that App is gone, so no tenant can take another's traffic by choosing the same name.
 */
import { Effect } from "effect"
import { Database } from "../../src/db/database.ts"

/** Claims `host` for the App (idempotent) and releases the App's other hosts; returns whether it holds `host`. */
export const claimHost = (host: string, appUid: string) =>
  Effect.gen(function*() {
    const name = host.toLowerCase()
    const db = yield* Database
    const held = yield* db.query<{ app_uid: string }>(
      `WITH claimed AS (
         INSERT INTO app_host_claims (host, app_uid) VALUES ($1, $2) ON CONFLICT (host) DO NOTHING RETURNING app_uid
       )
       SELECT app_uid FROM claimed UNION ALL SELECT app_uid FROM app_host_claims WHERE host = $1 LIMIT 1`,
      [name, appUid]
    )
    const holds = held.rows[0]?.app_uid === appUid
    // A changed domain or name frees the host the App had before.
    if (holds) yield* db.query(`DELETE FROM app_host_claims WHERE app_uid = $1 AND host <> $2`, [appUid, name])
    return holds
  })

export const hostTakenMessage = (host: string, customDomain: boolean) =>
  customDomain
    ? `The host ${host} is already served by another app on this server. Give this app another domain with update_app.`
    : `The host ${host} is already served by another app on this server (app names become host names, which everyone here shares). Choose another name (delete_app, then create_app with the new name) or give this app its own domain with update_app.`
