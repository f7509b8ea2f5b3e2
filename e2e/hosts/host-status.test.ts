/** From observed facts to Host conditions: the messages an operator reads, case by case. */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { statusFromObservation, type Observation } from "../../controllers/host/host-status.ts"
import type { Facts } from "../../src/providers/ssh/index.ts"

const facts = (overrides: Partial<Facts> = {}): Facts => ({
  hostKeyFingerprint: "SHA256:abc",
  docker: { clientVersion: "27.3.1", serverVersion: "27.3.1" },
  runsc: { version: "release-20241028.0" },
  memory: { totalBytes: 8 * 1024 ** 3, availableBytes: 6 * 1024 ** 3 },
  disk: { path: "/", totalBytes: 100 * 1024 ** 3, availableBytes: 50 * 1024 ** 3 },
  hardening: { status: "passed", drift: [], results: [{ script: "10-egress-rules", result: "ok" }, { script: "40-ssh", result: "ok" }] },
  problems: [],
  ...overrides
})

const observation = (overrides: Partial<Observation> = {}): Observation => ({
  hostName: "s1",
  spec: { address: "203.0.113.7", port: 22, user: "root", role: "run", dnsSuffix: "s1.example.com", capacity: { cpu: "4", memory: "8G" }, hardening: { profile: "default" } },
  target: "root@203.0.113.7:22",
  facts: facts(),
  profileKnown: true,
  checkScript: "/opt/deploy-mcp/hardening/check-all.sh",
  apply: { _tag: "NotRequested" },
  coolify: { _tag: "Found", uuid: "srv-1", name: "s1" },
  previousCoolifyServerUuid: undefined,
  allocated: { cpuMillis: 1500, memoryBytes: 2 * 1024 ** 3 },
  capacity: { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3 },
  ...overrides
})

const NOW = new Date("2025-01-01T00:00:00Z")
const byType = (o: Observation) => Object.fromEntries(statusFromObservation(o, NOW).conditions.map((c) => [c.type, c]))

describe("statusFromObservation", () => {
  test("a healthy host is Ready and says what it offers", () => {
    const update = statusFromObservation(observation(), NOW)
    const conditions = byType(observation())
    assert.equal(conditions.Hardened?.reason, "HardeningChecksPassed")
    assert.equal(conditions.Ready?.message, "Ready for apps: docker 27.3.1, gVisor release-20241028.0, capacity cpu 4, memory 8G.")
    assert.equal(update.coolifyServerUuid, "srv-1")
    assert.deepEqual(update.facts, {
      dockerVersion: "27.3.1",
      runscVersion: "release-20241028.0",
      memoryFreeBytes: 6 * 1024 ** 3,
      diskFreeBytes: 50 * 1024 ** 3,
      hardeningChecks: { "10-egress-rules": true, "40-ssh": true },
      hostKeyFingerprint: "SHA256:abc",
      gatheredAt: NOW.toISOString()
    })
  })

  test("drift lists what drifted and how to fix it", () => {
    const drifted = facts({
      hardening: {
        status: "drifted",
        drift: ["40-ssh: effective sshd config allows password authentication"],
        results: [{ script: "10-egress-rules", result: "ok" }, { script: "40-ssh", result: "drift" }]
      }
    })
    const conditions = byType(observation({ facts: drifted }))
    assert.equal(conditions.Hardened?.status, "False")
    assert.equal(
      conditions.Hardened?.message,
      "1 of 2 hardening checks drifted (40-ssh): 40-ssh: effective sshd config allows password authentication. Set spec.hardening.apply to let the controller apply the profile, or run apply-all.sh on the host."
    )
    assert.deepEqual([conditions.Ready?.status, conditions.Ready?.reason], ["False", "HardeningDrift"])
  })

  test("docker down blocks readiness before anything else", () => {
    const down = facts({ docker: { clientVersion: "27.3.1", serverVersion: null }, problems: ["the docker daemon is not reachable: Cannot connect to the Docker daemon"] })
    const conditions = byType(observation({ facts: down }))
    assert.deepEqual([conditions.Ready?.reason, conditions.Ready?.message], ["DockerUnavailable", "Apps cannot run here: the docker daemon is not reachable: Cannot connect to the Docker daemon"])
  })

  test("hardening not requested does not gate readiness; an unknown profile does", () => {
    const spec = { ...observation().spec }
    delete (spec as { hardening?: unknown }).hardening
    const none = byType(observation({ spec, facts: facts({ hardening: { status: "absent", drift: [], results: [] } }) }))
    assert.deepEqual([none.Hardened?.status, none.Hardened?.reason, none.Ready?.status], ["Unknown", "HardeningNotRequested", "True"])
    const unknown = byType(observation({ profileKnown: false }))
    assert.deepEqual([unknown.Hardened?.reason, unknown.Ready?.reason], ["UnknownHardeningProfile", "UnknownHardeningProfile"])
  })

  test("Coolify: a host it does not know is not Ready; an outage keeps the last known server", () => {
    const missing = byType(observation({ coolify: { _tag: "NotFound", known: ["localhost (203.0.113.10)"] } }))
    assert.equal(missing.Ready?.reason, "NotInCoolify")
    assert.match(missing.Ready?.message ?? "", /no server with address 203\.0\.113\.7.*Coolify's servers: localhost \(203\.0\.113\.10\)/)

    const outage = observation({ coolify: { _tag: "Unavailable", message: "503" }, previousCoolifyServerUuid: "srv-1" })
    assert.equal(byType(outage).Ready?.status, "True")
    assert.equal(statusFromObservation(outage, NOW).coolifyServerUuid, "srv-1")
    assert.equal(byType({ ...outage, previousCoolifyServerUuid: undefined }).Ready?.reason, "CoolifyUnavailable")

    const unconfigured = observation({ coolify: { _tag: "NotConfigured" } })
    assert.equal(byType(unconfigured).Ready?.status, "True")
    assert.equal(statusFromObservation(unconfigured, NOW).coolifyServerUuid, undefined)
  })

  test("a failed apply is what Hardened reports", () => {
    const conditions = byType(observation({ apply: { _tag: "Failed", reason: "HardeningApplyFailed", message: "Applying hardening profile 'default' (apply-all.sh) failed on the host (exit 2): ERROR 40-ssh: needs a human" } }))
    assert.deepEqual([conditions.Hardened?.status, conditions.Hardened?.reason, conditions.Ready?.reason], ["False", "HardeningApplyFailed", "HardeningApplyFailed"])
  })
})
