/**
 * Failures a test can switch on in the Coolify fake: latency, random 5xx (seeded),
 * 429 bursts with Retry-After, hanging requests, one-shot failures, and
 * deployments stuck in `queued`. Each targeted fault may name an endpoint as
 * "METHOD /template" (e.g. "POST /deploy") or a bare "/template".
 */
import { seededRandom } from "./state.ts";

export interface ScheduledFault {
  /** Requests still to affect. */
  remaining: number;
  readonly endpoint: string | undefined;
}

export interface PlannedFailure extends ScheduledFault {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

export type FaultDecision =
  | { readonly kind: "hang" }
  | { readonly kind: "respond"; readonly status: number; readonly body: unknown; readonly headers: Readonly<Record<string, string>> };

const matches = (fault: ScheduledFault, endpoint: string): boolean =>
  fault.endpoint === undefined || fault.endpoint === endpoint || endpoint.endsWith(` ${fault.endpoint}`);

export class CoolifyFaults {
  /** Added to every request before it is handled. */
  latencyMs = 0;
  /** Share (0..1) of requests that fail with `serverErrorStatus`, drawn from a seeded generator. */
  serverErrorRate = 0;
  serverErrorStatus = 500;
  /** While true, queued deployments never start (a known field problem). */
  stuckQueued = false;
  private readonly failures: Array<PlannedFailure> = [];
  private readonly hangs: Array<ScheduledFault> = [];
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed ^ 0x5eed);
  }

  /** The next `count` matching requests get 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitBurst(options: { count: number; retryAfterSeconds?: number; endpoint?: string }): void {
    const retryAfter = String(options.retryAfterSeconds ?? 1);
    this.failNext({
      count: options.count,
      status: 429,
      body: { message: "Too Many Attempts." },
      headers: { "Retry-After": retryAfter, "X-RateLimit-Remaining": "0" },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    });
  }

  /** The next `count` matching requests answer `status` (default body: Laravel's for that status). */
  failNext(options: { count?: number; status: number; endpoint?: string; body?: unknown; headers?: Readonly<Record<string, string>> }): void {
    this.failures.push({
      remaining: options.count ?? 1,
      endpoint: options.endpoint,
      status: options.status,
      body: options.body ?? { message: options.status >= 500 ? "Server Error" : "Injected failure." },
      headers: options.headers ?? {},
    });
  }

  /** The next `count` matching requests never get an answer (until the fake closes). */
  hangNext(options: { count?: number; endpoint?: string } = {}): void {
    this.hangs.push({ remaining: options.count ?? 1, endpoint: options.endpoint });
  }

  /** Removes every fault. */
  clear(): void {
    this.latencyMs = 0;
    this.serverErrorRate = 0;
    this.stuckQueued = false;
    this.failures.length = 0;
    this.hangs.length = 0;
  }

  /** Decides the fate of a request to `endpoint` ("METHOD /template"); undefined: handle it normally. */
  decide(endpoint: string): FaultDecision | undefined {
    const hang = this.hangs.find((fault) => fault.remaining > 0 && matches(fault, endpoint));
    if (hang) {
      hang.remaining--;
      return { kind: "hang" };
    }
    const failure = this.failures.find((fault) => fault.remaining > 0 && matches(fault, endpoint));
    if (failure) {
      failure.remaining--;
      return { kind: "respond", status: failure.status, body: failure.body, headers: failure.headers };
    }
    if (this.serverErrorRate > 0 && this.random() < this.serverErrorRate) {
      return { kind: "respond", status: this.serverErrorStatus, body: { message: "Server Error" }, headers: {} };
    }
    return undefined;
  }
}
