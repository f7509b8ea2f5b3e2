/**
 * One call to GitHub through Octokit: a per-attempt timeout, Octokit's
 * RequestError → typed GitHub error, and retries with capped, jittered backoff
 * where repeating the call is safe.
 */
import { Duration, Effect, Option, Predicate, Schedule } from "effect";
import { RequestError } from "@octokit/request-error";
import { GitHubForbidden, GitHubInvalidRequest, GitHubNotFound, GitHubUnauthorized, GitHubUnavailable } from "./errors.ts";
import type { GitHubError } from "./errors.ts";

export interface RequestPolicy {
  readonly timeoutMs: number;
  /** Retries after the first attempt, for calls that are safe to repeat. */
  readonly retries: number;
  readonly retryBaseDelayMs: number;
}

/** What GitHub answered, for callers that read more than the status (scope headers, error lists). */
export interface GitHubFailure {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number | undefined>>;
  /** GitHub's `message`, or Octokit's description. */
  readonly detail: string;
  /** The messages in a 422's `errors` list. */
  readonly errors: ReadonlyArray<string>;
}

export interface GitHubCall<A, E> {
  /** Names the call in errors and spans, e.g. "repos/get". */
  readonly operation: string;
  /** What we tried to do, for messages: "read repository alice/app". */
  readonly action: string;
  /**
   * "idempotent": repeated on 5xx, timeouts, network failures and short rate limits.
   * "once": never repeated — it may have taken effect (creating a repository).
   */
  readonly retry: "idempotent" | "once";
  readonly run: (signal: AbortSignal) => Promise<A>;
  /** Turns an answer into a more specific error than the status alone says; undefined → by status. */
  readonly refine?: (failure: GitHubFailure) => E | undefined;
}

const MAX_BACKOFF = Duration.seconds(5);
/** A rate limit that resets later than this is not waited out inside one call. */
const MAX_RETRY_AFTER_MS = 10_000;

const headerOf = (headers: GitHubFailure["headers"], name: string): string | undefined => {
  const value = headers[name];
  return value === undefined ? undefined : String(value);
};

const failureOf = (error: RequestError): GitHubFailure => {
  const data = error.response?.data;
  const message = Predicate.isObject(data) && "message" in data && Predicate.isString(data.message) ? data.message : error.message;
  const errors =
    Predicate.isObject(data) && "errors" in data && Array.isArray(data.errors)
      ? data.errors.flatMap((entry: unknown) =>
          Predicate.isObject(entry) && "message" in entry && Predicate.isString(entry.message) ? [entry.message] : Predicate.isString(entry) ? [entry] : [],
        )
      : [];
  return { status: error.status, headers: error.response?.headers ?? {}, detail: message, errors };
};

/** GitHub signals rate limits with 429, or 403 plus `x-ratelimit-remaining: 0` / `retry-after`. */
const rateLimitWaitMs = (failure: GitHubFailure): Option.Option<number> => {
  if (failure.status !== 429 && failure.status !== 403) return Option.none();
  const retryAfter = headerOf(failure.headers, "retry-after");
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) return Option.some(Number(retryAfter) * 1000);
  if (headerOf(failure.headers, "x-ratelimit-remaining") === "0") {
    const reset = Number(headerOf(failure.headers, "x-ratelimit-reset"));
    return Option.some(Number.isFinite(reset) ? Math.max(0, reset * 1000 - Date.now()) : 60_000);
  }
  return failure.status === 429 ? Option.some(60_000) : Option.none();
};

/** The default reading of a status, once `refine` has had its say. */
const byStatus = (operation: string, action: string, failure: GitHubFailure): GitHubError => {
  const said = `GitHub refused to ${action}: ${failure.detail} (HTTP ${failure.status}).`;
  const wait = rateLimitWaitMs(failure);
  if (Option.isSome(wait)) {
    return new GitHubUnavailable({
      operation,
      status: failure.status,
      retryAfterMs: wait.value,
      message: `GitHub's rate limit stopped us from trying to ${action}; it resets in ${Math.ceil(wait.value / 1000)} s.`,
    });
  }
  switch (failure.status) {
    case 401:
      return new GitHubUnauthorized({ operation, message: said });
    case 403:
      return new GitHubForbidden({ operation, message: said });
    case 404:
      return new GitHubNotFound({ operation, message: `GitHub found nothing when trying to ${action} (HTTP 404).` });
    case 400:
    case 422: {
      const details = failure.errors.length > 0 ? ` ${failure.errors.join("; ")}.` : "";
      return new GitHubInvalidRequest({ operation, message: `${said}${details}` });
    }
    default:
      return new GitHubUnavailable({ operation, status: failure.status, message: `GitHub failed to ${action}: ${failure.detail} (HTTP ${failure.status}).` });
  }
};

const toError = <E>(call: GitHubCall<unknown, E>, cause: unknown): GitHubError | E => {
  // Octokit reports network failures as status 500 without a response.
  if (cause instanceof RequestError && cause.response !== undefined) {
    const failure = failureOf(cause);
    return call.refine?.(failure) ?? byStatus(call.operation, call.action, failure);
  }
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new GitHubUnavailable({ operation: call.operation, message: `Could not reach GitHub to ${call.action}: ${reason}.` });
};

const retryable =
  (mode: GitHubCall<unknown, unknown>["retry"]) =>
  (error: unknown): boolean => {
    if (!(error instanceof GitHubUnavailable)) return false;
    if (error.retryAfterMs !== undefined) return error.retryAfterMs <= MAX_RETRY_AFTER_MS;
    return mode === "idempotent";
  };

export const makeGitHubRequester = (policy: RequestPolicy) => {
  const schedule = Schedule.min([Schedule.exponential(Duration.millis(policy.retryBaseDelayMs)), Schedule.spaced(MAX_BACKOFF)]).pipe(
    Schedule.jittered,
    Schedule.setInputType<unknown>(),
    // Retry-After is the least we wait; our own backoff may ask for more.
    Schedule.modifyDelay(({ duration, input }) =>
      Effect.succeed(input instanceof GitHubUnavailable && input.retryAfterMs !== undefined ? Duration.max(duration, Duration.millis(input.retryAfterMs)) : duration),
    ),
  );

  return <A, E = never>(call: GitHubCall<A, E>): Effect.Effect<A, GitHubError | E> =>
    Effect.tryPromise({ try: (signal) => call.run(signal), catch: (cause) => toError(call, cause) }).pipe(
      Effect.timeoutOrElse({
        duration: Duration.millis(policy.timeoutMs),
        orElse: () =>
          Effect.fail(
            new GitHubUnavailable({
              operation: call.operation,
              message: `GitHub did not answer within ${policy.timeoutMs} ms when we tried to ${call.action}.${call.retry === "once" ? " It may still have taken effect." : ""}`,
            }),
          ),
      }),
      Effect.retry({ schedule, times: policy.retries, while: retryable(call.retry) }),
      Effect.withSpan(`GitHubApi.${call.operation}`),
    );
};
