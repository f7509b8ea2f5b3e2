/**
 * Facts about a host, gathered over one SSH session by a fixed set of read-only
 * commands: Docker and gVisor versions, memory, disk, and the hardening check.
 * A missing tool is a fact ("not installed"), not a failure; only connection
 * problems fail. Every section is decoded with Schema, so a garbled output
 * becomes a listed problem instead of a wrong number.
 */
import { Context, Effect, Option, Schema } from "effect"
import type { CommandResult } from "./command.ts"
import type { HostShellError } from "./errors.ts"
import { HostShell, type HostSession } from "./host-shell.ts"
import type { HostTarget } from "./target.ts"

/** Where the Host controller installs infra/hetzner/hardening/ on a host. */
export const HardeningCheckScript = Context.Reference<string>("deploy-mcp/providers/ssh/HardeningCheckScript", {
  defaultValue: () => "/opt/deploy-mcp/hardening/check-all.sh"
})

const ByteCount = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

export const MemoryFacts = Schema.Struct({ totalBytes: ByteCount, availableBytes: ByteCount })
export const DiskFacts = Schema.Struct({ path: Schema.String, totalBytes: ByteCount, availableBytes: ByteCount })
export const DockerFacts = Schema.Struct({
  clientVersion: Schema.NullOr(Schema.String),
  /** null when the daemon is not running or not reachable. */
  serverVersion: Schema.NullOr(Schema.String)
})
export const RunscFacts = Schema.Struct({ version: Schema.NullOr(Schema.String) })
export const HardeningResult = Schema.Struct({
  script: Schema.String,
  result: Schema.Literals(["ok", "drift", "error"])
})
export const HardeningFacts = Schema.Struct({
  /** absent: check-all.sh is not installed at the configured path. */
  status: Schema.Literals(["passed", "drifted", "failed", "absent"]),
  /** The DRIFT lines, without the "DRIFT " prefix ("40-ssh: effective sshd config allows ..."). */
  drift: Schema.Array(Schema.String),
  results: Schema.Array(HardeningResult)
})

export const Facts = Schema.Struct({
  hostKeyFingerprint: Schema.String,
  docker: DockerFacts,
  runsc: RunscFacts,
  memory: Schema.NullOr(MemoryFacts),
  disk: Schema.NullOr(DiskFacts),
  hardening: HardeningFacts,
  /** What could not be gathered or looks wrong, one sentence each. */
  problems: Schema.Array(Schema.String)
})
export type Facts = typeof Facts.Type

/** Remote commands get their own deadline (coreutils timeout) so a wedged dockerd yields a fact, not a dead session. */
const REMOTE_TIMEOUT_SECONDS = 20
const SSH_TIMEOUT_MS = (REMOTE_TIMEOUT_SECONDS + 10) * 1000
const OUTPUT_LIMIT = 256 * 1024
const DISK_PATH = "/"

const withRemoteTimeout = (argv: ReadonlyArray<string>) => ["timeout", String(REMOTE_TIMEOUT_SECONDS), ...argv]

export const gatherFacts = Effect.fn("gatherFacts")(function*(
  target: HostTarget
): Effect.fn.Return<Facts, HostShellError, HostShell> {
  const shell = yield* HostShell
  const checkScript = yield* HardeningCheckScript
  return yield* Effect.scoped(
    Effect.gen(function*() {
      const session = yield* shell.session(target)
      const run = (argv: ReadonlyArray<string>) =>
        session.exec(withRemoteTimeout(argv), { timeoutMs: SSH_TIMEOUT_MS, maxOutputBytes: OUTPUT_LIMIT })
      const outputs = yield* Effect.all(
        {
          docker: run(["docker", "version", "--format", "{{json .}}"]),
          runsc: run(["runsc", "--version"]),
          meminfo: run(["cat", "/proc/meminfo"]),
          df: run(["df", "-Pk", DISK_PATH]),
          hardening: run([checkScript, "--check"])
        },
        { concurrency: "unbounded" }
      )
      return factsFromOutputs(session, outputs)
    })
  )
})

export interface FactOutputs {
  readonly docker: CommandResult
  readonly runsc: CommandResult
  readonly meminfo: CommandResult
  readonly df: CommandResult
  readonly hardening: CommandResult
}

export const factsFromOutputs = (session: Pick<HostSession, "hostKeyFingerprint">, outputs: FactOutputs): Facts => {
  const problems: Array<string> = []
  const docker = dockerFacts(outputs.docker, problems)
  const runsc = runscFacts(outputs.runsc, problems)
  const memory = memoryFacts(outputs.meminfo, problems)
  const disk = diskFacts(outputs.df, problems)
  const hardening = hardeningFacts(outputs.hardening, problems)
  return { hostKeyFingerprint: session.hostKeyFingerprint, docker, runsc, memory, disk, hardening, problems }
}

// Exit codes of `timeout CMD`: 124 = timed out, 126 = not executable, 127 = not found.
const TIMED_OUT = 124
const NOT_RUNNABLE = new Set([126, 127])

const firstLine = (text: string) => text.trim().split("\n")[0] ?? ""

const DockerVersionOutput = Schema.fromJsonString(
  Schema.Struct({
    Client: Schema.optional(Schema.NullOr(Schema.Struct({ Version: Schema.String }))),
    Server: Schema.optional(Schema.NullOr(Schema.Struct({ Version: Schema.String })))
  })
)

const dockerFacts = (result: CommandResult, problems: Array<string>): typeof DockerFacts.Type => {
  if (result.exitCode !== null && NOT_RUNNABLE.has(result.exitCode)) {
    problems.push("docker is not installed (docker CLI not found).")
    return { clientVersion: null, serverVersion: null }
  }
  if (result.exitCode === TIMED_OUT) {
    problems.push(`docker version did not answer within ${REMOTE_TIMEOUT_SECONDS} s; the docker daemon may be hung.`)
    return { clientVersion: null, serverVersion: null }
  }
  // With the daemon down, docker still prints the client half and exits 1.
  const parsed = Schema.decodeUnknownOption(DockerVersionOutput)(firstLine(result.stdout))
  const clientVersion = Option.getOrNull(Option.flatMap(parsed, (v) => Option.fromNullishOr(v.Client?.Version)))
  const serverVersion = Option.getOrNull(Option.flatMap(parsed, (v) => Option.fromNullishOr(v.Server?.Version)))
  if (Option.isNone(parsed)) {
    problems.push(`docker version printed unexpected output: ${firstLine(result.stderr || result.stdout)}`)
  } else if (serverVersion === null) {
    problems.push(`the docker daemon is not reachable: ${firstLine(result.stderr) || "no server version reported"}`)
  }
  return { clientVersion, serverVersion }
}

const runscFacts = (result: CommandResult, problems: Array<string>): typeof RunscFacts.Type => {
  if (result.exitCode === 0) {
    const version = /^runsc version (\S+)/m.exec(result.stdout)?.[1]
    if (version !== undefined) return { version }
    problems.push(`runsc --version printed unexpected output: ${firstLine(result.stdout)}`)
    return { version: null }
  }
  problems.push(
    result.exitCode !== null && NOT_RUNNABLE.has(result.exitCode)
      ? "gVisor (runsc) is not installed."
      : `runsc --version failed (exit ${result.exitCode}): ${firstLine(result.stderr)}`
  )
  return { version: null }
}

/** /proc/meminfo values are in KiB ("MemTotal:  16314052 kB"). */
const memoryFacts = (result: CommandResult, problems: Array<string>): typeof MemoryFacts.Type | null => {
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(result.stdout)
    return match?.[1] === undefined ? Number.NaN : Number(match[1]) * 1024
  }
  const decoded = Schema.decodeUnknownOption(MemoryFacts)({ totalBytes: kib("MemTotal"), availableBytes: kib("MemAvailable") })
  if (result.exitCode === 0 && Option.isSome(decoded)) return decoded.value
  problems.push(`free memory unknown: /proc/meminfo could not be read or parsed (exit ${result.exitCode}).`)
  return null
}

/** `df -Pk` (POSIX format): header, then "fs 1024-blocks used available capacity mountpoint". */
const diskFacts = (result: CommandResult, problems: Array<string>): typeof DiskFacts.Type | null => {
  const columns = result.stdout.trim().split("\n")[1]?.trim().split(/\s+/) ?? []
  const decoded = Schema.decodeUnknownOption(DiskFacts)({
    path: DISK_PATH,
    totalBytes: Number(columns[1]) * 1024,
    availableBytes: Number(columns[3]) * 1024
  })
  if (result.exitCode === 0 && Option.isSome(decoded)) return decoded.value
  problems.push(`free disk unknown: df -Pk ${DISK_PATH} failed or printed unexpected output (exit ${result.exitCode}).`)
  return null
}

/** Reads check-all.sh's contract: DRIFT lines, RESULT lines, exit 0/1/2. */
const hardeningFacts = (result: CommandResult, problems: Array<string>): typeof HardeningFacts.Type => {
  if (result.exitCode !== null && NOT_RUNNABLE.has(result.exitCode)) {
    problems.push("the hardening scripts are not installed on the host; apply them first.")
    return { status: "absent", drift: [], results: [] }
  }
  const lines = result.stdout.split("\n")
  const drift = lines.filter((line) => line.startsWith("DRIFT ")).map((line) => line.slice("DRIFT ".length))
  const results = lines.flatMap((line) => {
    const match = /^RESULT (\S+): (\S+)$/.exec(line)
    return Option.toArray(
      Schema.decodeUnknownOption(HardeningResult)(match === null ? undefined : { script: match[1], result: match[2] })
    )
  })
  switch (result.exitCode) {
    case 0:
      return { status: "passed", drift, results }
    case 1:
      return { status: "drifted", drift, results }
    case TIMED_OUT:
      problems.push(`the hardening check did not finish within ${REMOTE_TIMEOUT_SECONDS} s.`)
      return { status: "failed", drift, results }
    default:
      problems.push(`the hardening check failed (exit ${result.exitCode}): ${firstLine(result.stderr)}`)
      return { status: "failed", drift, results }
  }
}
