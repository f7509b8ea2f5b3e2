/**
 * The GitHubSource reconcile queue: keyed by installation id (a system-level key, owned by the
 * platform), enqueued in the same transaction that records an active installation.
 */
import { ReconcileQueue } from "../engine/queue.ts"
import { PLATFORM_OWNER } from "../../src/store/objects.ts"

export const GITHUB_SOURCE_KIND = "GitHubSource"

export const githubSourceKey = (installationId: number) => ({ owner: PLATFORM_OWNER, uid: String(installationId) })

/** Asks for the installation's Coolify source to be ensured; joins the current transaction. */
export const enqueueGitHubSource = (installationId: number) =>
  ReconcileQueue.use((queue) => queue.enqueue(GITHUB_SOURCE_KIND, githubSourceKey(installationId)))
