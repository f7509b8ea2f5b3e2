/**
 * The Host controller (DESIGN.md §2 Host, §5 Hosts over SSH): connect with the platform's key and
 * the pinned host key, gather facts, optionally apply the hardening profile, find the host's
 * Coolify server, count what apps occupy it, and report Reachable / Hardened / Ready.
 *
 * - Host key pinning: the first key seen is pinned (annotation deploy.mcp/host-key). Any other
 *   key stops everything: nothing is run, Reachable=False HostKeyChanged (a Warning event), the
 *   presented key is recorded, and only `host trust-key NAME --fingerprint …` moves the pin.
 * - Unreachable, authentication refused or a command that hangs: the condition is written first,
 *   then a typed error makes the engine retry with exponential backoff.
 * - Otherwise it looks again after `recheckInterval` (RequeueAfter).
 */
import { Duration, Effect, type Redacted, Result } from "effect"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import {
  CommandTimeout,
  gatherFacts,
  HardeningCheckScript,
  type Facts,
  type HostShellError,
  type HostTarget
} from "../../src/providers/ssh/index.ts"
import type { Controller } from "../engine/controller.ts"
import { writeStatus, type ConditionInput } from "../engine/conditions.ts"
import { RequeueAfter } from "../engine/result.ts"
import { HostAnnotations } from "./annotations.ts"
import { add, hostCapacity, ZERO } from "./capacity.ts"
import { CoolifyServerDirectory } from "./coolify-servers.ts"
import { HostCheckFailed } from "./errors.ts"
import { applyHardening, DEFAULT_HARDENING_PROFILES } from "./hardening.ts"
import { statusFromObservation, type ApplyResult } from "./host-status.ts"
import { listAppPlacementsAcrossTenants } from "./placements-store.ts"

export interface HostControllerSettings {
  /** The platform's SSH private key (SSH_PRIVATE_KEY). Without it hosts are reported, not contacted. */
  readonly privateKey: Redacted.Redacted<string> | undefined
  /** How often a healthy host is checked again. Default 2 minutes. */
  readonly recheckInterval?: Duration.Input
  /** Deadline for gathering facts as a whole (each remote command also has its own). Default 90 s. */
  readonly factsTimeoutMs?: number
  /** Deadline for apply-all.sh; it is killed on the host after this. Default 15 minutes. */
  readonly applyTimeoutMs?: number
  /** Profile name → local directory copied to the host. Default: "default" → infra/hetzner/hardening/. */
  readonly hardeningProfiles?: Readonly<Record<string, string>>
}

const describeTarget = (target: HostTarget) => `${target.user}@${target.address}:${target.port}`

/** Conditions for a host we could not talk to; Hardened keeps its last observed value. */
const unreachableConditions = (reason: string, message: string): ReadonlyArray<ConditionInput> => [
  { type: "Reachable", status: "False", reason, message },
  { type: "Ready", status: "False", reason, message: `The host gets no new apps: ${message}` }
]

const failureReason = (error: HostShellError): string => {
  switch (error._tag) {
    case "HostUnreachable":
      return "Unreachable"
    case "HostAuthFailed":
      return "AuthenticationFailed"
    case "HostKeyMismatch":
      return "HostKeyChanged"
    case "CommandTimeout":
      return "CommandTimedOut"
  }
}

export const makeHostController = (settings: HostControllerSettings) => {
  const recheck = RequeueAfter(settings.recheckInterval ?? Duration.minutes(2))
  const factsTimeoutMs = settings.factsTimeoutMs ?? 90_000
  const applyTimeoutMs = settings.applyTimeoutMs ?? 15 * 60_000
  const profiles = settings.hardeningProfiles ?? DEFAULT_HARDENING_PROFILES

  const gather = (target: HostTarget) =>
    gatherFacts(target).pipe(
      Effect.timeoutOrElse({
        duration: Duration.millis(factsTimeoutMs),
        orElse: () =>
          Effect.fail(
            new CommandTimeout({
              address: target.address,
              port: target.port,
              command: "gather facts",
              timeoutMs: factsTimeoutMs,
              message: `Gathering facts on ${describeTarget(target)} did not finish within ${factsTimeoutMs} ms; the connection was closed. A command on the host hangs (often a wedged docker daemon).`
            })
          )
      })
    )

  /** Record the pin on first contact, or the different key a host now presents. */
  const recordHostKey = (host: StoredObject<"Host">, annotations: Record<string, string | null>) =>
    Effect.gen(function*() {
      const changed = Object.entries(annotations).some(([key, value]) => (host.metadata.annotations[key] ?? null) !== value)
      if (!changed) return host
      const store = yield* ObjectStore
      return (yield* store.updateMetadata(host.metadata.owner, host.metadata.uid, host.metadata.resourceVersion, { annotations })) as StoredObject<"Host">
    })

  const failWith = (host: StoredObject<"Host">, error: HostShellError, reason: string) =>
    new HostCheckFailed({ host: host.metadata.name, reason, message: error.message })

  const reconcile = Effect.fn("HostController.reconcile")(function*(host: StoredObject<"Host">) {
    if (settings.privateKey === undefined) {
      yield* writeStatus(host, (status) => status, {
        conditions: [
          { type: "Reachable", status: "Unknown", reason: "SshKeyNotConfigured", message: "SSH_PRIVATE_KEY is not set, so the platform cannot log in to hosts. Set it to the private key whose public half is in the host's authorized_keys." },
          { type: "Ready", status: "False", reason: "SshKeyNotConfigured", message: "The host cannot be checked until SSH_PRIVATE_KEY is set." }
        ]
      })
      return recheck
    }
    const pinned = host.metadata.annotations[HostAnnotations.hostKey]
    const target: HostTarget = {
      address: host.spec.address,
      port: host.spec.port,
      user: host.spec.user,
      privateKey: settings.privateKey,
      expectedHostKey: pinned
    }
    const where = describeTarget(target)

    let observed = yield* Effect.result(gather(target))
    const hardening = host.spec.hardening
    const profileDir = hardening !== undefined && Object.hasOwn(profiles, hardening.profile) ? profiles[hardening.profile] : undefined
    let apply: ApplyResult = { _tag: "NotRequested" }
    if (Result.isSuccess(observed) && hardening?.apply === true && profileDir !== undefined && observed.success.hardening.status !== "passed") {
      const outcome = yield* Effect.result(applyHardening(target, hardening.profile, profileDir, applyTimeoutMs))
      if (Result.isSuccess(outcome)) {
        apply = outcome.success.ok
          ? { _tag: "Applied", message: outcome.success.message }
          : { _tag: "Failed", reason: "HardeningApplyFailed", message: outcome.success.message }
      } else if (outcome.failure._tag === "CommandTimeout") {
        // Without the process group id, so the same hang repeated is one event with a count.
        apply = { _tag: "Failed", reason: "HardeningApplyTimedOut", message: outcome.failure.message.replace(/ \(process group \d+\)/, "") }
      } else if (outcome.failure._tag === "HardeningPackFailed") {
        apply = { _tag: "Failed", reason: "HardeningApplyFailed", message: outcome.failure.message }
      } else {
        observed = Result.fail(outcome.failure)
      }
      // Check again: what the host looks like after the apply is what the conditions report.
      if (Result.isSuccess(observed)) observed = yield* Effect.result(gather(target))
    }

    if (Result.isFailure(observed)) {
      const error = observed.failure
      const reason = failureReason(error)
      if (error._tag === "HostKeyMismatch") {
        const updated = yield* recordHostKey(host, { [HostAnnotations.presentedHostKey]: error.actual })
        const message = `The SSH host key of ${where} changed: pinned ${error.expected}, presented ${error.actual}. Nothing was run on it. If the host was reinstalled, confirm the new key on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and accept it with: deploy-mcp host trust-key ${host.metadata.name} --fingerprint ${error.actual}. Otherwise treat it as a possible man-in-the-middle.`
        yield* writeStatus(updated, (status) => status, { conditions: unreachableConditions(reason, message) })
        // Retrying sooner cannot help; the operator's trust-key enqueues the host at once.
        return recheck
      }
      yield* writeStatus(host, (status) => status, { conditions: unreachableConditions(reason, error.message) })
      return yield* Effect.fail(failWith(host, error, reason))
    }

    const facts: Facts = observed.success
    let current = host
    if (pinned === undefined || current.metadata.annotations[HostAnnotations.presentedHostKey] !== undefined) {
      current = yield* recordHostKey(current, { [HostAnnotations.hostKey]: facts.hostKeyFingerprint, [HostAnnotations.presentedHostKey]: null })
    }

    const directory = yield* CoolifyServerDirectory
    const coolify = yield* directory.find(host.spec.address)
    const placed = yield* listAppPlacementsAcrossTenants({ host: host.metadata.name })
    const allocated = placed.reduce((sum, app) => add(sum, app.request), ZERO)
    const checkScript = yield* HardeningCheckScript
    const update = statusFromObservation(
      {
        hostName: host.metadata.name,
        spec: host.spec,
        target: where,
        facts,
        profileKnown: hardening === undefined || profileDir !== undefined,
        checkScript,
        apply,
        coolify,
        previousCoolifyServerUuid: host.status.coolifyServerUuid,
        allocated,
        capacity: hostCapacity(host.spec.capacity)
      },
      new Date()
    )
    yield* writeStatus(
      current,
      (status) => {
        const { coolifyServerUuid: _previous, ...rest } = status
        return {
          ...rest,
          facts: update.facts,
          allocated: { cpu: allocated.cpuMillis / 1000, memoryBytes: allocated.memoryBytes },
          ...(update.coolifyServerUuid !== undefined ? { coolifyServerUuid: update.coolifyServerUuid } : {})
        }
      },
      { conditions: update.conditions }
    )
    return recheck
  })

  return { kind: "Host", reconcile } satisfies Controller<"Host", Effect.Error<ReturnType<typeof reconcile>>, Effect.Services<ReturnType<typeof reconcile>>>
}
