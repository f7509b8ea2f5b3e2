/**
 * What the Coolify client reports about its own traffic, for metrics and logs.
 * `endpoint` is "METHOD /template" as in Coolify's OpenAPI document, e.g.
 * "GET /applications/{uuid}", so counts do not explode per application.
 */
export type CoolifyClientEvent =
  /** An HTTP answer arrived (any status). */
  | { readonly _tag: "Response"; readonly endpoint: string; readonly status: number; readonly durationMs: number }
  /** An attempt got no answer: timed out or the connection failed. */
  | { readonly _tag: "NoResponse"; readonly endpoint: string; readonly reason: "timeout" | "transport"; readonly durationMs: number }
  /** A call is being repeated after `delayMs`. */
  | { readonly _tag: "Retry"; readonly endpoint: string; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  /** The client held a request back: its own pacing ("pacing") or Coolify's Retry-After ("retry-after"). */
  | { readonly _tag: "RateLimitWait"; readonly endpoint: string; readonly waitedMs: number; readonly cause: "pacing" | "retry-after" };
