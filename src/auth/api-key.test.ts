import { test } from "node:test"
import assert from "node:assert/strict"
import { cacheDigest, generateApiKey, hashApiKey, isWellFormedKey, normalizePrefix, prefixOf, verifyApiKeyHash } from "./api-key.ts"

test("keys are dk_live_ + 40 base62 characters; the prefix is the tag and 8 of them", () => {
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) {
    const { key, prefix } = generateApiKey()
    assert.match(key, /^dk_live_[0-9A-Za-z]{40}$/)
    assert.equal(prefix, key.slice(0, 16))
    assert.equal(prefixOf(key), prefix)
    assert.ok(isWellFormedKey(key))
    seen.add(key)
  }
  assert.equal(seen.size, 200)
})

test("characters are spread over the whole alphabet (no modulo bias towards its start)", () => {
  const counts = new Map<string, number>()
  for (let i = 0; i < 500; i++) for (const char of generateApiKey().key.slice(8)) counts.set(char, (counts.get(char) ?? 0) + 1)
  assert.equal(counts.size, 62)
  // 20,000 characters over 62 symbols: ~323 each; a biased generator would skew the first 8 by ~3%.
  for (const [char, count] of counts) assert.ok(count > 220 && count < 430, `${char}: ${count}`)
})

test("malformed keys and prefixes are recognised without a database", () => {
  for (const text of ["", "dk_live_", "dk_test_" + "a".repeat(40), "dk_live_" + "a".repeat(39), "dk_live_" + "a".repeat(39) + "-"]) {
    assert.equal(isWellFormedKey(text), false, text)
  }
  assert.equal(normalizePrefix("AbCd1234"), "dk_live_AbCd1234")
  assert.equal(normalizePrefix(" dk_live_AbCd1234 "), "dk_live_AbCd1234")
  assert.equal(normalizePrefix("-x"), undefined)
  assert.equal(normalizePrefix("dk_live_AbCd12345"), undefined)
})

test("argon2id hashes verify only the key they were made from; the cache digest hides the key", async () => {
  const { key } = generateApiKey()
  const hash = await hashApiKey(key)
  assert.match(hash, /^\$argon2id\$/)
  assert.equal(await verifyApiKeyHash(hash, key), true)
  assert.equal(await verifyApiKeyHash(hash, generateApiKey().key), false)
  assert.equal(await verifyApiKeyHash("not a hash", key), false)
  assert.equal(cacheDigest(key).includes(key.slice(8, 16)), false)
  assert.equal(cacheDigest(key), cacheDigest(key))
})
