import type { Redacted } from "effect"

/** Where and as whom to run commands. Built by the Host controller from Host.spec and the key store. */
export interface HostTarget {
  readonly address: string
  readonly port: number
  readonly user: string
  /** Unencrypted private key, OpenSSH or PEM format. Redacted so it never lands in logs or spans. */
  readonly privateKey: Redacted.Redacted<string>
  /**
   * Pinned host key fingerprint ("SHA256:..."). When set, any other key fails the
   * connection with HostKeyMismatch. When unset (first contact), the connection is
   * accepted and the observed fingerprint is returned so the caller can pin it.
   */
  readonly expectedHostKey?: string | undefined
}

export const describeTarget = (target: HostTarget): string => `${target.user}@${target.address}:${target.port}`
