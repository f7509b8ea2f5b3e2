/**
 * Errors every database provider speaks. A controller maps them to condition
 * reasons and backoff without knowing which provider produced them, and their
 * messages are sentences an agent or operator can act on.
 */
import { Schema } from "effect";

/** The provider refused our credentials (401/403): configuration, not a transient problem. */
export class ProviderUnauthorized extends Schema.TaggedError<ProviderUnauthorized>()("ProviderUnauthorized", {
  provider: Schema.String,
  operation: Schema.String,
  message: Schema.String,
}) {}

/** The provider already has something that conflicts with the request (409) and it could not be adopted. */
export class ProviderConflict extends Schema.TaggedError<ProviderConflict>()("ProviderConflict", {
  provider: Schema.String,
  operation: Schema.String,
  message: Schema.String,
}) {}

/** 5xx answers, timeouts or network failures that outlasted the retries. Safe to try again later. */
export class ProviderUnavailable extends Schema.TaggedError<ProviderUnavailable>()("ProviderUnavailable", {
  provider: Schema.String,
  operation: Schema.String,
  /** HTTP status when the provider answered; absent for timeouts and network failures. */
  status: Schema.optional(Schema.Number),
  message: Schema.String,
}) {}

/** 429 that outlasted the retries, or asked to wait longer than a reconcile should block. */
export class ProviderRateLimited extends Schema.TaggedError<ProviderRateLimited>()("ProviderRateLimited", {
  provider: Schema.String,
  operation: Schema.String,
  /** How long the provider asked us to wait (Retry-After), when it said. */
  retryAfterMs: Schema.optional(Schema.Number),
  message: Schema.String,
}) {}

/** The request (or the provider's answer) does not fit the contract: a bad name, a 400, an undecodable body. */
export class ProviderInvalid extends Schema.TaggedError<ProviderInvalid>()("ProviderInvalid", {
  provider: Schema.String,
  operation: Schema.String,
  message: Schema.String,
}) {}

/** The external object does not exist (e.g. minting a token for a database that is gone). */
export class ProviderNotFound extends Schema.TaggedError<ProviderNotFound>()("ProviderNotFound", {
  provider: Schema.String,
  operation: Schema.String,
  externalName: Schema.String,
  message: Schema.String,
}) {}

/** What any call to a provider may fail with; calls on one existing database may also fail with ProviderNotFound. */
export type DatabaseProviderError = ProviderUnauthorized | ProviderConflict | ProviderUnavailable | ProviderRateLimited | ProviderInvalid;
