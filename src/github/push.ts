/**
 * A push to a branch becomes desired state: every App that tracks that repository and branch gets
 * `spec.revision` = the pushed SHA, through the one write path (desired/write.ts), so a change and
 * its reconcile enqueue commit together and the same SHA twice changes nothing.
 */
import { Effect } from "effect"
import { Database } from "../db/database.ts"
import { updateObjectSpec } from "../desired/write.ts"
import type { Owner } from "../store/objects.ts"

export interface BranchPush {
  /** "owner/name" as GitHub spells it; matched case-insensitively (GitHub names are). */
  readonly repoFullName: string
  readonly branch: string
  /** 40 lowercase hex characters. */
  readonly sha: string
}

export interface TrackingApp {
  readonly owner: Owner
  readonly project: string
  readonly name: string
}

/**
 * SYSTEM-LEVEL QUERY (crosses tenants, read only): which Apps, of any owner, track this repository
 * and branch. Pushes arrive once per repository, not per tenant; every write that follows is
 * scoped to the App's own owner. Ordered so concurrent deliveries lock rows in the same order.
 */
export const findAppsTrackingBranchAcrossTenants = (repoFullName: string, branch: string) =>
  Database.use((db) =>
    db.query<TrackingApp>(
      `SELECT owner, project, name FROM objects
        WHERE kind = 'App' AND lower(spec->>'repo') = lower($1) AND spec->>'branch' = $2 AND deletion_timestamp IS NULL
        ORDER BY uid`,
      [repoFullName, branch]
    )
  ).pipe(Effect.map((result) => result.rows))

export interface PushOutcome {
  /** Apps tracking the repository and branch. */
  readonly matched: number
  /** Apps whose revision changed (generation bumped, reconcile enqueued). */
  readonly changed: number
}

/** Sets the revision of every tracking App; run it inside the delivery's transaction. */
export const setRevisionOfTrackingApps = Effect.fn("github.setRevisionOfTrackingApps")(function*(push: BranchPush) {
  const apps = yield* findAppsTrackingBranchAcrossTenants(push.repoFullName, push.branch)
  let changed = 0
  for (const app of apps) {
    const result = yield* updateObjectSpec(app.owner, { kind: "App", project: app.project, name: app.name }, (spec) => ({ ...spec, revision: push.sha })).pipe(
      // Deleted between the lookup and the update: nothing left to deploy.
      Effect.catchTag("ObjectNotFound", () => Effect.succeed({ changed: false }))
    )
    if (result.changed) changed++
  }
  return { matched: apps.length, changed } satisfies PushOutcome
})
