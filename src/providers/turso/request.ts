/**
 * One call to Turso's platform API: a per-attempt timeout, HTTP status →
 * typed provider error, and retries with capped, jittered backoff that honour
 * Retry-After — but only where repeating the call is safe.
 */
import { Cause, Duration, Effect, Schedule, Schema } from "effect";
import { Headers } from "effect/http";
import type { HttpClient, HttpClientError, HttpClientRequest } from "effect/http";
import {
  ProviderConflict,
  ProviderInvalid,
  ProviderRateLimited,
  ProviderUnauthorized,
  ProviderUnavailable,
} from "../database/errors.ts";
import type { ResolvedTursoApiConfig } from "./config.ts";
import { ErrorBody } from "./schemas.ts";

const PROVIDER = "turso";
const MAX_BACKOFF = Duration.seconds(5);

/** What any Turso call may fail with; calls about one database may add ProviderNotFound (see TursoApi). */
export type TursoError = ProviderUnauthorized | ProviderConflict | ProviderUnavailable | ProviderRateLimited | ProviderInvalid;

/**
 * "idempotent": repeat on 5xx, timeouts, network failures and 429.
 * "once": repeat only on 429 (Turso refused before doing anything). A create
 * that timed out or got a 5xx may have happened; it is not repeated blindly —
 * the caller observes by name and adopts instead.
 */
export type RetryMode = "idempotent" | "once";

export interface TursoCall {
  /** operationId in Turso's document, e.g. "createDatabase". */
  readonly operation: string;
  /** Human description for messages, e.g. `create database "shop"`. */
  readonly action: string;
  readonly request: HttpClientRequest.HttpClientRequest;
  readonly retry: RetryMode;
  /** The database the call is about (span attribute). */
  readonly databaseName?: string;
  /** Non-2xx statuses the caller interprets itself (e.g. 404 on a get) instead of failing. */
  readonly accept?: ReadonlyArray<number>;
}

export interface TursoAnswer {
  readonly status: number;
  /** Parsed JSON body; undefined when empty. */
  readonly body: unknown;
}

export type TursoRequester = (call: TursoCall) => Effect.Effect<TursoAnswer, TursoError>;

export const makeTursoRequester = (client: HttpClient.HttpClient, config: ResolvedTursoApiConfig): TursoRequester => {
  const retrySchedule = Schedule.min([Schedule.exponential(Duration.millis(config.retryBaseDelayMs)), Schedule.spaced(MAX_BACKOFF)]).pipe(
    Schedule.jittered,
    Schedule.setInputType<TursoError>(),
    // Retry-After is the least we wait; our own backoff may ask for more.
    Schedule.modifyDelay(({ duration, input }) =>
      Effect.succeed(
        input._tag === "ProviderRateLimited" && input.retryAfterMs !== undefined
          ? Duration.max(duration, Duration.millis(input.retryAfterMs))
          : duration,
      ),
    ),
    Schedule.tap(({ input, duration }) =>
      Effect.logDebug(`Turso: retrying in ${Math.round(Duration.toMillis(duration))} ms after: ${input.message}`),
    ),
  );

  const retryable =
    (mode: RetryMode) =>
    (error: TursoError): boolean => {
      if (error._tag === "ProviderRateLimited") return (error.retryAfterMs ?? 0) <= config.maxRetryAfterMs;
      return mode === "idempotent" && error._tag === "ProviderUnavailable";
    };

  const attempt = (call: TursoCall): Effect.Effect<TursoAnswer, TursoError> =>
    client.execute(call.request).pipe(
      Effect.flatMap((response) => Effect.map(response.text, (text) => ({ response, text }))),
      Effect.timeout(Duration.millis(config.timeoutMs)),
      Effect.mapError((cause) => failureError(call, config, cause)),
      Effect.flatMap(({ response, text }) => interpret(call, config, response.status, response.headers, text)),
    );

  return (call) =>
    Effect.suspend(() => {
      let attempts = 0;
      return Effect.suspend(() => {
        attempts += 1;
        return attempt(call);
      }).pipe(
        Effect.retry({ schedule: retrySchedule, times: config.retries, while: retryable(call.retry) }),
        Effect.mapError((error) => (attempts > 1 ? afterAttempts(error, attempts) : error)),
      );
    }).pipe(Effect.withSpan(`TursoApi.${call.operation}`, { attributes: { "turso.database": call.databaseName } }));
};

/** A timeout or a request that never got an HTTP answer. */
const failureError = (
  call: TursoCall,
  config: ResolvedTursoApiConfig,
  cause: HttpClientError.HttpClientError | Cause.TimeoutError,
): ProviderUnavailable => {
  const mayHaveHappened = call.retry === "once" ? " It may still have taken effect; look it up by name before trying again." : "";
  const message = Cause.isTimeoutError(cause)
    ? `Turso did not answer ${call.action} within ${config.timeoutMs} ms.${mayHaveHappened}`
    : `Could not reach Turso at ${config.apiUrl} to ${call.action}: ${cause.message}.${mayHaveHappened}`;
  return new ProviderUnavailable({ provider: PROVIDER, operation: call.operation, message });
};

const decodeErrorBody = Schema.decodeUnknownOption(ErrorBody);

/** Turso's own words for a failure: `{error}` if present, else the raw text. */
const detailOf = (status: number, body: unknown, text: string): string => {
  const decoded = decodeErrorBody(body);
  if (decoded._tag === "Some") return decoded.value.error;
  return text.trim() === "" ? `HTTP ${status}` : text.trim().slice(0, 300);
};

const parseJson = (text: string): { ok: true; value: unknown } | { ok: false } => {
  if (text === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
};

const retryAfterMs = (headers: Headers.Headers): number | undefined => {
  const value = headers["retry-after"];
  if (value === undefined) return undefined;
  const parsed = Headers.parseRetryAfter(value);
  return parsed._tag === "Success" ? Duration.toMillis(Headers.retryAfterDelay(parsed.success, Date.now())) : undefined;
};

const interpret = (
  call: TursoCall,
  config: ResolvedTursoApiConfig,
  status: number,
  headers: Headers.Headers,
  text: string,
): Effect.Effect<TursoAnswer, TursoError> => {
  const json = parseJson(text);
  const body = json.ok ? json.value : undefined;
  const common = { provider: PROVIDER, operation: call.operation };
  if ((status >= 200 && status < 300) || call.accept?.includes(status)) {
    return json.ok
      ? Effect.succeed({ status, body })
      : Effect.fail(new ProviderInvalid({ ...common, message: `Turso answered ${call.action} with a body that is not JSON.` }));
  }
  const detail = detailOf(status, body, json.ok ? "" : text);
  if (status === 401 || status === 403) {
    return Effect.fail(
      new ProviderUnauthorized({
        ...common,
        message: `Turso refused the platform API token (${status}) to ${call.action}: ${detail}. Check that TURSO_API_TOKEN is valid for organization "${config.org}".`,
      }),
    );
  }
  if (status === 409) return Effect.fail(new ProviderConflict({ ...common, message: `Turso refused to ${call.action}: ${detail}.` }));
  if (status === 429) {
    const wait = retryAfterMs(headers);
    const asked = wait === undefined ? "" : ` and asked to wait ${Math.ceil(wait / 1000)} s`;
    return Effect.fail(
      new ProviderRateLimited({
        ...common,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
        message: `Turso is rate limiting requests (429)${asked}; could not ${call.action}.`,
      }),
    );
  }
  if (status >= 500) {
    return Effect.fail(new ProviderUnavailable({ ...common, status, message: `Turso answered ${status} to ${call.action}: ${detail}.` }));
  }
  return Effect.fail(new ProviderInvalid({ ...common, message: `Turso rejected ${call.action} (${status}): ${detail}.` }));
};

/**
 * Says how hard we tried, so a reader of the condition does not retry by hand at once. Not "gave
 * up": the controller retries with backoff after this, and its condition says so.
 */
const afterAttempts = (error: TursoError, attempts: number): TursoError => {
  const suffix = ` Tried ${attempts} times.`;
  switch (error._tag) {
    case "ProviderUnavailable":
      return new ProviderUnavailable({
        provider: error.provider,
        operation: error.operation,
        ...(error.status === undefined ? {} : { status: error.status }),
        message: error.message + suffix,
      });
    case "ProviderRateLimited":
      return new ProviderRateLimited({
        provider: error.provider,
        operation: error.operation,
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        message: error.message + suffix,
      });
    default:
      return error;
  }
};
