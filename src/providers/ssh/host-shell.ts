/**
 * HostShell: run commands on operator hosts over SSH (ssh2), with host key
 * pinning, typed failures, time limits and bounded output. Commands are argv
 * arrays, never shell strings: see shell-quote.ts for how they travel.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { runCommand, type CommandResult, type ExecOptions } from "./command.ts"
import { openConnection, type ConnectionOptions } from "./connection.ts"
import type { CommandTimeout, ConnectError, HostShellError, HostUnreachable } from "./errors.ts"
import type { HostTarget } from "./target.ts"

export interface ExecResult extends CommandResult {
  /** The key the host presented. Record it on first contact and pass it as expectedHostKey afterwards. */
  readonly hostKeyFingerprint: string
}

/** An open connection for running several commands (concurrently if wanted) over one handshake. */
export interface HostSession {
  readonly hostKeyFingerprint: string
  /**
   * A CommandTimeout closes the whole connection, so later commands of this
   * session fail with HostUnreachable (ConnectionLost).
   */
  exec(argv: ReadonlyArray<string>, options: ExecOptions): Effect.Effect<CommandResult, HostUnreachable | CommandTimeout>
}

export const HostShellConfig = Context.Reference<ConnectionOptions>("deploy-mcp/providers/ssh/HostShellConfig", {
  defaultValue: () => ({ connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000 })
})

export class HostShell extends Context.Service<HostShell, {
  /** Handshake, host key check and authentication only; reports the presented host key. */
  connect(target: HostTarget): Effect.Effect<{ readonly hostKeyFingerprint: string }, ConnectError>
  /** A connection that lives as long as the surrounding scope. */
  session(target: HostTarget): Effect.Effect<HostSession, ConnectError, Scope.Scope>
  /** Connect, run one argv, disconnect. */
  exec(target: HostTarget, argv: ReadonlyArray<string>, options: ExecOptions): Effect.Effect<ExecResult, HostShellError>
}>()("deploy-mcp/providers/ssh/HostShell") {
  static readonly layer = Layer.effect(
    HostShell,
    Effect.gen(function*() {
      const config = yield* HostShellConfig

      const session = Effect.fn("HostShell.session")(function*(target: HostTarget) {
        const connection = yield* openConnection(target, config)
        return {
          hostKeyFingerprint: connection.hostKeyFingerprint,
          exec: (argv: ReadonlyArray<string>, options: ExecOptions) => runCommand(connection, argv, options)
        } satisfies HostSession
      })

      const connect = Effect.fn("HostShell.connect")(function*(target: HostTarget) {
        const opened = yield* Effect.scoped(session(target))
        return { hostKeyFingerprint: opened.hostKeyFingerprint }
      })

      const exec = Effect.fn("HostShell.exec")(
        function*(target: HostTarget, argv: ReadonlyArray<string>, options: ExecOptions) {
          const opened = yield* session(target)
          const result = yield* opened.exec(argv, options)
          return { ...result, hostKeyFingerprint: opened.hostKeyFingerprint }
        },
        Effect.scoped
      )

      return HostShell.of({ connect, session, exec })
    })
  )
}
