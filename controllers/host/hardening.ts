/**
 * Installing and applying a hardening profile on a host (infra/hetzner/hardening/ is "default").
 *
 * The profile directory travels as a tar stream on the stdin of `tar -x` on the host: no file
 * names or contents ever become part of a command line, and every command is an argv with its own
 * time limit and bounded output (HostShell). The install directory is where gatherFacts looks for
 * check-all.sh (HardeningCheckScript), so what is applied is what is checked.
 */
import { execFile } from "node:child_process"
import { posix } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { Effect, Schema } from "effect"
import { HardeningCheckScript, HostShell, type CommandResult, type HostTarget } from "../../src/providers/ssh/index.ts"

const execFileAsync = promisify(execFile)

export const DEFAULT_HARDENING_PROFILES: Readonly<Record<string, string>> = {
  default: fileURLToPath(new URL("../../infra/hetzner/hardening/", import.meta.url))
}

/** Fails when the profile directory cannot be packed (a broken install of this server). */
export class HardeningPackFailed extends Schema.TaggedError<HardeningPackFailed>()("HardeningPackFailed", {
  profile: Schema.String,
  message: Schema.String
}) {}

/** The profile directory as an uncompressed tar archive (system tar, argv only). */
export const packProfile = (profile: string, directory: string) =>
  Effect.tryPromise({
    try: async () => {
      const { stdout } = await execFileAsync("tar", ["-c", "-f", "-", "-C", directory, "."], { encoding: "buffer", maxBuffer: 16 * 1024 * 1024 })
      return new Uint8Array(stdout)
    },
    catch: (cause) => new HardeningPackFailed({ profile, message: `cannot pack hardening profile '${profile}' from ${directory}: ${String(cause)}` })
  })

export interface ApplyOutcome {
  readonly ok: boolean
  /** A sentence for the Hardened condition. */
  readonly message: string
}

const STEP_TIMEOUT_MS = 60_000
const OUTPUT_LIMIT = 64 * 1024

const lastLines = (text: string, count: number) => text.trim().split("\n").slice(-count).join(" | ")

/** Where the scripts live on the host: the directory of the check script gatherFacts runs. */
export const installDirectory = Effect.map(HardeningCheckScript, (checkScript) => posix.dirname(checkScript))

/**
 * Copies the profile to the host and runs apply-all.sh there. A non-zero exit is an outcome (the
 * scripts explain themselves on stderr), not a failure; only connection trouble and a command
 * that outlives `applyTimeoutMs` fail (CommandTimeout: it was killed on the host).
 */
export const applyHardening = (target: HostTarget, profile: string, directory: string, applyTimeoutMs: number) =>
  Effect.scoped(
    Effect.gen(function*() {
      const archive = yield* packProfile(profile, directory)
      const installDir = yield* installDirectory
      // Never let a misconfigured install path turn into `rm -rf /`.
      if (!posix.isAbsolute(installDir) || installDir.split("/").filter(Boolean).length < 2) {
        return { ok: false, message: `The hardening install directory '${installDir}' must be an absolute path at least two levels deep.` }
      }
      const shell = yield* HostShell
      const session = yield* shell.session(target)
      // Hosts are managed as root; any other user needs passwordless sudo for these steps.
      const asRoot = (argv: ReadonlyArray<string>) => (target.user === "root" ? argv : ["sudo", "-n", ...argv])
      const step = (argv: ReadonlyArray<string>, options: { readonly timeoutMs?: number; readonly stdin?: Uint8Array } = {}) =>
        session.exec(asRoot(argv), { timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS, maxOutputBytes: OUTPUT_LIMIT, stdin: options.stdin })
      const failed = (what: string, result: CommandResult): ApplyOutcome => ({
        ok: false,
        message: `${what} failed on the host (exit ${result.exitCode ?? result.signal}): ${lastLines(result.stderr || result.stdout, 5) || "no output"}`
      })

      // A fresh copy each time, so a script removed from the profile does not linger and run.
      const cleared = yield* step(["rm", "-rf", "--", installDir])
      if (cleared.exitCode !== 0) return failed(`Removing the old ${installDir}`, cleared)
      const created = yield* step(["mkdir", "-p", "--", installDir])
      if (created.exitCode !== 0) return failed(`Creating ${installDir}`, created)
      const unpacked = yield* step(["tar", "-x", "-f", "-", "--no-same-owner", "-C", installDir], { stdin: archive })
      if (unpacked.exitCode !== 0) return failed(`Unpacking the hardening profile into ${installDir}`, unpacked)
      const applied = yield* step([posix.join(installDir, "apply-all.sh"), "--apply"], { timeoutMs: applyTimeoutMs })
      if (applied.exitCode !== 0) return failed(`Applying hardening profile '${profile}' (apply-all.sh)`, applied)
      const changes = applied.stdout.split("\n").filter((line) => line.startsWith("APPLIED ")).length
      return {
        ok: true,
        message: changes === 0 ? `Hardening profile '${profile}' applied; nothing needed changing.` : `Hardening profile '${profile}' applied: ${changes} change(s) made.`
      } satisfies ApplyOutcome
    })
  )
