/**
 * From what the controller observed on a host to its status: facts and the conditions Reachable,
 * Hardened and Ready (the summary placement reads). Pure, so every message can be tested without
 * a host; messages say what is wrong and what to do about it.
 */
import type { HostFacts, HostSpec } from "../../schemas/index.ts"
import type { ConditionInput } from "../engine/conditions.ts"
import type { Facts } from "../../src/providers/ssh/index.ts"
import { describeResources, type Resources } from "./capacity.ts"
import type { CoolifyServerLookup } from "./coolify-servers.ts"

export type ApplyResult =
  | { readonly _tag: "NotRequested" }
  | { readonly _tag: "Applied"; readonly message: string }
  | { readonly _tag: "Failed"; readonly reason: "HardeningApplyFailed" | "HardeningApplyTimedOut"; readonly message: string }

export interface Observation {
  readonly hostName: string
  readonly spec: HostSpec
  readonly target: string
  readonly facts: Facts
  readonly profileKnown: boolean
  readonly checkScript: string
  readonly apply: ApplyResult
  readonly coolify: CoolifyServerLookup
  readonly previousCoolifyServerUuid: string | undefined
  readonly allocated: Resources
  readonly capacity: Resources
}

export const factsForStatus = (facts: Facts, gatheredAt: Date): HostFacts => ({
  dockerVersion: facts.docker.serverVersion,
  runscVersion: facts.runsc.version,
  ...(facts.memory !== null ? { memoryFreeBytes: facts.memory.availableBytes } : {}),
  ...(facts.disk !== null ? { diskFreeBytes: facts.disk.availableBytes } : {}),
  hardeningChecks: Object.fromEntries(facts.hardening.results.map((result) => [result.script, result.result === "ok"])),
  hostKeyFingerprint: facts.hostKeyFingerprint,
  gatheredAt: gatheredAt.toISOString()
})

const MAX_DRIFT_LINES = 8

const hardenedCondition = (observation: Observation): ConditionInput => {
  const { spec, facts, apply } = observation
  const condition = (status: ConditionInput["status"], reason: string, message: string): ConditionInput => ({ type: "Hardened", status, reason, message })
  const hardening = spec.hardening
  if (hardening === undefined) {
    return condition("Unknown", "HardeningNotRequested", "spec.hardening is not set, so hardening does not gate readiness. Set a profile (host add --hardening-profile default) to check it.")
  }
  if (!observation.profileKnown) {
    return condition("False", "UnknownHardeningProfile", `There is no hardening profile '${hardening.profile}'; the only profile is 'default'.`)
  }
  if (apply._tag === "Failed") return condition("False", apply.reason, apply.message)
  const applied = apply._tag === "Applied" ? `${apply.message} ` : ""
  const results = facts.hardening.results
  switch (facts.hardening.status) {
    case "passed":
      return condition("True", "HardeningChecksPassed", `${applied}All ${results.length} hardening checks pass (${results.map((r) => r.script).join(", ")}).`)
    case "absent":
      return condition(
        "False",
        "HardeningNotInstalled",
        `${applied}The hardening scripts are not installed on the host (${observation.checkScript} not found). Set spec.hardening.apply (host add --apply-hardening) to install and apply profile '${hardening.profile}'.`
      )
    case "drifted": {
      const drifted = results.filter((r) => r.result !== "ok").map((r) => r.script)
      const lines = facts.hardening.drift.slice(0, MAX_DRIFT_LINES)
      const more = facts.hardening.drift.length > lines.length ? ` (and ${facts.hardening.drift.length - lines.length} more)` : ""
      const fix = hardening.apply === true ? "" : " Set spec.hardening.apply to let the controller apply the profile, or run apply-all.sh on the host."
      return condition("False", "HardeningDrift", `${applied}${drifted.length} of ${results.length} hardening checks drifted (${drifted.join(", ")}): ${lines.join("; ")}${more}.${fix}`)
    }
    case "failed":
      return condition("False", "HardeningCheckFailed", `${applied}The hardening check could not run: ${facts.problems.filter((p) => p.includes("hardening")).join(" ") || "see the host's check-all.sh output"}`)
  }
}

/** The one thing keeping the host from taking apps, first blocker first; undefined when none. */
const readinessBlocker = (observation: Observation, hardened: ConditionInput): ConditionInput | undefined => {
  const notReady = (reason: string, message: string): ConditionInput => ({ type: "Ready", status: "False", reason, message })
  const { facts, coolify } = observation
  if (facts.docker.serverVersion === null) {
    const why = facts.problems.find((p) => p.includes("docker")) ?? "the docker daemon did not report a version."
    return notReady("DockerUnavailable", `Apps cannot run here: ${why}`)
  }
  if (observation.spec.hardening !== undefined && hardened.status !== "True") return notReady(hardened.reason, hardened.message)
  if (coolify._tag === "NotFound") {
    return notReady(
      "NotInCoolify",
      `Coolify has no server with address ${observation.spec.address}; add this host in Coolify (Servers → Add) with that IP. Coolify's servers: ${coolify.known.join(", ") || "none"}.`
    )
  }
  if (coolify._tag === "Unavailable" && observation.previousCoolifyServerUuid === undefined) {
    return notReady("CoolifyUnavailable", `Could not ask Coolify which server this host is: ${coolify.message}`)
  }
  return undefined
}

export interface HostStatusUpdate {
  readonly conditions: ReadonlyArray<ConditionInput>
  readonly facts: HostFacts
  readonly coolifyServerUuid: string | undefined
}

export const statusFromObservation = (observation: Observation, now: Date): HostStatusUpdate => {
  const { facts } = observation
  const reachable: ConditionInput = {
    type: "Reachable",
    status: "True",
    reason: "Connected",
    message: `Connected to ${observation.target} over SSH (host key ${facts.hostKeyFingerprint}).`
  }
  const hardened = hardenedCondition(observation)
  const blocker = readinessBlocker(observation, hardened)
  const ready: ConditionInput = blocker ?? {
    type: "Ready",
    status: "True",
    reason: "HostReady",
    // Only what changes rarely: every change of a condition's message is recorded as an event, and
    // free memory or allocation would add one per check (they are in status.facts and status.allocated).
    message: `Ready for apps: docker ${facts.docker.serverVersion}, ${facts.runsc.version !== null ? `gVisor ${facts.runsc.version}` : "no gVisor (apps run with runc)"}, capacity ${describeResources(observation.capacity)}.`
  }
  const coolifyServerUuid = observation.coolify._tag === "Found" ? observation.coolify.uuid : observation.coolify._tag === "Unavailable" ? observation.previousCoolifyServerUuid : undefined
  return { conditions: [reachable, hardened, ready], facts: factsForStatus(facts, now), coolifyServerUuid }
}
