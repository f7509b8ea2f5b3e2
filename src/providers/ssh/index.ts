/** Hosts over SSH: the public surface for the Host controller. */
export { HostShell, HostShellConfig, type ExecResult, type HostSession } from "./host-shell.ts"
export type { CommandResult, ExecOptions } from "./command.ts"
export type { HostTarget } from "./target.ts"
export { CommandTimeout, HostAuthFailed, HostKeyMismatch, HostUnreachable, type ConnectError, type HostShellError } from "./errors.ts"
export { Facts, HardeningCheckScript, gatherFacts } from "./facts.ts"
export { sshFingerprint } from "./host-key.ts"
export { quoteShellArg, quoteShellCommand } from "./shell-quote.ts"
