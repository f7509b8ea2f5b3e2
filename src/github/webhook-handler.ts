/**
 * What a verified GitHub webhook delivery does, independent of HTTP. The route (webhook-route.ts)
 * has already checked the signature and parsed the JSON.
 *
 * Each delivery that changes anything runs in ONE transaction with the record of its
 * X-GitHub-Delivery id: a replay (or GitHub's redelivery) of an id finds it recorded and does
 * nothing; a failure rolls back both, so GitHub's redelivery can try again.
 */
import { Effect, Schema } from "effect"
import { ReconcileQueue } from "../../controllers/engine/queue.ts"
import { enqueueGitHubSource } from "../../controllers/github-source/queue.ts"
import { Database } from "../db/database.ts"
import { inTransaction } from "../desired/write.ts"
import { AppLogger } from "../log/service.ts"
import type { ObjectKey } from "../store/objects.ts"
import { GitHubInstallations, type InstallationFacts } from "./installations.ts"
import { setRevisionOfTrackingApps } from "./push.ts"
import { InstallationEvent, InstallationRepositoriesEvent, PushEvent, type InstallationPayload } from "./webhook-payloads.ts"

export interface WebhookDelivery {
  /** X-GitHub-Delivery. */
  readonly id: string
  /** X-GitHub-Event. */
  readonly event: string
  readonly payload: unknown
}

export interface WebhookOutcome {
  readonly status: 200 | 202 | 204
  readonly body?: Record<string, unknown>
}

/** The payload is valid JSON but not the shape GitHub sends for its event. */
export class WebhookPayloadInvalid extends Schema.TaggedError<WebhookPayloadInvalid>()("WebhookPayloadInvalid", {
  event: Schema.String,
  message: Schema.String
}) {}

const decode = <A>(schema: Schema.Codec<A, unknown>, delivery: WebhookDelivery) =>
  Schema.decodeUnknownEffect(schema)(delivery.payload).pipe(
    Effect.mapError((issue) => new WebhookPayloadInvalid({ event: delivery.event, message: `Not a GitHub "${delivery.event}" payload: ${issue.message}` }))
  )

/** Inserts the delivery id; false when it was recorded before (a replay). Joins the current transaction. */
export const recordDelivery = (delivery: WebhookDelivery) =>
  Database.use((db) =>
    db.query(`INSERT INTO github_webhook_deliveries (delivery_id, event) VALUES ($1, $2) ON CONFLICT (delivery_id) DO NOTHING`, [delivery.id, delivery.event])
  ).pipe(Effect.map((result) => result.rowCount === 1))

const BRANCH_PREFIX = "refs/heads/"
const ZERO_SHA = /^0{40}$/
const SHA = /^[0-9a-f]{40}$/

const pushedAtOf = (push: PushEvent): { readonly pushedAt?: number } => {
  const value = push.repository.pushed_at
  if (typeof value === "number" && Number.isFinite(value)) return { pushedAt: Math.trunc(value) }
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return { pushedAt: Math.trunc(Date.parse(value) / 1000) }
  return {}
}

const handlePush = Effect.fn("github.webhook.push")(function*(delivery: WebhookDelivery) {
  const push = yield* decode(PushEvent, delivery)
  const logger = yield* AppLogger
  const context = { delivery: delivery.id, repo: push.repository.full_name, ref: push.ref }
  if (!push.ref.startsWith(BRANCH_PREFIX)) {
    logger.info(context, "push ignored: not a branch (tags do not deploy)")
    return { status: 200, body: { ignored: "not a branch" } } satisfies WebhookOutcome
  }
  if (push.deleted === true || ZERO_SHA.test(push.after)) {
    logger.info(context, "push ignored: the branch was deleted")
    return { status: 200, body: { ignored: "branch deleted" } } satisfies WebhookOutcome
  }
  const sha = push.after.toLowerCase()
  if (!SHA.test(sha)) return yield* new WebhookPayloadInvalid({ event: "push", message: `"after" is not a 40-character commit SHA: ${push.after}` })
  const branch = push.ref.slice(BRANCH_PREFIX.length)
  return yield* inTransaction(
    Effect.gen(function*() {
      if (!(yield* recordDelivery(delivery))) return { status: 200, body: { duplicate: true } } satisfies WebhookOutcome
      const outcome = yield* setRevisionOfTrackingApps({ repoFullName: push.repository.full_name, branch, sha, ...pushedAtOf(push) })
      if (outcome.stale) logger.info({ ...context, sha }, "push ignored: a newer push of this branch was applied already")
      else if (outcome.matched === 0) logger.info({ ...context, sha }, "push ignored: no App tracks this repository and branch")
      else logger.info({ ...context, sha, ...outcome }, "push applied")
      return { status: 200, body: { ...outcome } } satisfies WebhookOutcome
    })
  )
})

const factsOf = (installation: InstallationPayload, suspended?: boolean): InstallationFacts => ({
  installationId: installation.id,
  accountLogin: installation.account.login ?? installation.account.slug ?? "",
  accountId: installation.account.id,
  accountType: installation.account.type ?? "Enterprise",
  repositorySelection: installation.repository_selection,
  suspended: suspended ?? (installation.suspended_at !== undefined && installation.suspended_at !== null)
})

/** Apps affected by an installation change reconcile soon; their controller decides what it means. */
const enqueueApps = (keys: ReadonlyArray<ObjectKey>) =>
  ReconcileQueue.use((queue) => Effect.forEach(keys, (key) => queue.enqueue("App", key), { discard: true }))

/** The users an installation belongs to from GitHub's point of view: who installed it, and whose account it is on. */
const githubIdsOf = (event: { readonly installation: InstallationPayload; readonly sender: { readonly id: number } }) =>
  event.installation.account.type === "User" ? [event.sender.id, event.installation.account.id] : [event.sender.id]

const handleInstallation = Effect.fn("github.webhook.installation")(function*(delivery: WebhookDelivery) {
  const event = yield* decode(InstallationEvent, delivery)
  const logger = yield* AppLogger
  const known = ["created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"]
  if (!known.includes(event.action)) return { status: 204 } satisfies WebhookOutcome
  return yield* inTransaction(
    Effect.gen(function*() {
      if (!(yield* recordDelivery(delivery))) return { status: 200, body: { duplicate: true } } satisfies WebhookOutcome
      const installations = yield* GitHubInstallations
      const id = event.installation.id
      if (event.action === "deleted") {
        // Find the affected Apps while the tenants are still linked, then forget the installation.
        const affected = yield* installations.appsAffectedBy(id)
        yield* installations.markDeleted(factsOf(event.installation))
        yield* enqueueApps(affected)
        logger.info({ delivery: delivery.id, installation: id, apps: affected.length }, "GitHub App installation deleted")
        return { status: 200, body: { installation: id, deleted: true, apps: affected.length } } satisfies WebhookOutcome
      }
      const suspended = event.action === "suspend" ? true : event.action === "unsuspend" ? false : undefined
      const active = yield* installations.record(
        factsOf(event.installation, suspended),
        event.action === "created" ? (event.repositories ?? []).map((repo) => repo.full_name) : undefined
      )
      if (active) {
        yield* installations.linkGitHubAccounts(id, githubIdsOf(event))
        // Coolify needs a GitHub App source per installation to clone its repositories.
        yield* enqueueGitHubSource(id)
      }
      const affected = yield* installations.appsAffectedBy(id)
      yield* enqueueApps(affected)
      logger.info({ delivery: delivery.id, installation: id, action: event.action, active, apps: affected.length }, "GitHub App installation changed")
      return { status: 200, body: { installation: id, active, apps: affected.length } } satisfies WebhookOutcome
    })
  )
})

const handleInstallationRepositories = Effect.fn("github.webhook.installationRepositories")(function*(delivery: WebhookDelivery) {
  const event = yield* decode(InstallationRepositoriesEvent, delivery)
  return yield* inTransaction(
    Effect.gen(function*() {
      if (!(yield* recordDelivery(delivery))) return { status: 200, body: { duplicate: true } } satisfies WebhookOutcome
      const installations = yield* GitHubInstallations
      const id = event.installation.id
      const facts = factsOf(event.installation)
      const active = yield* installations.record({ ...facts, repositorySelection: event.repository_selection ?? facts.repositorySelection })
      if (active) {
        yield* installations.addRepositories(id, event.repositories_added.map((repo) => repo.full_name))
        yield* installations.removeRepositories(id, event.repositories_removed.map((repo) => repo.full_name))
        yield* installations.linkGitHubAccounts(id, githubIdsOf(event))
      }
      const affected = yield* installations.appsAffectedBy(id)
      yield* enqueueApps(affected)
      return { status: 200, body: { installation: id, active, apps: affected.length } } satisfies WebhookOutcome
    })
  )
})

/** Routes a verified delivery to its handler; events we do not act on answer 204 and write nothing. */
export const handleGitHubWebhook = (delivery: WebhookDelivery) => {
  switch (delivery.event) {
    case "push":
      return handlePush(delivery)
    case "installation":
      return handleInstallation(delivery)
    case "installation_repositories":
      return handleInstallationRepositories(delivery)
    case "ping":
      return Effect.succeed<WebhookOutcome>({ status: 200, body: { pong: true } })
    default:
      return Effect.succeed<WebhookOutcome>({ status: 204 })
  }
}
