import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { Deferred, Effect, Fiber } from "effect"
import { makeSharedSnapshot } from "./observations.ts"

/** A fetch that counts its calls and, when gated, waits for the test to let it answer. */
const counter = () => {
  let calls = 0
  return {
    calls: () => calls,
    fetch: Effect.sync(() => ++calls)
  }
}

const build = (fetchedAt: number, value: number) => ({ fetchedAt, value })

describe("shared snapshot", () => {
  test("concurrent readers share one call; a later reader within max age reuses it", async () => {
    const gate = await Effect.runPromise(Deferred.make<void>())
    let calls = 0
    const fetch = Deferred.await(gate).pipe(Effect.andThen(Effect.sync(() => ++calls)))
    const program = Effect.gen(function*() {
      const get = yield* makeSharedSnapshot(fetch, build, { maxAgeMs: 60_000, minIntervalMs: 0 })
      const readers = yield* Effect.forkChild(Effect.all(Array.from({ length: 50 }, () => get()), { concurrency: "unbounded" }))
      yield* Effect.yieldNow
      yield* Deferred.succeed(gate, undefined)
      const results = yield* Fiber.join(readers)
      const later = yield* get()
      return { results, later }
    })
    const { results, later } = await Effect.runPromise(program)
    assert.equal(calls, 1)
    assert.ok(results.every((r) => r._tag === "Fresh" && r.snapshot.value === 1))
    assert.equal(later._tag === "Fresh" ? later.snapshot.value : -1, 1)
  })

  test("a reader needing a newer list waits (is told how long) instead of calling again within the interval", async () => {
    const source = counter()
    const program = Effect.gen(function*() {
      const get = yield* makeSharedSnapshot(source.fetch, build, { maxAgeMs: 60_000, minIntervalMs: 10_000 })
      const first = yield* get()
      const fetchedAt = first._tag === "Fresh" ? first.snapshot.fetchedAt : 0
      const newer = yield* get(fetchedAt + 1)
      const future = yield* get(Date.now() + 60_000)
      return { newer, future }
    })
    const { newer, future } = await Effect.runPromise(program)
    assert.equal(source.calls(), 1)
    assert.equal(newer._tag, "Stale")
    assert.ok(newer._tag === "Stale" && newer.retryAfterMs > 0 && newer.retryAfterMs <= 10_000)
    assert.ok(future._tag === "Stale" && future.retryAfterMs > 50_000, "a list not yet takeable is not taken")
  })

  test("an old snapshot is refreshed; a failed refresh reaches every reader and the next one retries", async () => {
    let calls = 0
    const fetch = Effect.suspend(() => (++calls === 2 ? Effect.fail("down" as const) : Effect.succeed(calls)))
    const program = Effect.gen(function*() {
      // maxAgeMs < 0: every read refreshes.
      const get = yield* makeSharedSnapshot(fetch, build, { maxAgeMs: -1, minIntervalMs: 0 })
      yield* get()
      const failed = yield* Effect.flip(get())
      const recovered = yield* get()
      return { failed, recovered }
    })
    const { failed, recovered } = await Effect.runPromise(program)
    assert.equal(failed, "down")
    assert.equal(recovered._tag === "Fresh" ? recovered.snapshot.value : -1, 3)
  })
})
