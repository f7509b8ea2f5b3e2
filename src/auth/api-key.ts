/**
 * The API key format: `dk_live_` + 40 base62 characters from the CSPRNG (~238 bits). The first 8
 * random characters, with the `dk_live_` tag, are the key's public prefix: shown in listings,
 * used to revoke it, and used to find the one stored hash to verify against. Only an argon2id hash
 * of the whole key is stored; the key itself is shown once.
 */
import argon2 from "argon2"
import { createHash, randomBytes } from "node:crypto"

export const KEY_TAG = "dk_live_"
const BODY_LENGTH = 40
const PREFIX_BODY_LENGTH = 8
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const KEY_PATTERN = new RegExp(`^${KEY_TAG}[0-9A-Za-z]{${BODY_LENGTH}}$`)
const PREFIX_PATTERN = new RegExp(`^(${KEY_TAG})?[0-9A-Za-z]{${PREFIX_BODY_LENGTH}}$`)

/**
 * Uniform base62 characters: bytes of 248 and above are dropped rather than reduced modulo 62,
 * which would make the first characters of the alphabet more likely.
 */
const randomBase62 = (length: number): string => {
  let out = ""
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62]
    }
  }
  return out
}

export interface NewApiKey {
  /** The whole key, to show once. */
  readonly key: string
  /** `dk_live_` + 8 characters: safe to show and log. */
  readonly prefix: string
}

export const generateApiKey = (): NewApiKey => {
  const key = `${KEY_TAG}${randomBase62(BODY_LENGTH)}`
  return { key, prefix: prefixOf(key) }
}

export const prefixOf = (key: string): string => key.slice(0, KEY_TAG.length + PREFIX_BODY_LENGTH)

/** Whether `text` has the shape of a key (a cheap check before any database lookup). */
export const isWellFormedKey = (text: string): boolean => KEY_PATTERN.test(text)

/** A prefix as an operator types it, with or without the `dk_live_` tag; undefined if malformed. */
export const normalizePrefix = (text: string): string | undefined => {
  const trimmed = text.trim()
  if (!PREFIX_PATTERN.test(trimmed)) return undefined
  return trimmed.startsWith(KEY_TAG) ? trimmed : `${KEY_TAG}${trimmed}`
}

/**
 * OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). The keys carry ~238 random bits, so the
 * hash guards a leaked table, not guessable passwords; the verifier runs it once per key and process.
 */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export const hashApiKey = (key: string): Promise<string> => argon2.hash(key, ARGON2_OPTIONS)

export const verifyApiKeyHash = (hash: string, key: string): Promise<boolean> => argon2.verify(hash, key).catch(() => false)

/** A fast digest of the whole key: the in-memory cache's lookup key, so the cache never holds keys. */
export const cacheDigest = (key: string): string => createHash("sha256").update(key).digest("base64url")
