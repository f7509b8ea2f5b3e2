/**
 * Every request the Coolify fake received, so tests and benchmarks can assert
 * call counts (one list call per resync, no 429 provoked, …) instead of timing.
 */

export interface RecordedCall {
  /** "METHOD /template" for a known operation, else "METHOD /raw/path". */
  readonly endpoint: string;
  readonly token: string | undefined;
  /** Arrival time (ms since epoch). */
  readonly at: number;
  /** Response status; undefined while the request is pending or when it hung. */
  status: number | undefined;
}

export class CallLog {
  readonly entries: Array<RecordedCall> = [];

  record(endpoint: string, token: string | undefined, at: number): RecordedCall {
    const call: RecordedCall = { endpoint, token, at, status: undefined };
    this.entries.push(call);
    return call;
  }

  /** Requests received, optionally only for one endpoint ("GET /applications") and/or answered with one status. */
  count(filter: { endpoint?: string; status?: number } = {}): number {
    return this.entries.filter(
      (call) => (filter.endpoint === undefined || call.endpoint === filter.endpoint) && (filter.status === undefined || call.status === filter.status),
    ).length;
  }

  /** Request counts by endpoint. */
  byEndpoint(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of this.entries) counts[call.endpoint] = (counts[call.endpoint] ?? 0) + 1;
    return counts;
  }

  /** The most requests that arrived within any window of `windowMs` (what a rate limiter sees). */
  maxInWindow(windowMs: number): number {
    const times = this.entries.map((call) => call.at).sort((a, b) => a - b);
    let best = 0;
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start++;
      best = Math.max(best, end - start + 1);
    }
    return best;
  }

  reset(): void {
    this.entries.length = 0;
  }
}
