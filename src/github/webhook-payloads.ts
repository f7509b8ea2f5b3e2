/**
 * The parts of GitHub's webhook payloads we act on, decoded with Schema at the boundary (other
 * fields are ignored). Shapes follow GitHub's webhook docs / @octokit/webhooks-types.
 */
import { Schema } from "effect"

const Account = Schema.Struct({
  id: Schema.Number,
  // Enterprise accounts carry a slug instead of a login.
  login: Schema.optionalKey(Schema.String),
  slug: Schema.optionalKey(Schema.String),
  type: Schema.optionalKey(Schema.String)
})

const Installation = Schema.Struct({
  id: Schema.Number,
  account: Account,
  repository_selection: Schema.Literals(["all", "selected"]),
  suspended_at: Schema.optionalKey(Schema.NullOr(Schema.String))
})
export type InstallationPayload = typeof Installation.Type

const RepositoryRef = Schema.Struct({ full_name: Schema.String })

const Sender = Schema.Struct({ id: Schema.Number, login: Schema.String })

export const PushEvent = Schema.Struct({
  ref: Schema.String,
  after: Schema.String,
  deleted: Schema.optionalKey(Schema.Boolean),
  repository: Schema.Struct({
    full_name: Schema.String,
    /** Push payloads carry Unix seconds here (other events an ISO string); when this push happened. */
    pushed_at: Schema.optionalKey(Schema.NullOr(Schema.Union([Schema.Number, Schema.String])))
  })
})
export type PushEvent = typeof PushEvent.Type

export const InstallationEvent = Schema.Struct({
  action: Schema.String,
  installation: Installation,
  /** Listed on `created` (and `deleted`): the repositories the installation covers. */
  repositories: Schema.optionalKey(Schema.Array(RepositoryRef)),
  sender: Sender
})
export type InstallationEvent = typeof InstallationEvent.Type

export const InstallationRepositoriesEvent = Schema.Struct({
  action: Schema.String,
  installation: Installation,
  repository_selection: Schema.optionalKey(Schema.Literals(["all", "selected"])),
  repositories_added: Schema.Array(RepositoryRef),
  repositories_removed: Schema.Array(RepositoryRef),
  sender: Sender
})
export type InstallationRepositoriesEvent = typeof InstallationRepositoriesEvent.Type
