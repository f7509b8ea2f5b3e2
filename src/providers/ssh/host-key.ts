import { createHash } from "node:crypto"

/**
 * OpenSSH's SHA256 fingerprint of a public host key blob (the wire-format key, as
 * ssh2 hands it to `hostVerifier`): "SHA256:" + unpadded base64 of its SHA-256.
 * Same text as `ssh-keygen -l -E sha256` prints, so operators can compare it with
 * what they see on the host.
 */
export function sshFingerprint(keyBlob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`
}
