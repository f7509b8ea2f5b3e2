/**
 * Typed failures of talking to a host over SSH. Messages are written for the
 * operator (or model) reading a Host's conditions: what happened and what to do.
 */
import { Schema } from "effect"

/** TCP connect refused or timed out, DNS failed, or the connection dropped. */
export class HostUnreachable extends Schema.TaggedError<HostUnreachable>()("HostUnreachable", {
  address: Schema.String,
  port: Schema.Number,
  /** A short machine-readable cause: ECONNREFUSED, ETIMEDOUT, ENOTFOUND, HandshakeTimeout, ConnectionLost, ... */
  reason: Schema.String,
  message: Schema.String
}) {}

/** The server rejected our key for this user (or the key could not be used). */
export class HostAuthFailed extends Schema.TaggedError<HostAuthFailed>()("HostAuthFailed", {
  address: Schema.String,
  port: Schema.Number,
  user: Schema.String,
  message: Schema.String
}) {}

/** The host presented a different key than the one pinned for it. */
export class HostKeyMismatch extends Schema.TaggedError<HostKeyMismatch>()("HostKeyMismatch", {
  address: Schema.String,
  port: Schema.Number,
  expected: Schema.String,
  actual: Schema.String,
  message: Schema.String
}) {}

/** The command ran longer than allowed; it was signalled, its channel and connection closed. */
export class CommandTimeout extends Schema.TaggedError<CommandTimeout>()("CommandTimeout", {
  address: Schema.String,
  port: Schema.Number,
  command: Schema.String,
  timeoutMs: Schema.Number,
  message: Schema.String
}) {}

/** Failures of opening an authenticated, verified connection. */
export type ConnectError = HostUnreachable | HostAuthFailed | HostKeyMismatch

/** Every failure HostShell.exec can report. */
export type HostShellError = ConnectError | CommandTimeout
