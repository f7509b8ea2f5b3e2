/**
 * One authenticated, host-key-verified SSH connection (ssh2), as a scoped
 * resource: the connection is closed when the scope closes, whatever happened.
 */
import { Effect, Redacted, type Scope } from "effect"
import ssh2, { type Client } from "ssh2"
import { HostAuthFailed, HostKeyMismatch, HostUnreachable, type ConnectError } from "./errors.ts"
import { sshFingerprint } from "./host-key.ts"
import { describeTarget, type HostTarget } from "./target.ts"

export interface ConnectionOptions {
  /** TCP connect + SSH handshake + authentication must finish within this. */
  readonly connectTimeoutMs: number
  /** SSH-level keepalive; three unanswered ones mark the connection lost. */
  readonly keepaliveIntervalMs: number
}

export interface Connection {
  readonly client: Client
  readonly target: HostTarget
  readonly hostKeyFingerprint: string
  /** Why the connection ended, once it has. */
  readonly closedReason: () => string | undefined
}

export const openConnection = (
  target: HostTarget,
  options: ConnectionOptions
): Effect.Effect<Connection, ConnectError, Scope.Scope> =>
  Effect.acquireRelease(connect(target, options), (connection) => Effect.sync(() => connection.client.end()))

type SshError = Error & { readonly level?: string; readonly code?: string }

const connect = (target: HostTarget, options: ConnectionOptions) =>
  Effect.callback<Connection, ConnectError>((resume) => {
    const client = new ssh2.Client()
    let presentedKey: string | undefined
    let rejectedKey = false
    let ready = false
    let settled = false
    let closedReason: string | undefined

    // ssh2 may report one failure through several events (error, then close); the
    // first outcome wins.
    const settle = (effect: Effect.Effect<Connection, ConnectError>) => {
      if (settled) return
      settled = true
      resume(effect)
    }

    client.once("ready", () => {
      if (presentedKey === undefined) {
        // ssh2 always verifies the host key before authenticating; guard anyway.
        client.end()
        return settle(Effect.fail(unreachable(target, "NoHostKey", "the server presented no host key")))
      }
      ready = true
      settle(Effect.succeed({ client, target, hostKeyFingerprint: presentedKey, closedReason: () => closedReason }))
    })
    // ssh2 emits "error" for the whole life of the connection; an emitter without a
    // listener would crash the process, so the listener stays after connecting.
    client.on("error", (error: SshError) => {
      closedReason ??= error.message
      if (ready) return
      client.end()
      settle(Effect.fail(connectFailure(target, error, options, rejectedKey ? presentedKey : undefined)))
    })
    client.once("close", () => {
      closedReason ??= ready ? "closed" : "closed by the server during the handshake"
      settle(Effect.fail(unreachable(target, "ConnectionClosed", "the server closed the connection during the handshake")))
    })

    try {
      client.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        privateKey: Redacted.value(target.privateKey),
        authHandler: ["publickey"],
        readyTimeout: options.connectTimeoutMs,
        keepaliveInterval: options.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer): boolean => {
          presentedKey = sshFingerprint(key)
          rejectedKey = target.expectedHostKey !== undefined && target.expectedHostKey !== presentedKey
          return !rejectedKey
        }
      })
      // The handshake and commands are small request/response exchanges; Nagle's
      // algorithm would hold back each small packet for a delayed ACK (tens of ms
      // per round trip).
      client.setNoDelay(true)
    } catch (error) {
      // ssh2 throws synchronously when it cannot parse the private key.
      settle(
        Effect.fail(
          new HostAuthFailed({
            address: target.address,
            port: target.port,
            user: target.user,
            message: `The private key for ${describeTarget(target)} cannot be used (${(error as Error).message}). Provide an unencrypted OpenSSH or PEM private key.`
          })
        )
      )
    }
    return Effect.sync(() => client.end())
  })

const connectFailure = (
  target: HostTarget,
  error: SshError,
  options: ConnectionOptions,
  rejectedKey: string | undefined
): ConnectError => {
  const where = `${target.address}:${target.port}`
  if (rejectedKey !== undefined && target.expectedHostKey !== undefined) {
    return new HostKeyMismatch({
      address: target.address,
      port: target.port,
      expected: target.expectedHostKey,
      actual: rejectedKey,
      message: `The SSH host key of ${where} changed: pinned ${target.expectedHostKey}, presented ${rejectedKey}. Nothing was run. If the host was reinstalled, confirm the new key on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update the pinned key; otherwise treat it as a possible man-in-the-middle.`
    })
  }
  if (error.level === "client-authentication") {
    return new HostAuthFailed({
      address: target.address,
      port: target.port,
      user: target.user,
      message: `${where} rejected the platform's SSH key for user "${target.user}". Add the platform's public key to ~${target.user}/.ssh/authorized_keys on the host, or fix Host.spec.user.`
    })
  }
  if (error.level === "client-timeout") {
    return unreachable(
      target,
      "HandshakeTimeout",
      `no SSH handshake within ${options.connectTimeoutMs} ms; check the address and port, that sshd runs and that a firewall does not drop port ${target.port}`
    )
  }
  switch (error.code) {
    case "ECONNREFUSED":
      return unreachable(target, error.code, `connection refused on port ${target.port}; is sshd running and listening on that port?`)
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return unreachable(target, error.code, `DNS lookup of "${target.address}" failed; check Host.spec.address`)
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return unreachable(target, error.code, `no route to the host (${error.code}); check the address and the network`)
    default:
      return unreachable(target, error.code ?? "SshError", error.message)
  }
}

export const unreachable = (target: HostTarget, reason: string, detail: string): HostUnreachable =>
  new HostUnreachable({
    address: target.address,
    port: target.port,
    reason,
    message: `Cannot reach ${target.address}:${target.port} over SSH: ${detail}.`
  })
