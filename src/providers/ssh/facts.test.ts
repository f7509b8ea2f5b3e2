/**
 * gatherFacts over a fake HostShell layer: how command outputs (including missing
 * tools, a dead docker daemon, garbage) become Facts. The real-sshd path is
 * covered in host-shell.test.ts.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { Effect, Layer, Redacted } from "effect"
import type { CommandResult } from "./command.ts"
import { HardeningCheckScript, gatherFacts } from "./facts.ts"
import { HostShell } from "./host-shell.ts"

type Outputs = Record<"docker" | "runsc" | "cat" | "df" | "check", Partial<CommandResult>>

const ok = (stdout: string): Partial<CommandResult> => ({ exitCode: 0, stdout })
const notFound: Partial<CommandResult> = { exitCode: 127, stderr: "timeout: failed to run command: No such file or directory\n" }

const healthy: Outputs = {
  docker: ok(`{"Client":{"Version":"27.3.1","ApiVersion":"1.47"},"Server":{"Version":"27.3.1","Components":[]}}\n`),
  runsc: ok("runsc version release-20241028.0\nspec: 1.1.0-rc.1\n"),
  cat: ok("MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    6000000 kB\n"),
  df: ok("Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/sda1        157208536 20000000 130000000      14% /\n"),
  check: { exitCode: 0, stdout: "RESULT 10-egress-rules: ok\nRESULT 20-gvisor: ok\n" }
}

/** A HostShell whose commands answer from `outputs`, keyed by the program after `timeout 20`. */
const fakeShell = (outputs: Outputs, seen: Array<ReadonlyArray<string>> = []) =>
  Layer.succeed(
    HostShell,
    HostShell.of({
      connect: () => Effect.succeed({ hostKeyFingerprint: "SHA256:fake" }),
      exec: () => Effect.die("not used"),
      session: () =>
        Effect.succeed({
          hostKeyFingerprint: "SHA256:fake",
          exec: (argv) => {
            seen.push(argv)
            const program = argv[2] ?? ""
            const key = (program.endsWith("check-all.sh") ? "check" : program) as keyof Outputs
            return Effect.succeed({ exitCode: 0, signal: null, stdout: "", stderr: "", truncated: false, ...outputs[key] })
          }
        })
    })
  )

const target = { address: "203.0.113.7", port: 22, user: "root", privateKey: Redacted.make("unused") }
const factsWith = (outputs: Partial<Outputs>, seen?: Array<ReadonlyArray<string>>) =>
  Effect.runPromise(gatherFacts(target).pipe(Effect.provide(fakeShell({ ...healthy, ...outputs }, seen))))

describe("gatherFacts", () => {
  test("a healthy host", async () => {
    const seen: Array<ReadonlyArray<string>> = []
    const facts = await factsWith({}, seen)
    assert.deepEqual(facts, {
      hostKeyFingerprint: "SHA256:fake",
      docker: { clientVersion: "27.3.1", serverVersion: "27.3.1" },
      runsc: { version: "release-20241028.0" },
      memory: { totalBytes: 8_000_000 * 1024, availableBytes: 6_000_000 * 1024 },
      disk: { path: "/", totalBytes: 157_208_536 * 1024, availableBytes: 130_000_000 * 1024 },
      hardening: {
        status: "passed",
        drift: [],
        results: [
          { script: "10-egress-rules", result: "ok" },
          { script: "20-gvisor", result: "ok" }
        ]
      },
      problems: []
    })
    // Every command carries a remote deadline so a wedged tool cannot hang the session.
    assert.ok(seen.every((argv) => argv[0] === "timeout"))
    assert.ok(seen.some((argv) => argv.join(" ") === "timeout 20 /opt/deploy-mcp/hardening/check-all.sh --check"))
  })

  test("missing tools and scripts are facts, not failures", async () => {
    const facts = await factsWith({ docker: notFound, runsc: notFound, check: notFound })
    assert.deepEqual(facts.docker, { clientVersion: null, serverVersion: null })
    assert.equal(facts.runsc.version, null)
    assert.equal(facts.hardening.status, "absent")
    assert.deepEqual(facts.problems, [
      "docker is not installed (docker CLI not found).",
      "gVisor (runsc) is not installed.",
      "the hardening scripts are not installed on the host; apply them first."
    ])
  })

  test("a stopped docker daemon keeps the client version and says why the server is missing", async () => {
    const facts = await factsWith({
      docker: {
        exitCode: 1,
        stdout: `{"Client":{"Version":"27.3.1"},"Server":null}\n`,
        stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"
      }
    })
    assert.deepEqual(facts.docker, { clientVersion: "27.3.1", serverVersion: null })
    assert.deepEqual(facts.problems, [
      "the docker daemon is not reachable: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
    ])
  })

  test("a hung docker (remote timeout, exit 124) is reported as such", async () => {
    const facts = await factsWith({ docker: { exitCode: 124 } })
    assert.equal(facts.docker.serverVersion, null)
    assert.match(facts.problems[0] ?? "", /did not answer within 20 s/)
  })

  test("garbled numbers become problems, not wrong facts", async () => {
    const facts = await factsWith({ cat: ok("MemTotal: lots\n"), df: ok("df: /: No such file\n") })
    assert.equal(facts.memory, null)
    assert.equal(facts.disk, null)
    assert.equal(facts.problems.length, 2)
  })

  test("hardening drift and check errors", async () => {
    const drifted = await factsWith({
      check: {
        exitCode: 1,
        stdout: "DRIFT 50-firewall: nftables table inet deploy_mcp_host is not loaded\nRESULT 50-firewall: drift\nRESULT 60-miner-detector: ok\nRESULT bogus line\n"
      }
    })
    assert.deepEqual(drifted.hardening, {
      status: "drifted",
      drift: ["50-firewall: nftables table inet deploy_mcp_host is not loaded"],
      results: [
        { script: "50-firewall", result: "drift" },
        { script: "60-miner-detector", result: "ok" }
      ]
    })

    const failed = await factsWith({ check: { exitCode: 2, stderr: "ERROR 40-ssh: required command '/usr/sbin/sshd' not found\n" } })
    assert.equal(failed.hardening.status, "failed")
    assert.deepEqual(failed.problems, ["the hardening check failed (exit 2): ERROR 40-ssh: required command '/usr/sbin/sshd' not found"])
  })

  test("the check script path is configurable", async () => {
    const seen: Array<ReadonlyArray<string>> = []
    await Effect.runPromise(
      gatherFacts(target).pipe(
        Effect.provide(fakeShell(healthy, seen)),
        Effect.provideService(HardeningCheckScript, "/srv/hardening/check-all.sh")
      )
    )
    assert.ok(seen.some((argv) => argv[2] === "/srv/hardening/check-all.sh"))
  })
})
