/** How to reach a Coolify instance's API, and how patient and polite to be with it. */
import type { CoolifyClientEvent } from "./events.ts";

export interface CoolifyApiConfig {
  /** Instance base URL, e.g. https://coolify.example.com (the client appends /api/v1). */
  readonly url: string;
  /** API token (Keys & Tokens → API tokens); sent as a Bearer token. */
  readonly token: string;
  /**
   * Requests this client sends per rate window at most; default 180, under
   * Coolify's default of 200/minute per token so we never provoke a 429.
   */
  readonly requestsPerMinute?: number;
  /** Length of the rate window; default 60 000 ms (Coolify's). Tests shorten it. */
  readonly rateWindowMs?: number;
  /** Per attempt; default 15 s. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt, for calls safe to repeat; default 3. */
  readonly retries?: number;
  /** First backoff delay, doubled each retry (jittered, capped at 5 s); default 250 ms. */
  readonly retryBaseDelayMs?: number;
  /**
   * Longest Retry-After waited out inside one call; default 60 s. A longer one
   * fails at once with CoolifyRateLimited so a controller requeues instead of
   * holding a worker.
   */
  readonly maxRetryAfterMs?: number;
  /** Called for every response, retry and rate-limit wait (metrics, logs). Must not throw. */
  readonly onEvent?: (event: CoolifyClientEvent) => void;
}

export interface ResolvedCoolifyApiConfig extends Required<Omit<CoolifyApiConfig, "onEvent">> {
  /** `url` + /api/v1, without a trailing slash. */
  readonly apiUrl: string;
  readonly onEvent: (event: CoolifyClientEvent) => void;
}

export const resolveCoolifyApiConfig = (config: CoolifyApiConfig): ResolvedCoolifyApiConfig => {
  const url = config.url.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  return {
    url,
    apiUrl: `${url}/api/v1`,
    token: config.token,
    requestsPerMinute: config.requestsPerMinute ?? 180,
    rateWindowMs: config.rateWindowMs ?? 60_000,
    timeoutMs: config.timeoutMs ?? 15_000,
    retries: config.retries ?? 3,
    retryBaseDelayMs: config.retryBaseDelayMs ?? 250,
    maxRetryAfterMs: config.maxRetryAfterMs ?? 60_000,
    onEvent: config.onEvent ?? (() => {}),
  };
};
