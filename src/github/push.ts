/**
 * A push to a branch becomes desired state: every App that tracks that repository and branch gets
 * `spec.revision` = the pushed SHA (desired/revision.ts, shared with the built-in git remote).
 */
import { Effect } from "effect"
import { Database } from "../db/database.ts"
import { setDesiredRevision } from "../desired/revision.ts"
import type { Owner } from "../store/objects.ts"

export interface BranchPush {
  /** "owner/name" as GitHub spells it; matched case-insensitively (GitHub names are). */
  readonly repoFullName: string
  readonly branch: string
  /** 40 lowercase hex characters. */
  readonly sha: string
  /** When GitHub says the push happened (Unix seconds), if it said. */
  readonly pushedAt?: number
}

/**
 * Records the push as the branch's newest unless a later one was applied already; false for an
 * older push (a late or replayed delivery), which must not roll Apps back. Pushes in the same
 * second both apply (GitHub's timestamps have one-second resolution).
 */
export const recordBranchHead = (push: BranchPush) =>
  push.pushedAt === undefined
    ? Effect.succeed(true)
    : Database.use((db) =>
        db.query(
          `INSERT INTO github_branch_heads (repo_full_name, branch, pushed_at, sha) VALUES (lower($1), $2, $3, $4)
           ON CONFLICT (repo_full_name, branch) DO UPDATE SET pushed_at = EXCLUDED.pushed_at, sha = EXCLUDED.sha, updated_at = now()
            WHERE github_branch_heads.pushed_at <= EXCLUDED.pushed_at
           RETURNING sha`,
          [push.repoFullName, push.branch, push.pushedAt, push.sha]
        )
      ).pipe(Effect.map((result) => result.rowCount === 1))

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
  /** True when a newer push of the branch was applied before this one: nothing changed. */
  readonly stale?: true
  /** Apps tracking the repository and branch. */
  readonly matched: number
  /** Apps whose revision changed (generation bumped, reconcile enqueued). */
  readonly changed: number
}

/** Sets the revision of every tracking App (unless a newer push won); run it inside the delivery's transaction. */
export const setRevisionOfTrackingApps = Effect.fn("github.setRevisionOfTrackingApps")(function*(push: BranchPush) {
  if (!(yield* recordBranchHead(push))) return { stale: true, matched: 0, changed: 0 } satisfies PushOutcome
  const apps = yield* findAppsTrackingBranchAcrossTenants(push.repoFullName, push.branch)
  let changed = 0
  for (const app of apps) {
    const result = yield* setDesiredRevision(app, push.sha)
    if (result.changed) changed++
  }
  return { matched: apps.length, changed } satisfies PushOutcome
})
