/**
 * Where apps run, across every tenant: the system-level reads and writes behind placement and
 * Host.status.allocated. Tenant code never calls these; they exist because a host's capacity is
 * shared by all tenants' apps (like ObjectStore.listKeysForResync, a deliberate cross-tenant read).
 */
import { Effect, Option } from "effect"
import type { AppSpec } from "../../schemas/index.ts"
import { Database } from "../../src/db/database.ts"
import type { Owner } from "../../src/store/objects.ts"
import { appRequest, type Resources } from "./capacity.ts"

/** The host name the single-server default placement records (Placement.layerSingleServer). */
export const DEFAULT_HOST = "default"

export interface PlacedApp {
  readonly owner: Owner
  readonly uid: string
  readonly project: string
  readonly name: string
  readonly host: string
  readonly request: Resources
}

interface PlacedRow {
  owner: string
  uid: string
  project: string
  name: string
  host: string
  resources: AppSpec["resources"] | null
}

/**
 * Every App that occupies a Host, in every tenant, with what it requests. An app's host is its
 * placement decision when one was recorded, else its status.host (apps placed before decisions
 * were recorded). Apps on the single-server default occupy no Host.
 */
export const listAppPlacementsAcrossTenants = (options: { readonly host?: string } = {}) =>
  Effect.gen(function*() {
    const db = yield* Database
    const result = yield* db.query<PlacedRow>(
      `SELECT owner, uid, project, name, host, resources FROM (
         SELECT o.owner, o.uid, o.project, o.name, o.spec->'resources' AS resources,
                CASE WHEN p.app_uid IS NOT NULL THEN p.host ELSE o.status->>'host' END AS host
           FROM objects o LEFT JOIN host_placements p ON p.app_uid = o.uid
          WHERE o.kind = 'App'
       ) placed
       WHERE host IS NOT NULL AND host <> $1 AND ($2::text IS NULL OR host = $2)
       ORDER BY host, owner, project, name`,
      [DEFAULT_HOST, options.host ?? null]
    )
    return result.rows.map((row): PlacedApp => ({
      owner: row.owner,
      uid: row.uid,
      project: row.project,
      name: row.name,
      host: row.host,
      request: appRequest(row.resources ?? undefined)
    }))
  })

/** Arbitrary constant, distinct from the migration lock: one placement decision at a time. */
const PLACEMENT_LOCK_KEY = 7_301_991_050

/** Serialises placement decisions until the current transaction ends. Call inside Database.transaction. */
export const lockPlacements = Database.use((db) => db.query(`SELECT pg_advisory_xact_lock($1)`, [PLACEMENT_LOCK_KEY])).pipe(Effect.asVoid)

/** The recorded decision: Some(host), Some(null) for "could not be placed", None when never decided. */
export const findPlacement = (appUid: string) =>
  Database.use((db) => db.query<{ host: string | null }>(`SELECT host FROM host_placements WHERE app_uid = $1`, [appUid])).pipe(
    Effect.map((result) => Option.map(Option.fromNullishOr(result.rows[0]), (row) => row.host))
  )

export const recordPlacement = (appUid: string, host: string | null) =>
  Database.use((db) =>
    db.query(
      `INSERT INTO host_placements (app_uid, host) VALUES ($1, $2)
       ON CONFLICT (app_uid) DO UPDATE SET host = EXCLUDED.host, placed_at = now()
        WHERE host_placements.host IS DISTINCT FROM EXCLUDED.host`,
      [appUid, host]
    )
  ).pipe(Effect.asVoid)

/** Forget a decision (the app went to the single-server default, which occupies no Host). */
export const forgetPlacement = (appUid: string) =>
  Database.use((db) => db.query(`DELETE FROM host_placements WHERE app_uid = $1`, [appUid])).pipe(Effect.asVoid)
