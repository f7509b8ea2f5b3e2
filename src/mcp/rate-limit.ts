/**
 * Token buckets per key (per API key on /mcp): `perMinute` requests may arrive at once, then they
 * refill evenly over the minute. In memory, so the limit applies per replica.
 */
export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number }

interface Bucket {
  tokens: number
  updatedAt: number
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()
  private readonly capacity: number
  private readonly perMillisecond: number
  private readonly now: () => number

  constructor(perMinute: number, now: () => number = Date.now) {
    this.capacity = perMinute
    this.perMillisecond = perMinute / 60_000
    this.now = now
  }

  take(key: string): TakeResult {
    const now = this.now()
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, updatedAt: now }
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.updatedAt) * this.perMillisecond)
    bucket.updatedAt = now
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMillisecond / 1000)) }
  }

  /** Forget buckets that have refilled completely: they hold no information. */
  sweep(): void {
    const now = this.now()
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.perMillisecond >= this.capacity) this.buckets.delete(key)
    }
  }

  get size(): number {
    return this.buckets.size
  }
}
