/**
 * Client-side pacing for Coolify: at most `limit` requests in any window of
 * `windowMs`, waiting (FIFO) for room instead of sending.
 *
 * Why not effect's RateLimiter (fixed window or token bucket)? Coolify counts
 * requests per token in fixed windows we cannot see. A client fixed window
 * misaligned with Coolify's lets up to 2×limit through one of Coolify's
 * windows, and a token bucket up to capacity + refill. A sliding log never
 * has more than `limit` in ANY window, so with limit under Coolify's 200 a
 * burst of calls cannot provoke a 429.
 */
import { Clock, Duration, Effect, Semaphore } from "effect";

export interface Pacer {
  /** Waits until a request may be sent and records it; yields the milliseconds waited. */
  readonly admit: Effect.Effect<number>;
}

export const makePacer = (limit: number, windowMs: number): Effect.Effect<Pacer> =>
  Effect.gen(function* () {
    const lock = yield* Semaphore.make(1);
    // Send times (ms) within the last window, oldest first.
    const sent: Array<number> = [];
    const admit = lock.withPermits(1)(
      Effect.gen(function* () {
        const start = yield* Clock.currentTimeMillis;
        let now = start;
        for (;;) {
          while (sent.length > 0 && (sent[0] ?? 0) <= now - windowMs) sent.shift();
          if (sent.length < limit) {
            sent.push(now);
            return now - start;
          }
          yield* Effect.sleep(Duration.millis((sent[0] ?? now) + windowMs - now));
          now = yield* Clock.currentTimeMillis;
        }
      }),
    );
    return { admit };
  });
