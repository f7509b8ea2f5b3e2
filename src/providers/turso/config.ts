/** How to reach Turso's platform API, and how patient to be with it. */
export interface TursoApiConfig {
  /** Default https://api.turso.tech; tests point it at the fake. */
  readonly apiUrl?: string;
  /** Organization slug (databases are `<db>-<org>.turso.io`). */
  readonly org: string;
  /** Group new databases are created in; it must already exist. */
  readonly group: string;
  /** Platform API token (`turso auth api-tokens mint …`). */
  readonly token: string;
  /** Per attempt; default 10 s. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt for calls that are safe to repeat; default 4. */
  readonly retries?: number;
  /** First backoff delay, doubled each retry (with jitter, capped at 5 s); default 250 ms. */
  readonly retryBaseDelayMs?: number;
  /**
   * Longest Retry-After we wait out inside one call; default 30 s. A longer one
   * fails fast with ProviderRateLimited so the controller requeues instead of
   * holding a worker.
   */
  readonly maxRetryAfterMs?: number;
}

export type ResolvedTursoApiConfig = Required<TursoApiConfig>;

export const resolveTursoApiConfig = (config: TursoApiConfig): ResolvedTursoApiConfig => ({
  apiUrl: (config.apiUrl ?? "https://api.turso.tech").replace(/\/+$/, ""),
  org: config.org,
  group: config.group,
  token: config.token,
  timeoutMs: config.timeoutMs ?? 10_000,
  retries: config.retries ?? 4,
  retryBaseDelayMs: config.retryBaseDelayMs ?? 250,
  maxRetryAfterMs: config.maxRetryAfterMs ?? 30_000,
});
