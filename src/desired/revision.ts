/**
 * A push becomes desired state the same way whoever saw it — GitHub's webhook or the built-in git
 * remote: `spec.revision` = the pushed SHA through the one write path, so the change and its
 * reconcile commit together, and the same SHA again changes nothing (no generation bump).
 */
import { Effect } from "effect"
import type { Owner } from "../store/objects.ts"
import { updateObjectSpec } from "./write.ts"

export interface AppRef {
  readonly owner: Owner
  readonly project: string
  readonly name: string
}

/** `changed` is false for the SHA it already had, and for an App deleted meanwhile (nothing left to deploy). */
export const setDesiredRevision = (app: AppRef, sha: string) =>
  updateObjectSpec(app.owner, { kind: "App", project: app.project, name: app.name }, (spec) => ({ ...spec, revision: sha })).pipe(
    Effect.map((result) => ({ changed: result.changed })),
    Effect.catchTag("ObjectNotFound", () => Effect.succeed({ changed: false }))
  )
