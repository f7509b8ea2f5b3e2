/**
 * AES-256-GCM encryption for secrets at rest, with a key id in every ciphertext so keys can rotate:
 * new data is sealed with the current key, old data opens with whichever key sealed it.
 *
 * Layout (bytes): version(1)=1 | keyId(8) | iv(12) | tag(16) | ciphertext
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"
import { Context, Layer, Schema } from "effect"

const VERSION = 1
const KEY_ID_BYTES = 8
const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES

export class DecryptionError extends Schema.TaggedError<DecryptionError>()("DecryptionError", {
  message: Schema.String
}) {}

/** Parse a 32-byte key given as 64 hex characters or base64. */
export const parseKey = (text: string): Buffer => {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64")
  if (key.length !== 32) throw new Error("an encryption key must be 32 bytes (64 hex characters or base64)")
  return key
}

export const keyIdOf = (key: Buffer): Buffer => createHash("sha256").update(key).digest().subarray(0, KEY_ID_BYTES)

export interface SecretBoxService {
  seal(plaintext: string, associatedData?: string): Buffer
  /** Throws DecryptionError when no known key sealed it or the data was tampered with. */
  open(sealed: Buffer, associatedData?: string): string
  readonly currentKeyId: string
}

/**
 * `associatedData` binds a ciphertext to its row (e.g. the object uid), so a ciphertext copied
 * onto another row does not decrypt.
 */
export const makeSecretBox = (current: Buffer, previous: ReadonlyArray<Buffer> = []): SecretBoxService => {
  const currentId = keyIdOf(current)
  const keys = new Map<string, Buffer>([current, ...previous].map((key) => [keyIdOf(key).toString("hex"), key]))
  return {
    currentKeyId: currentId.toString("hex"),
    seal(plaintext, associatedData) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv("aes-256-gcm", current, iv)
      if (associatedData !== undefined) cipher.setAAD(Buffer.from(associatedData))
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
      return Buffer.concat([Buffer.from([VERSION]), currentId, iv, cipher.getAuthTag(), body])
    },
    open(sealed, associatedData) {
      if (sealed.length < HEADER || sealed[0] !== VERSION) throw new DecryptionError({ message: "not a sealed secret" })
      const keyId = sealed.subarray(1, 1 + KEY_ID_BYTES).toString("hex")
      const key = keys.get(keyId)
      if (!key) throw new DecryptionError({ message: `sealed with unknown key ${keyId}; add it to DATA_ENCRYPTION_OLD_KEYS` })
      const iv = sealed.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES)
      const tag = sealed.subarray(1 + KEY_ID_BYTES + IV_BYTES, HEADER)
      const decipher = createDecipheriv("aes-256-gcm", key, iv)
      if (associatedData !== undefined) decipher.setAAD(Buffer.from(associatedData))
      decipher.setAuthTag(tag)
      try {
        return Buffer.concat([decipher.update(sealed.subarray(HEADER)), decipher.final()]).toString("utf8")
      } catch {
        throw new DecryptionError({ message: "secret failed authentication (wrong key or tampered data)" })
      }
    }
  }
}

export class SecretBox extends Context.Service<SecretBox, SecretBoxService>()("deploy-mcp/crypto/SecretBox") {
  static readonly layer = (current: Buffer, previous: ReadonlyArray<Buffer> = []) => Layer.succeed(SecretBox, makeSecretBox(current, previous))
}
