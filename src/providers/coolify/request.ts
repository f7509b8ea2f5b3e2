/**
 * One call to Coolify's API: paced under the rate limit, a timeout per attempt,
 * status → typed error, and retries with capped, jittered backoff that honour
 * Retry-After — only where repeating the call is safe.
 */
import { Cause, Duration, Effect, Schedule, Schema } from "effect";
import type { HttpClient, HttpClientError, HttpClientRequest } from "effect/http";
import type { ResolvedCoolifyApiConfig } from "./config.ts";
import {
  CoolifyBadRequest,
  CoolifyConflict,
  CoolifyNotFound,
  CoolifyRateLimited,
  CoolifyServerError,
  CoolifyTimeout,
  CoolifyTransport,
  CoolifyUnauthorized,
  CoolifyUnexpectedResponse,
  CoolifyValidation,
} from "./errors.ts";
import type { CoolifyError } from "./errors.ts";
import type { Pacer } from "./pacer.ts";
import { ErrorAnswer } from "./schemas.ts";

const MAX_BACKOFF = Duration.seconds(5);

/**
 * "idempotent": repeat on 5xx, timeouts, connection failures and 429.
 * "once": repeat only on 429 (Coolify refused before doing anything). A POST
 * that timed out or got a 5xx may have happened (an app created, a deployment
 * queued); it is surfaced, and the controller's create-pending guard decides.
 */
export type RetryMode = "idempotent" | "once";

export interface CoolifyCall {
  /** "METHOD /template" as in Coolify's document, e.g. "GET /applications/{uuid}". */
  readonly endpoint: string;
  /** What we were trying to do, for messages: e.g. `get application "x1y2"`. */
  readonly action: string;
  readonly request: HttpClientRequest.HttpClientRequest;
  readonly retry: RetryMode;
  /** The uuid the call is about (span attribute, CoolifyNotFound.id). */
  readonly id?: string;
}

export interface CoolifyAnswer {
  readonly status: number;
  /** Parsed JSON body; undefined when empty. */
  readonly body: unknown;
}

export type CoolifyRequester = (call: CoolifyCall) => Effect.Effect<CoolifyAnswer, CoolifyError>;

export const makeCoolifyRequester = (client: HttpClient.HttpClient, config: ResolvedCoolifyApiConfig, pacer: Pacer): CoolifyRequester => {
  const emit = config.onEvent;

  const retryable =
    (mode: RetryMode) =>
    (error: CoolifyError): boolean => {
      if (error._tag === "CoolifyRateLimited") return (error.retryAfterMs ?? 0) <= config.maxRetryAfterMs;
      return mode === "idempotent" && (error._tag === "CoolifyServerError" || error._tag === "CoolifyTimeout" || error._tag === "CoolifyTransport");
    };

  const retrySchedule = (call: CoolifyCall) =>
    Schedule.min([Schedule.exponential(Duration.millis(config.retryBaseDelayMs)), Schedule.spaced(MAX_BACKOFF)]).pipe(
      Schedule.jittered,
      Schedule.setInputType<CoolifyError>(),
      // Retry-After is the least we wait; our own backoff may ask for more.
      Schedule.modifyDelay(({ duration, input }) =>
        Effect.succeed(
          input._tag === "CoolifyRateLimited" && input.retryAfterMs !== undefined ? Duration.max(duration, Duration.millis(input.retryAfterMs)) : duration,
        ),
      ),
      Schedule.tap(({ input, duration, attempt }) =>
        Effect.sync(() => {
          const delayMs = Math.round(Duration.toMillis(duration));
          emit({ _tag: "Retry", endpoint: call.endpoint, attempt, delayMs, reason: input._tag });
          if (input._tag === "CoolifyRateLimited") emit({ _tag: "RateLimitWait", endpoint: call.endpoint, waitedMs: delayMs, cause: "retry-after" });
        }),
      ),
    );

  const attempt = (call: CoolifyCall): Effect.Effect<CoolifyAnswer, CoolifyError> =>
    Effect.gen(function* () {
      const waited = yield* pacer.admit;
      if (waited > 0) emit({ _tag: "RateLimitWait", endpoint: call.endpoint, waitedMs: waited, cause: "pacing" });
      const started = Date.now();
      const { response, text } = yield* client.execute(call.request).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => ({ response, text }))),
        Effect.timeout(Duration.millis(config.timeoutMs)),
        Effect.mapError((cause) => {
          const timedOut = Cause.isTimeoutError(cause);
          emit({ _tag: "NoResponse", endpoint: call.endpoint, reason: timedOut ? "timeout" : "transport", durationMs: Date.now() - started });
          return noAnswerError(call, config, cause);
        }),
      );
      emit({ _tag: "Response", endpoint: call.endpoint, status: response.status, durationMs: Date.now() - started });
      return yield* interpret(call, response.status, response.headers, text);
    });

  return (call) =>
    Effect.suspend(() => {
      let attempts = 0;
      return Effect.suspend(() => {
        attempts += 1;
        return attempt(call);
      }).pipe(
        Effect.retry({ schedule: retrySchedule(call), times: config.retries, while: retryable(call.retry) }),
        Effect.mapError((error) => (attempts > 1 ? afterAttempts(error, attempts) : error)),
      );
    }).pipe(Effect.withSpan(`CoolifyApi ${call.endpoint}`, { attributes: { "coolify.uuid": call.id } }));
};

/** A timeout or a request that never got an HTTP answer. */
const noAnswerError = (
  call: CoolifyCall,
  config: ResolvedCoolifyApiConfig,
  cause: HttpClientError.HttpClientError | Cause.TimeoutError,
): CoolifyTimeout | CoolifyTransport => {
  const mayHaveHappened = call.retry === "once" ? " It may still have taken effect; look it up before trying again." : "";
  if (Cause.isTimeoutError(cause)) {
    return new CoolifyTimeout({
      endpoint: call.endpoint,
      timeoutMs: config.timeoutMs,
      message: `Coolify did not answer ${call.action} within ${config.timeoutMs} ms.${mayHaveHappened}`,
    });
  }
  return new CoolifyTransport({
    endpoint: call.endpoint,
    message: `Could not reach Coolify at ${config.apiUrl} to ${call.action}: ${cause.message}.${mayHaveHappened}`,
  });
};

const decodeErrorAnswer = Schema.decodeUnknownOption(ErrorAnswer);

const parseJson = (text: string): { ok: true; value: unknown } | { ok: false } => {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
};

/** Retry-After as seconds or an HTTP date → milliseconds. */
export const retryAfterMs = (value: string | undefined): number | undefined => {
  if (value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
};

const interpret = (
  call: CoolifyCall,
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  text: string,
): Effect.Effect<CoolifyAnswer, CoolifyError> => {
  const parsed = parseJson(text);
  const endpoint = call.endpoint;
  if (status >= 200 && status < 300) {
    return parsed.ok
      ? Effect.succeed({ status, body: parsed.value })
      : Effect.fail(new CoolifyUnexpectedResponse({ endpoint, status, message: `Coolify answered ${call.action} with a body that is not JSON.` }));
  }
  const answer = parsed.ok ? decodeErrorAnswer(parsed.value) : undefined;
  const decoded = answer?._tag === "Some" ? answer.value : undefined;
  const said = decoded?.message ?? (text.trim() === "" ? `HTTP ${status}` : text.trim().slice(0, 300));
  const detail = decoded?.error ? `${said} ${decoded.error}` : said;

  if (status === 401 || (status === 400 && said === "Invalid token.")) {
    return Effect.fail(
      new CoolifyUnauthorized({
        endpoint,
        status,
        message: `Coolify refused the API token (${status} ${detail}) when trying to ${call.action}. Check the configured Coolify token: it must exist, belong to a team and have the read, write and deploy abilities.`,
      }),
    );
  }
  if (status === 404) {
    return Effect.fail(
      new CoolifyNotFound({ endpoint, ...(call.id === undefined ? {} : { id: call.id }), message: `Coolify could not ${call.action}: ${detail}` }),
    );
  }
  if (status === 409) {
    const conflicts = (decoded?.conflicts ?? []).map((c) => ({
      domain: c.domain,
      ...(c.resource_name == null ? {} : { resourceName: c.resource_name }),
      ...(c.resource_uuid === undefined ? {} : { resourceUuid: c.resource_uuid }),
    }));
    const taken = conflicts.map((c) => `${c.domain} (used by ${c.resourceName ?? c.resourceUuid ?? "another resource"})`).join(", ");
    return Effect.fail(
      new CoolifyConflict({
        endpoint,
        conflicts,
        message: taken === "" ? `Coolify refused to ${call.action}: ${detail}` : `Coolify refused to ${call.action}: domain already in use: ${taken}. Choose another domain.`,
      }),
    );
  }
  if (status === 422) {
    const fieldErrors: Record<string, ReadonlyArray<string>> = {};
    for (const [field, errors] of Object.entries(decoded?.errors ?? {})) fieldErrors[field] = typeof errors === "string" ? [errors] : errors;
    const listed = Object.entries(fieldErrors)
      .map(([field, errors]) => `${field}: ${errors.join(" ")}`)
      .join("; ");
    return Effect.fail(
      new CoolifyValidation({ endpoint, fieldErrors, message: `Coolify rejected the input to ${call.action}: ${listed === "" ? detail : listed}` }),
    );
  }
  if (status === 429) {
    const wait = retryAfterMs(headers["retry-after"]);
    const asked = wait === undefined ? "" : `; it asks to wait ${Math.ceil(wait / 1000)} s`;
    return Effect.fail(
      new CoolifyRateLimited({
        endpoint,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
        message: `Coolify is rate limiting (429 ${detail}) and did not ${call.action}${asked}.`,
      }),
    );
  }
  if (status === 400) return Effect.fail(new CoolifyBadRequest({ endpoint, message: `Coolify would not ${call.action}: ${detail}` }));
  if (status >= 500) {
    return Effect.fail(new CoolifyServerError({ endpoint, status, message: `Coolify failed with ${status} when asked to ${call.action}: ${detail}` }));
  }
  return Effect.fail(new CoolifyUnexpectedResponse({ endpoint, status, message: `Coolify answered ${status} to ${call.action}: ${detail}` }));
};

/**
 * Says how hard we tried, so a reader of the condition does not retry by hand at once. Not "gave
 * up": the controller retries with backoff after this, and its condition says so.
 */
const afterAttempts = (error: CoolifyError, attempts: number): CoolifyError => {
  const suffix = ` Tried ${attempts} times.`;
  switch (error._tag) {
    case "CoolifyServerError":
      return new CoolifyServerError({ endpoint: error.endpoint, status: error.status, message: error.message + suffix });
    case "CoolifyTimeout":
      return new CoolifyTimeout({ endpoint: error.endpoint, timeoutMs: error.timeoutMs, message: error.message + suffix });
    case "CoolifyTransport":
      return new CoolifyTransport({ endpoint: error.endpoint, message: error.message + suffix });
    case "CoolifyRateLimited":
      return new CoolifyRateLimited({
        endpoint: error.endpoint,
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        message: error.message + suffix,
      });
    default:
      return error;
  }
};
