/**
 * Runs one argv over an open connection with a time limit and bounded output.
 *
 * Killing on timeout: SSH's "signal" request cannot be relied on (OpenSSH refuses
 * it for root sessions, which skip privilege separation, and ssh2 drops it once
 * stdin is closed), and closing the connection does not stop a command that
 * writes nothing. So the remote shell first reports its PID on stderr and then
 * execs the command in its place. sshd starts every session in a new session and
 * process group led by that shell, so on timeout `kill -s KILL -- -PID` over a
 * second channel ends the command and everything it started, before the channel
 * and connection are closed. The PID line is stripped from stderr.
 */
import { Duration, Effect, Option } from "effect"
import type { ClientChannel } from "ssh2"
import { unreachable, type Connection } from "./connection.ts"
import { CommandTimeout, type HostUnreachable } from "./errors.ts"
import { quoteShellCommand } from "./shell-quote.ts"

export interface ExecOptions {
  /** The command is killed (with its process group) after this long. */
  readonly timeoutMs: number
  /** stdout and stderr each keep at most this many bytes; the rest is read and dropped. */
  readonly maxOutputBytes: number
  /** Written to the command's stdin, which is then closed. Without it stdin is closed at once. */
  readonly stdin?: string | Uint8Array | undefined
}

export interface CommandResult {
  /** null when the command was ended by a signal. */
  readonly exitCode: number | null
  /** Signal name without "SIG" (e.g. "KILL") when the command was ended by one. */
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
  /** true when stdout or stderr exceeded maxOutputBytes and was cut. */
  readonly truncated: boolean
}

const REPORT_PID_THEN_EXEC = `echo "$$" >&2 && exec `
const KILL_TIMEOUT = Duration.seconds(5)

export const runCommand = (
  connection: Connection,
  argv: ReadonlyArray<string>,
  options: ExecOptions
): Effect.Effect<CommandResult, HostUnreachable | CommandTimeout> =>
  Effect.suspend(() => {
    const command = quoteShellCommand(argv)
    let remotePid: number | undefined
    return runChannel(connection, `${REPORT_PID_THEN_EXEC}${command}`, options, (pid) => (remotePid = pid)).pipe(
      Effect.timeoutOrElse({
        duration: Duration.millis(options.timeoutMs),
        orElse: () => killAfterTimeout(connection, command, options.timeoutMs, remotePid)
      })
    )
  })

const killAfterTimeout = (connection: Connection, command: string, timeoutMs: number, pid: number | undefined) =>
  Effect.gen(function*() {
    const killed =
      pid !== undefined &&
      (yield* runChannel(connection, `kill -s KILL -- -${pid}`, { maxOutputBytes: 4096 }).pipe(
        Effect.timeoutOption(KILL_TIMEOUT),
        Effect.map(Option.match({ onNone: () => false, onSome: (result) => result.exitCode === 0 })),
        Effect.orElseSucceed(() => false)
      ))
    connection.client.end()
    const { address, port } = connection.target
    return yield* new CommandTimeout({
      address,
      port,
      command,
      timeoutMs,
      message: killed
        ? `The command \`${command}\` on ${address}:${port} did not finish within ${timeoutMs} ms; it was killed (process group ${pid}) and the connection closed. Raise the timeout if it legitimately takes longer.`
        : `The command \`${command}\` on ${address}:${port} did not finish within ${timeoutMs} ms and the connection was closed, but it could not be killed and may still be running on the host.`
    })
  })

/** Opens one exec channel for a raw command line and collects its outcome. */
const runChannel = (
  connection: Connection,
  commandLine: string,
  options: { readonly maxOutputBytes: number; readonly stdin?: string | Uint8Array | undefined },
  onRemotePid?: (pid: number) => void
) =>
  Effect.callback<CommandResult, HostUnreachable>((resume) => {
    const { client, target } = connection
    let channel: ClientChannel | undefined
    let finished = false

    const finish = (effect: Effect.Effect<CommandResult, HostUnreachable>) => {
      if (finished) return
      finished = true
      client.removeListener("close", onConnectionClosed)
      resume(effect)
    }
    const onConnectionClosed = () =>
      finish(Effect.fail(connectionLost(connection)))
    client.on("close", onConnectionClosed)

    const onOpen = (error: Error | undefined, opened: ClientChannel) => {
      if (error !== undefined) {
        return finish(
          Effect.fail(
            unreachable(target, "ChannelRejected", `the server refused to start a command (${error.message}); it may limit concurrent sessions (MaxSessions)`)
          )
        )
      }
      channel = opened
      if (finished) return void opened.close()

      const stdout = new BoundedOutput(options.maxOutputBytes)
      const stderr = new BoundedOutput(options.maxOutputBytes)
      const pidLine = onRemotePid === undefined ? undefined : new PidLine()
      let exitCode: number | null = null
      let signal: string | null = null

      opened.on("data", (chunk: Buffer) => stdout.push(chunk))
      opened.stderr.on("data", (chunk: Buffer) => {
        if (pidLine === undefined) return stderr.push(chunk)
        stderr.push(pidLine.feed(chunk))
        if (pidLine.pid !== undefined) onRemotePid?.(pidLine.pid)
      })
      opened.on("exit", (code: number | null, signalName?: string) => {
        exitCode = code
        signal = signalName ?? null
      })
      opened.on("close", () => {
        if (pidLine !== undefined) stderr.push(pidLine.flush())
        finish(
          Effect.succeed({
            exitCode,
            signal,
            stdout: stdout.text(),
            stderr: stderr.text(),
            truncated: stdout.truncated || stderr.truncated
          })
        )
      })
      if (options.stdin === undefined) opened.end()
      else opened.end(options.stdin)
    }

    try {
      client.exec(commandLine, onOpen)
    } catch {
      // ssh2 throws "Not connected" when the connection is already gone.
      finish(Effect.fail(connectionLost(connection)))
    }

    // Interrupted (e.g. by the timeout): stop listening and close our channel.
    return Effect.sync(() => {
      finished = true
      client.removeListener("close", onConnectionClosed)
      channel?.close()
    })
  })

const connectionLost = (connection: Connection) =>
  unreachable(connection.target, "ConnectionLost", `the connection was lost (${connection.closedReason() ?? "closed"})`)

/** Keeps the first `limit` bytes of a stream and remembers whether more came. */
class BoundedOutput {
  readonly #limit: number
  readonly #chunks: Array<Buffer> = []
  #size = 0
  truncated = false

  constructor(limit: number) {
    this.#limit = limit
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    const room = this.#limit - this.#size
    if (chunk.length > room) this.truncated = true
    if (room <= 0) return
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk
    this.#chunks.push(kept)
    this.#size += kept.length
  }

  /** A multi-byte character cut at the limit decodes as U+FFFD. */
  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8")
  }
}

/** Splits the "<pid>\n" line the wrapper writes first from the command's own stderr. */
class PidLine {
  pid: number | undefined
  #pending: Buffer = Buffer.alloc(0)
  #done = false

  /** Returns the part of `chunk` that belongs to the command's stderr. */
  feed(chunk: Buffer): Buffer {
    if (this.#done) return chunk
    this.#pending = Buffer.concat([this.#pending, chunk])
    const newline = this.#pending.indexOf(10)
    if (newline === -1) {
      // A PID is a few digits; anything longer is not our line.
      return this.#pending.length > 32 ? this.flush() : Buffer.alloc(0)
    }
    const line = this.#pending.subarray(0, newline).toString("ascii")
    if (!/^\d+$/.test(line)) return this.flush()
    this.#done = true
    this.pid = Number(line)
    const rest = this.#pending.subarray(newline + 1)
    this.#pending = Buffer.alloc(0)
    return rest
  }

  flush(): Buffer {
    this.#done = true
    const pending = this.#pending
    this.#pending = Buffer.alloc(0)
    return pending
  }
}
