import { test } from "node:test"
import assert from "node:assert/strict"
import { TokenBuckets } from "./rate-limit.ts"

test("a burst of the per-minute allowance, then refusals with the wait until the next token", () => {
  let now = 0
  const buckets = new TokenBuckets(60, () => now)
  for (let i = 0; i < 60; i++) assert.deepEqual(buckets.take("k"), { ok: true })
  assert.deepEqual(buckets.take("k"), { ok: false, retryAfterSeconds: 1 })
  assert.deepEqual(buckets.take("other"), { ok: true }, "buckets are per key")
  now += 1000
  assert.deepEqual(buckets.take("k"), { ok: true }, "one token per second refills")
  assert.equal(buckets.take("k").ok, false)
})

test("Retry-After rounds up for slow buckets; full buckets are swept", () => {
  let now = 0
  const buckets = new TokenBuckets(2, () => now)
  buckets.take("k")
  buckets.take("k")
  assert.deepEqual(buckets.take("k"), { ok: false, retryAfterSeconds: 30 })
  now += 60_000
  buckets.sweep()
  assert.equal(buckets.size, 0)
})
