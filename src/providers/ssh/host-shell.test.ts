import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { existsSync, readdirSync, readFileSync, statfsSync } from "node:fs"
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import { Effect, Layer, Redacted } from "effect"
import ssh2 from "ssh2"
import { startSshd, type SshdFixture } from "../../../e2e/fixtures/sshd/sshd.ts"
import { HardeningCheckScript, gatherFacts } from "./facts.ts"
import { HostShell, HostShellConfig } from "./host-shell.ts"
import type { HostTarget } from "./target.ts"

const layer = HostShell.layer.pipe(
  Layer.provide(Layer.succeed(HostShellConfig, { connectTimeoutMs: 5_000, keepaliveIntervalMs: 15_000 }))
)

const run = <A, E>(effect: Effect.Effect<A, E, HostShell>) => Effect.runPromise(Effect.provide(effect, layer))
const failure = <A, E>(effect: Effect.Effect<A, E, HostShell>) => run(Effect.flip(effect))

const targetOf = (sshd: SshdFixture, overrides: Partial<HostTarget> = {}): HostTarget => ({
  address: sshd.host,
  port: sshd.port,
  user: sshd.user,
  privateKey: Redacted.make(sshd.privateKey),
  ...overrides
})

const exec = (target: HostTarget, argv: ReadonlyArray<string>, options: { timeoutMs?: number; maxOutputBytes?: number; stdin?: string } = {}) =>
  HostShell.use((shell) => shell.exec(target, argv, { timeoutMs: 10_000, maxOutputBytes: 1 << 20, ...options }))

/** Processes (not zombies) whose argv contains `marker`. The sshd fixture runs on this machine. */
const processesWith = (marker: string): Array<string> =>
  readdirSync("/proc").filter((pid) => {
    if (!/^\d+$/.test(pid)) return false
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(marker)
    } catch {
      return false
    }
  })

/** Resolves once `condition` holds, checking on every turn of the event loop and timer tick. */
const eventually = async (condition: () => boolean, what: string, deadlineMs = 5_000) => {
  const deadline = Date.now() + deadlineMs
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`still waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

describe("HostShell against a real sshd", () => {
  let sshd: SshdFixture
  before(async () => {
    sshd = await startSshd()
  })
  after(async () => {
    await sshd.stop()
  })

  test("connect reports the host key fingerprint ssh-keygen computes (first use)", async () => {
    const { hostKeyFingerprint } = await run(HostShell.use((shell) => shell.connect(targetOf(sshd))))
    assert.equal(hostKeyFingerprint, sshd.hostKeyFingerprint)
  })

  test("exec passes every argv element literally, however awkward", async () => {
    const canary = join(tmpdir(), `deploymcp-canary-${randomUUID()}`)
    const awkward = [
      "it's",
      `"double" quotes`,
      "two  spaces",
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `; touch ${canary}`,
      `&& touch ${canary} || true &`,
      "$HOME ${PATH} $1",
      "back\\slash",
      "*",
      "line\nbreak",
      "'",
      "''",
      "",
      "-n",
      "# not a comment",
      "héllo ✓"
    ]
    // printf repeats its format for every argument: each comes back NUL-terminated.
    const result = await run(exec(targetOf(sshd), ["printf", "%s\\0", ...awkward]))
    assert.equal(result.exitCode, 0, result.stderr)
    assert.deepEqual(result.stdout.split("\0").slice(0, -1), awkward)
    assert.equal(existsSync(canary), false, "a quoted argument was executed by the remote shell")
    assert.equal(result.stderr, "")
    assert.equal(result.truncated, false)
    assert.equal(result.hostKeyFingerprint, sshd.hostKeyFingerprint)
  })

  test("exit codes, stderr and stdin come through", async () => {
    const target = targetOf(sshd)
    const failing = await run(exec(target, ["sh", "-c", "echo oops >&2; exit 7"]))
    assert.deepEqual([failing.exitCode, failing.stdout, failing.stderr], [7, "", "oops\n"])

    const echoed = await run(exec(target, ["wc", "-c"], { stdin: "hello, stdin\n" }))
    assert.equal(echoed.stdout.trim(), "13")

    // Without stdin the command sees end-of-file at once instead of hanging.
    const empty = await run(exec(target, ["cat"]))
    assert.deepEqual([empty.exitCode, empty.stdout], [0, ""])

    const missing = await run(exec(target, ["deploymcp-no-such-program"]))
    assert.equal(missing.exitCode, 127)
  })

  test("a pinned host key that matches is accepted; another one fails with HostKeyMismatch", async () => {
    const pinned = await run(exec(targetOf(sshd, { expectedHostKey: sshd.hostKeyFingerprint }), ["true"]))
    assert.equal(pinned.exitCode, 0)

    const wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    const error = await failure(exec(targetOf(sshd, { expectedHostKey: wrong }), ["true"]))
    assert.equal(error._tag, "HostKeyMismatch")
    assert.ok(error._tag === "HostKeyMismatch")
    assert.equal(error.expected, wrong)
    assert.equal(error.actual, sshd.hostKeyFingerprint)
    assert.match(error.message, /changed.*Nothing was run/)
  })

  test("a closed port fails with HostUnreachable (ECONNREFUSED)", async () => {
    const port = await closedPort()
    const error = await failure(exec(targetOf(sshd, { port }), ["true"]))
    assert.equal(error._tag, "HostUnreachable")
    assert.ok(error._tag === "HostUnreachable")
    assert.equal(error.reason, "ECONNREFUSED")
    assert.match(error.message, /refused.*is sshd running/)
  })

  test("an unknown host name fails with HostUnreachable (DNS)", async () => {
    const error = await failure(exec(targetOf(sshd, { address: "no-such-host.invalid" }), ["true"]))
    assert.equal(error._tag, "HostUnreachable")
    assert.ok(error._tag === "HostUnreachable")
    assert.match(error.reason, /ENOTFOUND|EAI_AGAIN/)
  })

  test("a key the host does not accept fails with HostAuthFailed", async () => {
    const otherKey = ssh2.utils.generateKeyPairSync("ed25519").private
    const error = await failure(exec(targetOf(sshd, { privateKey: Redacted.make(otherKey) }), ["true"]))
    assert.equal(error._tag, "HostAuthFailed")
    assert.match(error.message, /rejected the platform's SSH key for user/)

    const garbage = await failure(exec(targetOf(sshd, { privateKey: Redacted.make("not a key") }), ["true"]))
    assert.equal(garbage._tag, "HostAuthFailed")
    assert.match(garbage.message, /cannot be used/)
  })

  test("a hanging command is cut off by its timeout and killed on the host, with its children", async () => {
    const marker = `600.${Date.now() % 1_000_000}`
    const child = `601.${Date.now() % 1_000_000}`
    const error = await failure(
      exec(targetOf(sshd), ["sh", "-c", `sleep ${child} & sleep ${marker}; wait`], { timeoutMs: 500 })
    )
    assert.equal(error._tag, "CommandTimeout")
    assert.ok(error._tag === "CommandTimeout")
    assert.equal(error.timeoutMs, 500)
    assert.match(error.message, /did not finish within 500 ms; it was killed \(process group \d+\)/)
    await eventually(() => processesWith(marker).length === 0 && processesWith(child).length === 0, "sleep processes gone")
  })

  test("output beyond maxOutputBytes is cut and flagged, the command still completes", async () => {
    const target = targetOf(sshd)
    const big = await run(exec(target, ["head", "-c", "100000", "/dev/zero"], { maxOutputBytes: 1000 }))
    assert.deepEqual([big.exitCode, big.stdout.length, big.truncated], [0, 1000, true])

    const bigErr = await run(exec(target, ["sh", "-c", "head -c 5000 /dev/zero >&2"], { maxOutputBytes: 1000 }))
    assert.deepEqual([bigErr.stderr.length, bigErr.truncated], [1000, true])

    const exact = await run(exec(target, ["printf", "12345"], { maxOutputBytes: 5 }))
    assert.deepEqual([exact.stdout, exact.truncated], ["12345", false])
  })

  test("a session runs several commands concurrently over one connection", async () => {
    const outputs = await run(
      Effect.scoped(
        Effect.gen(function*() {
          const shell = yield* HostShell
          const session = yield* shell.session(targetOf(sshd))
          return yield* Effect.all(
            ["a", "b", "c", "d"].map((word) => session.exec(["echo", word], { timeoutMs: 10_000, maxOutputBytes: 100 })),
            { concurrency: "unbounded" }
          )
        })
      )
    )
    assert.deepEqual(outputs.map((output) => output.stdout), ["a\n", "b\n", "c\n", "d\n"])
  })

  test("gatherFacts reads memory, disk, tool versions and the hardening check", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "deploymcp-facts-"))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const checkAll = join(dir, "check-all.sh")
    await writeFile(
      checkAll,
      "#!/bin/sh\necho 'DRIFT 40-ssh: effective sshd config allows password authentication'\necho 'RESULT 10-egress-rules: ok'\necho 'RESULT 40-ssh: drift'\nexit 1\n"
    )
    await chmod(checkAll, 0o755)

    const facts = await run(gatherFacts(targetOf(sshd)).pipe(Effect.provideService(HardeningCheckScript, checkAll)))

    assert.equal(facts.hostKeyFingerprint, sshd.hostKeyFingerprint)
    // sshd runs on this machine, so the host's numbers are ours.
    const memTotalKib = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1])
    assert.equal(facts.memory?.totalBytes, memTotalKib * 1024)
    assert.ok((facts.memory?.availableBytes ?? 0) > 0)
    const root = statfsSync("/")
    assert.ok(Math.abs((facts.disk?.totalBytes ?? 0) - root.blocks * root.bsize) < 1024 * 1024)
    assert.deepEqual(facts.hardening, {
      status: "drifted",
      drift: ["40-ssh: effective sshd config allows password authentication"],
      results: [
        { script: "10-egress-rules", result: "ok" },
        { script: "40-ssh", result: "drift" }
      ]
    })
    const runscHere = (process.env.PATH ?? "").split(":").some((dir) => existsSync(join(dir, "runsc")))
    if (!runscHere) {
      assert.equal(facts.runsc.version, null)
      assert.ok(facts.problems.includes("gVisor (runsc) is not installed."))
    }

    const absent = await run(
      gatherFacts(targetOf(sshd)).pipe(Effect.provideService(HardeningCheckScript, join(dir, "missing.sh")))
    )
    assert.equal(absent.hardening.status, "absent")
  })
})

describe("HostShell host key rotation", () => {
  let sshd: SshdFixture
  before(async () => {
    sshd = await startSshd()
  })
  after(async () => {
    await sshd.stop()
  })

  test("a host that comes back with a new key is refused until the pin is updated", async () => {
    const first = await run(exec(targetOf(sshd), ["true"]))
    const pinned = first.hostKeyFingerprint

    await sshd.rotateHostKey()
    assert.notEqual(sshd.hostKeyFingerprint, pinned)

    const error = await failure(exec(targetOf(sshd, { expectedHostKey: pinned }), ["true"]))
    assert.equal(error._tag, "HostKeyMismatch")
    assert.ok(error._tag === "HostKeyMismatch")
    assert.deepEqual([error.expected, error.actual], [pinned, sshd.hostKeyFingerprint])

    const repinned = await run(exec(targetOf(sshd, { expectedHostKey: sshd.hostKeyFingerprint }), ["true"]))
    assert.equal(repinned.exitCode, 0)
  })
})
