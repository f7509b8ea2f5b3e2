/**
 * What talking to GitHub can fail with. Messages are sentences a person (or an
 * agent) can act on: they say what GitHub refused and what to do about it.
 */
import { Schema } from "effect";

/** GitHub rejected the credentials (401): a revoked or expired user token, or wrong App credentials. */
export class GitHubUnauthorized extends Schema.TaggedError<GitHubUnauthorized>()("GitHubUnauthorized", {
  operation: Schema.String,
  message: Schema.String,
}) {}

/** GitHub refused the action for these credentials (403), for a reason other than a missing OAuth scope. */
export class GitHubForbidden extends Schema.TaggedError<GitHubForbidden>()("GitHubForbidden", {
  operation: Schema.String,
  message: Schema.String,
}) {}

/** The user's token lacks an OAuth scope the action needs (GitHub hides such endpoints behind 404 or 403). */
export class GitHubScopeMissing extends Schema.TaggedError<GitHubScopeMissing>()("GitHubScopeMissing", {
  operation: Schema.String,
  requiredScopes: Schema.Array(Schema.String),
  grantedScopes: Schema.Array(Schema.String),
  message: Schema.String,
}) {}

/** The object does not exist, or these credentials may not know it exists (GitHub answers both with 404). */
export class GitHubNotFound extends Schema.TaggedError<GitHubNotFound>()("GitHubNotFound", {
  operation: Schema.String,
  message: Schema.String,
}) {}

/** The GitHub App is not installed on the account, or its installation does not include the repository. */
export class GitHubAppNotInstalled extends Schema.TaggedError<GitHubAppNotInstalled>()("GitHubAppNotInstalled", {
  operation: Schema.String,
  /** "owner/name", an account login or "installation <id>". */
  target: Schema.String,
  /** Where to install the App, when its slug is configured. */
  installUrl: Schema.optional(Schema.String),
  message: Schema.String,
}) {}

/** Creating a repository whose name the account already uses (GitHub's 422 "name already exists"). */
export class GitHubRepoAlreadyExists extends Schema.TaggedError<GitHubRepoAlreadyExists>()("GitHubRepoAlreadyExists", {
  operation: Schema.String,
  repoName: Schema.String,
  message: Schema.String,
}) {}

/** GitHub rejected the request as invalid (400/422). */
export class GitHubInvalidRequest extends Schema.TaggedError<GitHubInvalidRequest>()("GitHubInvalidRequest", {
  operation: Schema.String,
  message: Schema.String,
}) {}

/** The OAuth code exchange failed (GitHub answers these with 200 and an `error` field). */
export class GitHubOAuthRejected extends Schema.TaggedError<GitHubOAuthRejected>()("GitHubOAuthRejected", {
  /** GitHub's error code, e.g. "bad_verification_code", "incorrect_client_credentials". */
  error: Schema.String,
  message: Schema.String,
}) {}

/** 5xx, timeouts, network failures or rate limits that outlasted the retries. Safe to try again later. */
export class GitHubUnavailable extends Schema.TaggedError<GitHubUnavailable>()("GitHubUnavailable", {
  operation: Schema.String,
  /** HTTP status when GitHub answered; absent for timeouts and network failures. */
  status: Schema.optional(Schema.Number),
  /** How long GitHub asked us to wait (rate limits), when it said. */
  retryAfterMs: Schema.optional(Schema.Number),
  message: Schema.String,
}) {}

/** What any GitHub call may fail with; methods add the specific errors they can produce. */
export type GitHubError = GitHubUnauthorized | GitHubForbidden | GitHubNotFound | GitHubInvalidRequest | GitHubUnavailable;
