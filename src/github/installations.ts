/**
 * What we know about the GitHub App's installations, and which tenants may use them.
 *
 * Facts come only from GitHub: the setup callback and sign-in ask GitHub which installations a
 * user can access, and installation webhooks (signed) report creation, deletion, suspension and
 * repository changes. Installation ids are never reused, so a deleted installation stays deleted.
 *
 * The App controller asks `forRepo(owner, "acme/site")`: None means the tenant has no usable
 * installation for that repository — its App reports Deployed=False, WaitingForGitHubApp.
 * The list of repositories of a "selected" installation comes from installation webhooks.
 */
import { Context, Effect, Layer, Option } from "effect"
import { Database, type DatabaseError } from "../db/database.ts"
import type { ObjectKey, Owner } from "../store/objects.ts"

export interface InstallationFacts {
  readonly installationId: number
  readonly accountLogin: string
  readonly accountId: number
  /** "User", "Organization" or "Enterprise". */
  readonly accountType: string
  readonly repositorySelection: "all" | "selected"
  readonly suspended: boolean
}

export interface InstallationSummary extends InstallationFacts {
  readonly deleted: boolean
}

interface InstallationRow {
  installation_id: string
  account_login: string
  account_id: string
  account_type: string
  repository_selection: "all" | "selected"
  suspended: boolean
  deleted_at: Date | null
}

const toSummary = (row: InstallationRow): InstallationSummary => ({
  installationId: Number(row.installation_id),
  accountLogin: row.account_login,
  accountId: Number(row.account_id),
  accountType: row.account_type,
  repositorySelection: row.repository_selection,
  suspended: row.suspended,
  deleted: row.deleted_at !== null
})

const COLUMNS = "i.installation_id, i.account_login, i.account_id, i.account_type, i.repository_selection, i.suspended, i.deleted_at"

const lower = (names: ReadonlyArray<string>) => [...new Set(names.map((name) => name.toLowerCase()))]

export class GitHubInstallations extends Context.Service<GitHubInstallations, {
  /**
   * Records an installation as GitHub reported it; `repositories` ("owner/name"), when given,
   * replace the known selection. A deleted installation is left deleted. Returns whether the
   * installation is active afterwards.
   */
  record(facts: InstallationFacts, repositories?: ReadonlyArray<string>): Effect.Effect<boolean, DatabaseError>
  addRepositories(installationId: number, repositories: ReadonlyArray<string>): Effect.Effect<void, DatabaseError>
  removeRepositories(installationId: number, repositories: ReadonlyArray<string>): Effect.Effect<void, DatabaseError>
  /** Marks the installation deleted (recording it first if we never heard of it, so a late `created` cannot revive it). */
  markDeleted(facts: InstallationFacts): Effect.Effect<void, DatabaseError>
  /** Lets these users (tenants) use the installation. */
  linkUsers(installationId: number, userIds: ReadonlyArray<string>): Effect.Effect<void, DatabaseError>
  /** Links the users whose GitHub account ids are given (installer, account owner), if they have signed in. */
  linkGitHubAccounts(installationId: number, githubIds: ReadonlyArray<number>): Effect.Effect<void, DatabaseError>
  /** The active, unsuspended installation this tenant may use for "owner/name", if any. */
  forRepo(owner: Owner, repoFullName: string): Effect.Effect<Option.Option<number>, DatabaseError>
  /** The installation's facts, linked to this tenant, if any (active or not). */
  linkedTo(owner: Owner, installationId: number): Effect.Effect<Option.Option<InstallationSummary>, DatabaseError>
  /** Active installations this tenant may use. */
  listForUser(owner: Owner): Effect.Effect<ReadonlyArray<InstallationSummary>, DatabaseError>
  /**
   * System-level (crosses tenants, read only): keys of the Apps whose repository lives on the
   * installation's account and whose owner is linked to it — what to reconcile when it changes.
   */
  appsAffectedBy(installationId: number): Effect.Effect<ReadonlyArray<ObjectKey>, DatabaseError>
}>()("deploy-mcp/github/GitHubInstallations") {
  static readonly layer = Layer.effect(
    GitHubInstallations,
    Effect.gen(function*() {
      const db = yield* Database

      const upsert = (facts: InstallationFacts, deleted: boolean) =>
        db.query<{ active: boolean }>(
          `INSERT INTO github_installations
             (installation_id, account_login, account_id, account_type, repository_selection, suspended, deleted_at)
           VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::boolean THEN now() END)
           ON CONFLICT (installation_id) DO UPDATE SET
             account_login = EXCLUDED.account_login, account_type = EXCLUDED.account_type,
             repository_selection = EXCLUDED.repository_selection, suspended = EXCLUDED.suspended,
             deleted_at = coalesce(github_installations.deleted_at, EXCLUDED.deleted_at), updated_at = now()
           RETURNING deleted_at IS NULL AS active`,
          [facts.installationId, facts.accountLogin, facts.accountId, facts.accountType, facts.repositorySelection, facts.suspended, deleted]
        )

      /** Runs an insert of (installation, each of `values`) — skipped when there is nothing to insert. */
      const insertForEach = (sql: string, installationId: number, values: ReadonlyArray<unknown>) =>
        values.length === 0 ? Effect.void : db.query(sql, [installationId, values]).pipe(Effect.asVoid)

      const addRepositories = (installationId: number, repositories: ReadonlyArray<string>) =>
        insertForEach(
          `INSERT INTO github_installation_repos (installation_id, repo_full_name)
           SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
          installationId,
          lower(repositories)
        )

      const record = (facts: InstallationFacts, repositories?: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const result = yield* upsert(facts, false)
          const active = result.rows[0]?.active ?? false
          if (active && repositories !== undefined) {
            yield* db.query(`DELETE FROM github_installation_repos WHERE installation_id = $1 AND NOT (repo_full_name = ANY($2::text[]))`, [
              facts.installationId,
              lower(repositories)
            ])
            yield* addRepositories(facts.installationId, repositories)
          }
          return active
        })

      const forRepo = (owner: Owner, repoFullName: string) =>
        db
          .query<{ installation_id: string }>(
            `SELECT i.installation_id FROM github_installations i
               JOIN github_installation_users u ON u.installation_id = i.installation_id AND u.user_id = $1
              WHERE i.deleted_at IS NULL AND NOT i.suspended
                AND lower(i.account_login) = lower(split_part($2, '/', 1))
                AND (i.repository_selection = 'all' OR EXISTS (
                      SELECT 1 FROM github_installation_repos r
                       WHERE r.installation_id = i.installation_id AND r.repo_full_name = lower($2)))
              ORDER BY i.installation_id DESC LIMIT 1`,
            [owner, repoFullName]
          )
          .pipe(Effect.map((result) => Option.map(Option.fromNullishOr(result.rows[0]), (row) => Number(row.installation_id))))

      return GitHubInstallations.of({
        record,
        addRepositories,
        removeRepositories: (installationId, repositories) =>
          db
            .query(`DELETE FROM github_installation_repos WHERE installation_id = $1 AND repo_full_name = ANY($2::text[])`, [installationId, lower(repositories)])
            .pipe(Effect.asVoid),
        markDeleted: (facts) =>
          upsert(facts, true).pipe(
            Effect.andThen(db.query(`DELETE FROM github_installation_repos WHERE installation_id = $1`, [facts.installationId])),
            Effect.asVoid
          ),
        linkUsers: (installationId, userIds) =>
          insertForEach(
            `INSERT INTO github_installation_users (installation_id, user_id)
             SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
            installationId,
            [...new Set(userIds)]
          ),
        linkGitHubAccounts: (installationId, githubIds) =>
          insertForEach(
            `INSERT INTO github_installation_users (installation_id, user_id)
             SELECT $1, id FROM users WHERE github_id = ANY($2::bigint[]) ON CONFLICT DO NOTHING`,
            installationId,
            [...new Set(githubIds)]
          ),
        forRepo,
        linkedTo: (owner, installationId) =>
          db
            .query<InstallationRow>(
              `SELECT ${COLUMNS} FROM github_installations i
                 JOIN github_installation_users u ON u.installation_id = i.installation_id AND u.user_id = $1
                WHERE i.installation_id = $2`,
              [owner, installationId]
            )
            .pipe(Effect.map((result) => Option.map(Option.fromNullishOr(result.rows[0]), toSummary))),
        listForUser: (owner) =>
          db
            .query<InstallationRow>(
              `SELECT ${COLUMNS} FROM github_installations i
                 JOIN github_installation_users u ON u.installation_id = i.installation_id AND u.user_id = $1
                WHERE i.deleted_at IS NULL ORDER BY i.account_login, i.installation_id`,
              [owner]
            )
            .pipe(Effect.map((result) => result.rows.map(toSummary))),
        appsAffectedBy: (installationId) =>
          db
            .query<ObjectKey>(
              `SELECT o.owner, o.uid FROM objects o
                 JOIN github_installation_users u ON u.user_id = o.owner AND u.installation_id = $1
                 JOIN github_installations i ON i.installation_id = $1
                WHERE o.kind = 'App' AND lower(split_part(o.spec->>'repo', '/', 1)) = lower(i.account_login)
                ORDER BY o.uid`,
              [installationId]
            )
            .pipe(Effect.map((result) => result.rows.map((row) => ({ owner: row.owner, uid: row.uid }))))
      })
    })
  )
}
