import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { mkdtemp, stat } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { test } from "node:test"
import { loadOrCreateDataKey } from "./data-key.ts"
import { DecryptionError, makeSecretBox, parseKey } from "./secret-box.ts"

test("seal/open round-trips and the ciphertext hides the plaintext", () => {
  const box = makeSecretBox(randomBytes(32))
  const sealed = box.seal("postgres://user:hunter2@db/app", "uid-1")
  assert.ok(!sealed.toString("latin1").includes("hunter2"))
  assert.equal(box.open(sealed, "uid-1"), "postgres://user:hunter2@db/app")
  assert.notDeepEqual(box.seal("same", "x"), box.seal("same", "x"), "fresh IV every time")
})

test("associated data binds a ciphertext to its row", () => {
  const box = makeSecretBox(randomBytes(32))
  const sealed = box.seal("secret", "uid-1")
  assert.throws(() => box.open(sealed, "uid-2"), DecryptionError)
})

test("tampering is detected", () => {
  const box = makeSecretBox(randomBytes(32))
  const sealed = box.seal("secret")
  sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1
  assert.throws(() => box.open(sealed), DecryptionError)
})

test("keys rotate: old ciphertexts open with the previous key, new ones use the current key", () => {
  const oldKey = randomBytes(32)
  const newKey = randomBytes(32)
  const sealedOld = makeSecretBox(oldKey).seal("v1")
  const rotated = makeSecretBox(newKey, [oldKey])
  assert.equal(rotated.open(sealedOld), "v1")
  const sealedNew = rotated.seal("v2")
  assert.equal(sealedNew.subarray(1, 9).toString("hex"), rotated.currentKeyId)
  assert.throws(() => makeSecretBox(newKey).open(sealedOld), /unknown key/)
})

test("keys parse from hex or base64 and must be 32 bytes", () => {
  const key = randomBytes(32)
  assert.deepEqual(parseKey(key.toString("hex")), key)
  assert.deepEqual(parseKey(key.toString("base64")), key)
  assert.throws(() => parseKey("c2hvcnQ="))
})

test("the embedded default generates the key once and keeps it 0600", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-key-"))
  const first = await loadOrCreateDataKey(dir)
  const again = await loadOrCreateDataKey(dir)
  assert.deepEqual(first, again)
  assert.equal((await stat(path.join(dir, "data-encryption.key"))).mode & 0o777, 0o600)
})
