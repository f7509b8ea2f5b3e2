/**
 * Placement across run Hosts (DESIGN.md §2 Host): which Host an App runs on.
 *
 * `decidePlacement` is the whole policy as a pure function; `hostPlacementLayer` implements the
 * Placement service with it: under one advisory lock it reads the Hosts and what every tenant's
 * apps already occupy, decides, and records the decision in the same transaction, so concurrent
 * placements never share out the same free capacity twice.
 *
 * Policy:
 * - no run Hosts at all → the single-server default (APP_DNS_SUFFIX, no gVisor): a one-server
 *   install keeps working; an app already on the default stays there (its URL is stable);
 * - spec.host → that Host or nothing (Unplaced HostNotFound / HostNotReady / NoCapacity);
 * - an app keeps its current Host while it is Ready, and through a grace period after it stops
 *   being Ready (a blip must not move every app off a host);
 * - otherwise the Ready run Host with room for the request and the least allocation afterwards
 *   (mean of the cpu and memory fractions), ties broken by name; NotReady or deleting Hosts get
 *   no new apps; nothing fits → Unplaced NoCapacity saying what was asked and what is free.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { HostRole } from "../../schemas/index.ts"
import { Database } from "../../src/db/database.ts"
import { ObjectStore, PLATFORM_OWNER, type StoredObject } from "../../src/store/objects.ts"
import { findCondition } from "../engine/conditions.ts"
import { ReconcileQueue } from "../engine/queue.ts"
import { Placement, type PlacementDecision } from "../placement/Placement.ts"
import { add, appRequest, describeResources, fits, hostCapacity, subtract, ZERO, type Resources } from "./capacity.ts"
import {
  DEFAULT_HOST,
  findPlacement,
  forgetPlacement,
  listAppPlacementsAcrossTenants,
  lockPlacements,
  recordPlacement
} from "./placements-store.ts"

/** How long an app stays on a host that stopped being Ready before it is placed elsewhere. */
export const DEFAULT_EVICTION_GRACE_MS = 10 * 60_000

/** What placement needs to know about a Host. */
export interface HostView {
  readonly name: string
  readonly role: HostRole
  readonly ready: boolean
  /** When Ready last became non-True (epoch ms); undefined when Ready or never reported. */
  readonly notReadySince?: number | undefined
  /** Why it is not Ready, for messages ("HostKeyChanged: ..."). */
  readonly notReadyReason?: string | undefined
  readonly deleting: boolean
  readonly dnsSuffix: string
  readonly capacity: Resources
  readonly coolifyServerUuid?: string | undefined
  readonly gvisor: boolean
}

export interface AppView {
  readonly name: string
  /** spec.host: the operator's or agent's explicit choice. */
  readonly requestedHost?: string | undefined
  /** Where the app is now (recorded decision, else status.host). */
  readonly currentHost?: string | undefined
  readonly request: Resources
}

export interface PlacementInput {
  readonly app: AppView
  readonly hosts: ReadonlyArray<HostView>
  /** Requests summed per host over the OTHER apps placed there. */
  readonly allocated: ReadonlyMap<string, Resources>
  readonly fallbackDnsSuffix: string
  readonly now: number
  readonly evictionGraceMs: number
}

export const hostView = (host: StoredObject<"Host">): HostView => {
  const ready = findCondition(host.status.conditions, "Ready")
  const deleting = host.metadata.deletionTimestamp !== undefined
  const isReady = ready?.status === "True" && !deleting
  return {
    name: host.metadata.name,
    role: host.spec.role,
    ready: isReady,
    notReadySince: ready !== undefined && ready.status !== "True" ? Date.parse(ready.lastTransitionTime) : undefined,
    notReadyReason: deleting ? "Deleting: the host is being removed" : ready === undefined ? "NotChecked: the host has not been checked yet" : `${ready.reason}: ${ready.message}`,
    deleting,
    dnsSuffix: host.spec.dnsSuffix,
    capacity: hostCapacity(host.spec.capacity),
    coolifyServerUuid: host.status.coolifyServerUuid,
    // --runtime=runsc needs runsc installed AND registered with docker (the 20-gvisor check);
    // claiming gVisor on a host where docker does not know the runtime would break every deploy.
    gvisor: typeof host.status.facts?.runscVersion === "string" && host.status.facts?.hardeningChecks?.["20-gvisor"] === true
  }
}

const placedOn = (host: HostView): PlacementDecision => ({
  _tag: "Placed",
  host: host.name,
  dnsSuffix: host.dnsSuffix,
  ...(host.coolifyServerUuid !== undefined ? { coolifyServerUuid: host.coolifyServerUuid } : {}),
  gvisor: host.gvisor
})

const unplaced = (reason: string, message: string): PlacementDecision => ({ _tag: "Unplaced", reason, message })

const freeOn = (host: HostView, allocated: ReadonlyMap<string, Resources>): Resources => subtract(host.capacity, allocated.get(host.name) ?? ZERO)

/** Mean of the cpu and memory fractions a host would have in use with the app added. */
const allocationAfter = (host: HostView, request: Resources, allocated: ReadonlyMap<string, Resources>): number => {
  const used = add(allocated.get(host.name) ?? ZERO, request)
  return (used.cpuMillis / host.capacity.cpuMillis + used.memoryBytes / host.capacity.memoryBytes) / 2
}

const MAX_HOSTS_IN_MESSAGE = 5

const describeFree = (hosts: ReadonlyArray<HostView>, allocated: ReadonlyMap<string, Resources>): string => {
  const listed = hosts
    .map((host) => ({ host, free: freeOn(host, allocated) }))
    .sort((a, b) => b.free.memoryBytes - a.free.memoryBytes || b.free.cpuMillis - a.free.cpuMillis || a.host.name.localeCompare(b.host.name))
  const shown = listed.slice(0, MAX_HOSTS_IN_MESSAGE).map(({ host, free }) => `${host.name} has ${describeResources(clampAtZero(free))} free of ${describeResources(host.capacity)}`)
  const more = listed.length > MAX_HOSTS_IN_MESSAGE ? `; and ${listed.length - MAX_HOSTS_IN_MESSAGE} more` : ""
  return `${shown.join("; ")}${more}`
}

const clampAtZero = (resources: Resources): Resources => ({
  cpuMillis: Math.max(0, resources.cpuMillis),
  memoryBytes: Math.max(0, resources.memoryBytes)
})

export const decidePlacement = (input: PlacementInput): PlacementDecision => {
  const { app, allocated, now } = input
  const runHosts = input.hosts.filter((host) => host.role === "run")
  const usable = (host: HostView) => host.ready && !host.deleting
  const inGrace = (host: HostView) =>
    !host.deleting && !host.ready && host.notReadySince !== undefined && now - host.notReadySince < input.evictionGraceMs
  const keeps = (host: HostView) => app.currentHost === host.name && (usable(host) || inGrace(host))
  const fallback: PlacementDecision = { _tag: "Placed", host: DEFAULT_HOST, dnsSuffix: input.fallbackDnsSuffix, gvisor: false }
  const requestText = describeResources(app.request)

  if (app.requestedHost !== undefined) {
    const host = runHosts.find((candidate) => candidate.name === app.requestedHost)
    if (host === undefined) {
      const other = input.hosts.find((candidate) => candidate.name === app.requestedHost)
      return unplaced(
        "HostNotFound",
        other !== undefined
          ? `Host '${app.requestedHost}' is a ${other.role} host; apps run only on run hosts. Call update_app with host: null, or name a run host.`
          : `There is no run host named '${app.requestedHost}'${runHosts.length > 0 ? ` (run hosts: ${runHosts.map((h) => h.name).join(", ")})` : ""}. Call update_app with host: null to let placement choose, or ask the operator to add the host.`
      )
    }
    if (keeps(host)) return placedOn(host)
    if (!usable(host)) return unplaced("HostNotReady", `Host '${host.name}' is not Ready (${host.notReadyReason ?? "unknown"}); the app waits for it because its host argument names it.`)
    const free = freeOn(host, allocated)
    if (fits(app.request, free)) return placedOn(host)
    return unplaced(
      "NoCapacity",
      `Host '${host.name}' (named in the app's host) has no room: the app requests ${requestText}; ${describeFree([host], allocated)}. Lower memory or cpu with update_app, set host: null, or ask the operator for capacity.`
    )
  }

  if (app.currentHost === DEFAULT_HOST) return fallback
  if (runHosts.length === 0) return fallback

  const current = runHosts.find((host) => host.name === app.currentHost)
  if (current !== undefined && keeps(current)) return placedOn(current)

  const ready = runHosts.filter(usable)
  if (ready.length === 0) {
    const why = runHosts
      .slice(0, MAX_HOSTS_IN_MESSAGE)
      .map((host) => `${host.name} (${host.notReadyReason ?? "not Ready"})`)
      .join("; ")
    return unplaced("NoReadyHosts", `No run host is Ready, so the app cannot be placed yet: ${why}.`)
  }
  const candidates = ready
    .filter((host) => fits(app.request, freeOn(host, allocated)))
    .map((host) => ({ host, score: allocationAfter(host, app.request, allocated) }))
    .sort((a, b) => a.score - b.score || (a.host.name < b.host.name ? -1 : a.host.name > b.host.name ? 1 : 0))
  const chosen = candidates[0]
  if (chosen !== undefined) return placedOn(chosen.host)
  return unplaced(
    "NoCapacity",
    `No Ready run host has room for the app: it requests ${requestText}; ${describeFree(ready, allocated)}. Lower memory or cpu with update_app, delete apps, or ask the operator to add a host.`
  )
}

export interface HostPlacementOptions {
  /** The single-server default's suffix (APP_DNS_SUFFIX), used while there are no run Hosts. */
  readonly fallbackDnsSuffix: string
  readonly evictionGraceMs?: number
  readonly now?: () => number
}

/** Every Host (they all belong to the platform), page by page. */
export const listHosts = Effect.gen(function*() {
  const store = yield* ObjectStore
  const hosts: Array<StoredObject<"Host">> = []
  let after: string | undefined
  do {
    const page = yield* store.list(PLATFORM_OWNER, { kind: "Host", limit: 1000, ...(after !== undefined ? { after } : {}) })
    hosts.push(...page.items)
    after = page.next
  } while (after !== undefined)
  return hosts
})

/** Sums requests per host, leaving out one app (the one being placed). */
export const allocationsByHost = (placed: ReadonlyArray<{ readonly uid: string; readonly host: string; readonly request: Resources }>, except?: string) => {
  const totals = new Map<string, Resources>()
  for (const app of placed) {
    if (app.uid === except) continue
    totals.set(app.host, add(totals.get(app.host) ?? ZERO, app.request))
  }
  return totals
}

/**
 * The Placement service over Host objects. Needs the platform's Database, ObjectStore and
 * ReconcileQueue (a Host is enqueued when an app moves onto or off it, so its status.allocated
 * follows promptly). Placement has no error channel: a database failure is a defect, which the
 * engine retries with backoff like any failed reconcile.
 */
export const hostPlacementLayer = (options: HostPlacementOptions) =>
  Layer.effect(
    Placement,
    Effect.gen(function*() {
      const db = yield* Database
      // Only these services: the caller's own context (its transaction, its span) must stay in force.
      const services = Context.make(Database, db).pipe(Context.add(ObjectStore, yield* ObjectStore), Context.add(ReconcileQueue, yield* ReconcileQueue))
      const evictionGraceMs = options.evictionGraceMs ?? DEFAULT_EVICTION_GRACE_MS
      const now = options.now ?? Date.now

      const enqueueHost = (hosts: ReadonlyArray<StoredObject<"Host">>, name: string | null | undefined) => {
        const host = hosts.find((candidate) => candidate.metadata.name === name)
        return host === undefined
          ? Effect.void
          : ReconcileQueue.use((queue) => queue.enqueue("Host", { owner: PLATFORM_OWNER, uid: host.metadata.uid }))
      }

      const place = (app: StoredObject<"App">) =>
        db.transaction(
          Effect.gen(function*() {
            yield* lockPlacements
            const hosts = yield* listHosts
            const placed = yield* listAppPlacementsAcrossTenants()
            const recorded = yield* findPlacement(app.metadata.uid)
            const currentHost = Option.isSome(recorded) ? (recorded.value ?? undefined) : app.status.host
            const decision = decidePlacement({
              app: { name: app.metadata.name, requestedHost: app.spec.host, currentHost, request: appRequest(app.spec.resources) },
              hosts: hosts.map(hostView),
              allocated: allocationsByHost(placed, app.metadata.uid),
              fallbackDnsSuffix: options.fallbackDnsSuffix,
              now: now(),
              evictionGraceMs
            })
            const next = decision._tag === "Placed" ? decision.host : null
            if (next === DEFAULT_HOST) {
              if (Option.isSome(recorded)) yield* forgetPlacement(app.metadata.uid)
            } else if (Option.isNone(recorded) || recorded.value !== next) {
              yield* recordPlacement(app.metadata.uid, next)
            }
            if (Option.getOrUndefined(recorded) !== next) {
              yield* enqueueHost(hosts, currentHost)
              yield* enqueueHost(hosts, next)
            }
            return decision
          })
        ).pipe(Effect.orDie, Effect.provideContext(services))

      return Placement.of({ place })
    })
  )
