/**
 * Verifies bearer keys for /mcp. argon2id is deliberately slow (tens of milliseconds), so a
 * verified key is cached in memory for a few seconds, keyed by a SHA-256 digest of the whole key
 * (the cache never holds a key). Revocation is effective at once on every replica: the
 * api_key_changes NOTIFY drops the key here, and the short TTL bounds the damage if a
 * notification is ever missed (the listener also clears everything after a reconnect).
 *
 * When an entry expires, the key is re-checked against the database row — still there, not
 * revoked, same hash — without running argon2 again: that digest was already proven to match
 * that hash. So an active agent costs one indexed SELECT per TTL, and one argon2 run per process.
 */
import { Context, Deferred, Effect, Layer, Option } from "effect"
import type { DatabaseError } from "../db/database.ts"
import { AppLogger } from "../log/service.ts"
import { PgListener } from "../db/pg-listener.ts"
import { cacheDigest, isWellFormedKey, prefixOf, verifyApiKeyHash } from "./api-key.ts"
import { ApiKeyStore } from "./api-key-store.ts"

/** Who is calling: the key's user. Tools scope every read and write to `userId`. */
export interface Principal {
  readonly keyId: string
  readonly keyPrefix: string
  readonly userId: string
  readonly login: string
}

export interface VerifierOptions {
  /** How long a verified key is trusted without asking the database again. */
  readonly ttlMillis?: number
  /** last_used_at is written at most this often per key and process. */
  readonly touchIntervalMillis?: number
}

export const API_KEY_CHANGES_CHANNEL = "api_key_changes"

/** Bound on remembered keys per process (a digest, a principal and a hash each). */
const MAX_CACHED_KEYS = 10_000

export class ApiKeyVerifier extends Context.Service<ApiKeyVerifier, {
  /** The key's principal, or None when the key is unknown, revoked or malformed. */
  verify(key: string): Effect.Effect<Option.Option<Principal>, DatabaseError>
  /** Called with the key id whenever a key stops being valid (e.g. to end its MCP sessions). */
  onRevoked(listener: (keyId: string) => void): () => void
}>()("deploy-mcp/auth/ApiKeyVerifier") {
  static readonly layer = (options: VerifierOptions = {}) =>
    Layer.effect(
      ApiKeyVerifier,
      Effect.gen(function*() {
        const store = yield* ApiKeyStore
        const listener = yield* PgListener
        const logger = yield* AppLogger
        const ttl = options.ttlMillis ?? 5_000
        const touchInterval = options.touchIntervalMillis ?? 60_000

        interface Entry {
          readonly principal: Principal
          /** The stored hash this key was verified against. */
          readonly hash: string
          readonly expiresAt: number
        }
        /** Insertion-ordered: the oldest entries are dropped first when it is full. */
        const cache = new Map<string, Entry>()
        const remember = (digest: string, entry: Entry) => {
          cache.delete(digest)
          cache.set(digest, entry)
          if (cache.size > MAX_CACHED_KEYS) for (const oldest of cache.keys()) {
            cache.delete(oldest)
            break
          }
        }
        const inflight = new Map<string, Deferred.Deferred<Option.Option<Principal>, DatabaseError>>()
        const lastTouched = new Map<string, number>()
        const revokedListeners = new Set<(keyId: string) => void>()
        // Bumped on every invalidation: a lookup that started before a revocation must not put the
        // key back into the cache after the notification cleared it.
        let epoch = 0

        const invalidate = (keyId: string) => {
          epoch++
          for (const [digest, entry] of cache) if (entry.principal.keyId === keyId) cache.delete(digest)
          lastTouched.delete(keyId)
          for (const notify of revokedListeners) notify(keyId)
        }

        yield* listener.listen(API_KEY_CHANGES_CHANNEL, {
          onMessage: invalidate,
          onReset: () => {
            epoch++
            cache.clear()
          }
        })

        const touch = (principal: Principal) => {
          const now = Date.now()
          if (now - (lastTouched.get(principal.keyId) ?? 0) < touchInterval) return Effect.void
          lastTouched.set(principal.keyId, now)
          return store.touch(principal.keyId).pipe(
            Effect.catch((error) => Effect.sync(() => logger.warn({ err: error, key: principal.keyPrefix }, "could not record API key use"))),
            Effect.forkDetach,
            Effect.asVoid
          )
        }

        const lookup = (key: string, digest: string, expired: Entry | undefined) =>
          Effect.gen(function*() {
            const startedAt = epoch
            const found = yield* store.findActive(prefixOf(key))
            if (Option.isNone(found)) return Option.none<Principal>()
            const row = found.value
            // Proven before for this digest and this very hash: no need to run argon2 again.
            const matches = expired?.hash === row.hash || (yield* Effect.promise(() => verifyApiKeyHash(row.hash, key)))
            if (!matches) return Option.none<Principal>()
            const principal: Principal = { keyId: row.id, keyPrefix: row.prefix, userId: row.userId, login: row.login }
            if (epoch === startedAt) remember(digest, { principal, hash: row.hash, expiresAt: Date.now() + ttl })
            return Option.some(principal)
          })

        /** Concurrent first requests with the same key share one database read and one argon2 run. */
        const lookupOnce = (key: string, digest: string, expired: Entry | undefined) =>
          Effect.uninterruptible(
            Effect.gen(function*() {
              const deferred = yield* Deferred.make<Option.Option<Principal>, DatabaseError>()
              inflight.set(digest, deferred)
              const exit = yield* Effect.exit(lookup(key, digest, expired))
              inflight.delete(digest)
              yield* Deferred.done(deferred, exit)
              return exit
            })
          ).pipe(Effect.flatMap((exit) => exit))

        const verify = (key: string): Effect.Effect<Option.Option<Principal>, DatabaseError> =>
          Effect.suspend(() => {
            if (!isWellFormedKey(key)) return Effect.succeed(Option.none())
            const digest = cacheDigest(key)
            const hit = cache.get(digest)
            if (hit && hit.expiresAt > Date.now()) return touch(hit.principal).pipe(Effect.as(Option.some(hit.principal)))
            if (hit) cache.delete(digest)
            const pending = inflight.get(digest)
            const verified = pending ? Deferred.await(pending) : lookupOnce(key, digest, hit)
            return verified.pipe(Effect.tap((principal) => (Option.isSome(principal) ? touch(principal.value) : Effect.void)))
          })

        return ApiKeyVerifier.of({
          verify,
          onRevoked: (notify) => {
            revokedListeners.add(notify)
            return () => revokedListeners.delete(notify)
          }
        })
      })
    )
}

