/**
 * What a call to Coolify can fail with. Every error names the endpoint
 * ("PATCH /applications/{uuid}") and carries a message a person can act on;
 * controllers turn them into condition reasons (ProviderError, InvalidSpec, …).
 */
import { Schema } from "effect";

/** 401, or 400 "Invalid token." (a token without a team): the configured token is wrong. */
export class CoolifyUnauthorized extends Schema.TaggedError<CoolifyUnauthorized>()("CoolifyUnauthorized", {
  endpoint: Schema.String,
  status: Schema.Number,
  message: Schema.String,
}) {}

/** 404: the application, deployment, project, server, env var or GitHub App does not exist. */
export class CoolifyNotFound extends Schema.TaggedError<CoolifyNotFound>()("CoolifyNotFound", {
  endpoint: Schema.String,
  /** The uuid the call was about, when there is one. */
  id: Schema.optional(Schema.String),
  message: Schema.String,
}) {}

export const DomainConflictSchema = Schema.Struct({
  domain: Schema.String,
  resourceName: Schema.optional(Schema.String),
  resourceUuid: Schema.optional(Schema.NullOr(Schema.String)),
});
export type DomainConflict = typeof DomainConflictSchema.Type;

/** 409: a domain is used by another resource, or an env var already exists. */
export class CoolifyConflict extends Schema.TaggedError<CoolifyConflict>()("CoolifyConflict", {
  endpoint: Schema.String,
  message: Schema.String,
  conflicts: Schema.Array(DomainConflictSchema),
}) {}

/** 422: Coolify refused the input; `fieldErrors` are Laravel's messages by field. */
export class CoolifyValidation extends Schema.TaggedError<CoolifyValidation>()("CoolifyValidation", {
  endpoint: Schema.String,
  message: Schema.String,
  fieldErrors: Schema.Record(Schema.String, Schema.Array(Schema.String)),
}) {}

/** Another 400: the request was well-formed JSON but Coolify will not do it now (e.g. logs of a stopped app). */
export class CoolifyBadRequest extends Schema.TaggedError<CoolifyBadRequest>()("CoolifyBadRequest", {
  endpoint: Schema.String,
  message: Schema.String,
}) {}

/** 429 that was not waited out (Retry-After too long, or retries used up). */
export class CoolifyRateLimited extends Schema.TaggedError<CoolifyRateLimited>()("CoolifyRateLimited", {
  endpoint: Schema.String,
  retryAfterMs: Schema.optional(Schema.Number),
  message: Schema.String,
}) {}

/** 5xx (after retries, where retrying was safe). */
export class CoolifyServerError extends Schema.TaggedError<CoolifyServerError>()("CoolifyServerError", {
  endpoint: Schema.String,
  status: Schema.Number,
  message: Schema.String,
}) {}

/** No answer within the per-attempt timeout. A create may still have happened. */
export class CoolifyTimeout extends Schema.TaggedError<CoolifyTimeout>()("CoolifyTimeout", {
  endpoint: Schema.String,
  timeoutMs: Schema.Number,
  message: Schema.String,
}) {}

/** The connection failed (DNS, refused, reset) before an answer arrived. */
export class CoolifyTransport extends Schema.TaggedError<CoolifyTransport>()("CoolifyTransport", {
  endpoint: Schema.String,
  message: Schema.String,
}) {}

/** Coolify answered, but not in a shape or status this client understands. */
export class CoolifyUnexpectedResponse extends Schema.TaggedError<CoolifyUnexpectedResponse>()("CoolifyUnexpectedResponse", {
  endpoint: Schema.String,
  status: Schema.Number,
  message: Schema.String,
}) {}

/** Any failure of a Coolify call. */
export type CoolifyError =
  | CoolifyUnauthorized
  | CoolifyNotFound
  | CoolifyConflict
  | CoolifyValidation
  | CoolifyBadRequest
  | CoolifyRateLimited
  | CoolifyServerError
  | CoolifyTimeout
  | CoolifyTransport
  | CoolifyUnexpectedResponse;
