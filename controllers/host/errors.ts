import { Schema } from "effect"

/**
 * A host check that should be retried with backoff (unreachable, authentication refused, a command
 * that hung). The Host's conditions already say why; this only tells the engine to back off.
 */
export class HostCheckFailed extends Schema.TaggedError<HostCheckFailed>()("HostCheckFailed", {
  host: Schema.String,
  reason: Schema.String,
  message: Schema.String
}) {}
