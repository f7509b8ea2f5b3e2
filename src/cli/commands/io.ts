/**
 * What an operator command gets from its caller (src/cli/main.ts, or a test): arguments, the
 * environment, where to write, and a signal that ends a long-running command such as --watch.
 * Commands return an exit code instead of calling process.exit, so they can be run in-process.
 */
import { Schema } from "effect"

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Aborted on SIGINT/SIGTERM: --watch stops and the command exits 0. */
  readonly signal?: AbortSignal
  readonly now?: () => Date
}

/** Exit codes: 0 ok, 1 the command failed, 2 it was called wrongly. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const

/** A failure the operator can act on; its message is printed as one line. */
export class CliFailure extends Schema.TaggedError<CliFailure>()("CliFailure", {
  message: Schema.String
}) {}

/** The command line itself was wrong: the message plus the command's usage is printed. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

/** The process's own io: what src/cli/main.ts passes. */
export const processIo = (signal?: AbortSignal): CliIo => ({
  env: process.env,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  ...(signal ? { signal } : {})
})
