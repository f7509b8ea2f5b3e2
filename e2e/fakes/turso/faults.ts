/**
 * Fault injection for the Turso fake: the failures a real platform API shows
 * (slow answers, 5xx, 429 with Retry-After, requests that never answer), made
 * deterministic so tests can assert how a client converges.
 *
 * Each fault is a rule; a request consults the rules in the order they were
 * added. All matching latency rules add up; the first matching failure rule
 * with budget left decides the outcome.
 */

/** Which requests a fault applies to, and how many of them. */
export interface FaultScope {
  /** operationId from the OpenAPI document (e.g. "createDatabase"); every operation when omitted. */
  readonly operation?: string;
  /** How many matching requests it affects; unlimited when omitted. */
  readonly times?: number;
  /**
   * "before" (default): the request fails without touching state.
   * "after": the operation is applied, then its answer is replaced by the fault —
   * the "lost response" case (the database exists, the caller never heard).
   */
  readonly phase?: FaultPhase;
}

export type FaultPhase = "before" | "after";

export type FaultOutcome =
  | { readonly kind: "status"; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: "hang" };

interface Rule {
  readonly scope: FaultScope;
  remaining: number;
  readonly decide: () => FaultOutcome | undefined;
  readonly latencyMs?: number;
}

/** Small seeded PRNG (mulberry32): reproducible error rates across runs. */
const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export class FaultInjector {
  readonly #rules: Array<Rule> = [];

  /** Delay matching answers by `ms`. */
  latency(ms: number, scope: FaultScope = {}): this {
    return this.#add(scope, () => undefined, ms);
  }

  /** Answer matching requests with `status` (default 503) and Turso's error body. */
  fail(status = 503, scope: FaultScope = {}): this {
    return this.#add(scope, () => ({ kind: "status", status }));
  }

  /** Fail a seeded random fraction `rate` (0..1) of matching requests with `status` (default 500). */
  errorRate(rate: number, options: FaultScope & { readonly seed: number; readonly status?: number }): this {
    const random = seededRandom(options.seed);
    const status = options.status ?? 500;
    return this.#add(options, () => (random() < rate ? { kind: "status", status } : undefined));
  }

  /** Answer 429 with `Retry-After: <retryAfterSeconds>`. */
  rateLimit(retryAfterSeconds: number, scope: FaultScope = {}): this {
    return this.#add(scope, () => ({ kind: "status", status: 429, retryAfterSeconds }));
  }

  /** Never answer matching requests (until the client gives up or the fake closes). */
  hang(scope: FaultScope = {}): this {
    return this.#add(scope, () => ({ kind: "hang" }));
  }

  clear(): this {
    this.#rules.length = 0;
    return this;
  }

  /** Total latency to add to a request for `operation`; consumes the latency rules' budgets. */
  latencyFor(operation: string): number {
    let total = 0;
    for (const rule of this.#matching(operation, "before")) {
      if (rule.latencyMs === undefined) continue;
      rule.remaining -= 1;
      total += rule.latencyMs;
    }
    return total;
  }

  /** The failure to answer with at `phase`, if any; consumes that rule's budget. */
  outcomeFor(operation: string, phase: FaultPhase): FaultOutcome | undefined {
    for (const rule of this.#matching(operation, phase)) {
      if (rule.latencyMs !== undefined) continue;
      const outcome = rule.decide();
      if (outcome === undefined) continue;
      rule.remaining -= 1;
      return outcome;
    }
    return undefined;
  }

  #matching(operation: string, phase: FaultPhase): Array<Rule> {
    return this.#rules.filter(
      (rule) =>
        rule.remaining > 0 &&
        (rule.scope.operation === undefined || rule.scope.operation === operation) &&
        (rule.scope.phase ?? "before") === phase,
    );
  }

  #add(scope: FaultScope, decide: () => FaultOutcome | undefined, latencyMs?: number): this {
    const remaining = scope.times ?? Number.POSITIVE_INFINITY;
    this.#rules.push(latencyMs === undefined ? { scope, remaining, decide } : { scope, remaining, decide, latencyMs });
    return this;
  }
}
