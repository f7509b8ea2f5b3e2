/**
 * The placement policy as a pure function: capacity, spread, explicit hosts, NotReady hosts and
 * the single-server fallback. The database-backed layer is tested in placement-layer.test.ts.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import fc from "fast-check"
import { add, fits, parseCpuMillis, parseMemoryBytes, subtract, ZERO, type Resources } from "../../controllers/host/capacity.ts"
import { decidePlacement, type AppView, type HostView, type PlacementInput } from "../../controllers/host/placement.ts"
import type { PlacementDecision } from "../../controllers/placement/Placement.ts"

const NOW = Date.parse("2025-01-01T12:00:00Z")
const GRACE = 10 * 60_000

const host = (name: string, cpu: string, memory: string, extra: Partial<HostView> = {}): HostView => ({
  name,
  role: "run",
  ready: true,
  deleting: false,
  dnsSuffix: `${name}.example.com`,
  capacity: { cpuMillis: parseCpuMillis(cpu), memoryBytes: parseMemoryBytes(memory) },
  gvisor: true,
  ...extra
})

const app = (name: string, cpu: string, memory: string, extra: Partial<AppView> = {}): AppView => ({
  name,
  request: { cpuMillis: parseCpuMillis(cpu), memoryBytes: parseMemoryBytes(memory) },
  ...extra
})

const input = (appView: AppView, hosts: ReadonlyArray<HostView>, allocated: ReadonlyMap<string, Resources> = new Map()): PlacementInput => ({
  app: appView,
  hosts,
  allocated,
  fallbackDnsSuffix: "apps.example.com",
  now: NOW,
  evictionGraceMs: GRACE
})

/** Places apps one after another, as the layer does under its lock, and returns the decisions and totals. */
const placeAll = (apps: ReadonlyArray<AppView>, hosts: ReadonlyArray<HostView>) => {
  const allocated = new Map<string, Resources>()
  const decisions: Array<{ app: AppView; decision: PlacementDecision; freeBefore: Map<string, Resources> }> = []
  for (const appView of apps) {
    const freeBefore = new Map(hosts.map((h) => [h.name, subtract(h.capacity, allocated.get(h.name) ?? ZERO)]))
    const decision = decidePlacement(input(appView, hosts, allocated))
    decisions.push({ app: appView, decision, freeBefore })
    if (decision._tag === "Placed") allocated.set(decision.host, add(allocated.get(decision.host) ?? ZERO, appView.request))
  }
  return { decisions, allocated }
}

const placedHost = (decision: PlacementDecision) => (decision._tag === "Placed" ? decision.host : `unplaced:${decision.reason}`)

describe("decidePlacement", () => {
  test("100 apps on 3 hosts: capacity is never exceeded, and an app is unplaced only when no host has room", () => {
    const hosts = [host("s1", "4", "8G"), host("s2", "4", "8G"), host("s3", "8", "16G")]
    // A deterministic mix of small and large apps that asks for more than the cluster has.
    const sizes: Array<[string, string]> = [["0.25", "256M"], ["0.5", "512M"], ["1", "1G"], ["0.1", "128M"], ["2", "2G"]]
    const apps = Array.from({ length: 100 }, (_, i) => {
      const [cpu, memory] = sizes[(i * 7) % sizes.length] as [string, string]
      return app(`app-${String(i).padStart(3, "0")}`, cpu, memory)
    })
    const { decisions, allocated } = placeAll(apps, hosts)

    for (const h of hosts) {
      const used = allocated.get(h.name) ?? ZERO
      assert.ok(used.cpuMillis <= h.capacity.cpuMillis, `${h.name} cpu ${used.cpuMillis} > ${h.capacity.cpuMillis}`)
      assert.ok(used.memoryBytes <= h.capacity.memoryBytes, `${h.name} memory over capacity`)
    }
    const unplaced = decisions.filter((d) => d.decision._tag === "Unplaced")
    assert.ok(unplaced.length > 0, "the mix asks for more than 16 CPUs, so some apps must stay unplaced")
    for (const { app: a, decision, freeBefore } of unplaced) {
      assert.equal(decision._tag === "Unplaced" && decision.reason, "NoCapacity")
      for (const [name, free] of freeBefore) assert.ok(!fits(a.request, free), `${a.name} was unplaced although ${name} had room`)
    }
    // Every host got apps: the spread uses the whole cluster.
    for (const h of hosts) assert.ok((allocated.get(h.name)?.cpuMillis ?? 0) > 0, `${h.name} got no apps`)
    // The same input gives the same answer.
    assert.deepEqual(placeAll(apps, hosts).decisions.map((d) => placedHost(d.decision)), decisions.map((d) => placedHost(d.decision)))
  })

  test("identical hosts are filled round-robin by least allocation, ties broken by name", () => {
    const hosts = [host("s3", "4", "8G"), host("s1", "4", "8G"), host("s2", "4", "8G")]
    const apps = Array.from({ length: 7 }, (_, i) => app(`a${i}`, "0.5", "512M"))
    assert.deepEqual(placeAll(apps, hosts).decisions.map((d) => placedHost(d.decision)), ["s1", "s2", "s3", "s1", "s2", "s3", "s1"])
  })

  test("least allocation counts both cpu and memory, relative to each host's size", () => {
    const hosts = [host("big", "8", "16G"), host("small", "2", "4G")]
    // big at 50% cpu / 50% memory; small empty: small is less allocated.
    const allocated = new Map([["big", { cpuMillis: 4000, memoryBytes: parseMemoryBytes("8G") }]])
    assert.equal(placedHost(decidePlacement(input(app("x", "0.5", "512M"), hosts, allocated))), "small")
    // big nearly empty: big wins, although small is empty too (the app is a larger share of small).
    assert.equal(placedHost(decidePlacement(input(app("x", "1", "1G"), hosts, new Map()))), "big")
  })

  test("a full cluster gives NoCapacity with what was requested and what is free", () => {
    const hosts = [host("s1", "2", "2G"), host("s2", "1", "1G")]
    const allocated = new Map([
      ["s1", { cpuMillis: 1750, memoryBytes: parseMemoryBytes("1G") }],
      ["s2", { cpuMillis: 500, memoryBytes: parseMemoryBytes("768M") }]
    ])
    const decision = decidePlacement(input(app("big", "1", "1G"), hosts, allocated))
    assert.equal(decision._tag, "Unplaced")
    assert.ok(decision._tag === "Unplaced")
    assert.equal(decision.reason, "NoCapacity")
    assert.match(decision.message, /requests cpu 1, memory 1G/)
    assert.match(decision.message, /s1 has cpu 0\.25, memory 1G free of cpu 2, memory 2G/)
    assert.match(decision.message, /s2 has cpu 0\.5, memory 256M free of cpu 1, memory 1G/)
  })

  test("a NotReady host gets no new apps; apps on it stay through the grace period, then move", () => {
    const blip = NOW - 60_000
    const hosts = [host("s1", "4", "8G", { ready: false, notReadySince: blip, notReadyReason: "Unreachable: connection refused" }), host("s2", "4", "8G")]
    const many = Array.from({ length: 5 }, (_, i) => app(`new-${i}`, "0.25", "256M"))
    assert.deepEqual(new Set(placeAll(many, hosts).decisions.map((d) => placedHost(d.decision))), new Set(["s2"]))

    const onS1 = app("old", "0.25", "256M", { currentHost: "s1" })
    assert.equal(placedHost(decidePlacement(input(onS1, hosts))), "s1", "a blip does not move apps")
    const longDown = hosts.map((h) => (h.name === "s1" ? { ...h, notReadySince: NOW - GRACE - 1 } : h))
    assert.equal(placedHost(decidePlacement(input(onS1, longDown))), "s2", "after the grace period the app moves")

    const noneReady = hosts.map((h) => ({ ...h, ready: false, notReadySince: NOW, notReadyReason: "HostKeyChanged: pinned A, presented B" }))
    const decision = decidePlacement(input(app("late", "0.25", "256M"), noneReady))
    assert.ok(decision._tag === "Unplaced")
    assert.equal(decision.reason, "NoReadyHosts")
    assert.match(decision.message, /s1 \(HostKeyChanged: pinned A, presented B\)/)
  })

  test("an app keeps its Ready host even when newer apps filled it past what it would get today", () => {
    const hosts = [host("s1", "1", "1G"), host("s2", "4", "8G")]
    const allocated = new Map([["s1", { cpuMillis: 1000, memoryBytes: parseMemoryBytes("1G") }]])
    assert.equal(placedHost(decidePlacement(input(app("a", "0.5", "512M", { currentHost: "s1" }), hosts, allocated))), "s1")
  })

  test("spec.host is obeyed or explained", () => {
    const hosts = [host("s1", "1", "1G"), host("s2", "4", "8G", { ready: false, notReadySince: NOW, notReadyReason: "DockerUnavailable: docker is down" }), host("b1", "8", "8G", { role: "build" })]
    assert.equal(placedHost(decidePlacement(input(app("a", "0.5", "512M", { requestedHost: "s1" }), hosts))), "s1")

    const missing = decidePlacement(input(app("a", "0.5", "512M", { requestedHost: "nope" }), hosts))
    assert.ok(missing._tag === "Unplaced" && missing.reason === "HostNotFound")
    assert.match(missing.message, /no run host named 'nope' \(run hosts: s1, s2\)/)

    const build = decidePlacement(input(app("a", "0.5", "512M", { requestedHost: "b1" }), hosts))
    assert.ok(build._tag === "Unplaced" && build.reason === "HostNotFound")
    assert.match(build.message, /is a build host/)

    const notReady = decidePlacement(input(app("a", "0.5", "512M", { requestedHost: "s2" }), hosts))
    assert.ok(notReady._tag === "Unplaced" && notReady.reason === "HostNotReady")
    assert.match(notReady.message, /DockerUnavailable: docker is down/)

    const full = decidePlacement(input(app("a", "2", "512M", { requestedHost: "s1" }), hosts))
    assert.ok(full._tag === "Unplaced" && full.reason === "NoCapacity")
    assert.match(full.message, /Host 's1' \(named in the app's host\) has no room: the app requests cpu 2, memory 512M/)
    // Agents read these on their app: they name update_app's arguments, not spec fields.
    for (const decision of [missing, build, notReady, full]) assert.ok(decision._tag === "Unplaced" && !decision.message.includes("spec."), JSON.stringify(decision))
    assert.match(full.message, /Lower memory or cpu with update_app, set host: null/)
  })

  test("the decision carries the host's DNS suffix, Coolify server and gVisor", () => {
    const decision = decidePlacement(input(app("a", "0.5", "512M"), [host("s1", "4", "8G", { coolifyServerUuid: "srv-1", gvisor: true })]))
    assert.deepEqual(decision, { _tag: "Placed", host: "s1", dnsSuffix: "s1.example.com", coolifyServerUuid: "srv-1", gvisor: true })
  })

  test("without run hosts apps use the single-server default; apps already there stay", () => {
    const fallback = { _tag: "Placed", host: "default", dnsSuffix: "apps.example.com", gvisor: false }
    assert.deepEqual(decidePlacement(input(app("a", "0.5", "512M"), [])), fallback)
    assert.deepEqual(decidePlacement(input(app("a", "0.5", "512M"), [host("b1", "8", "8G", { role: "build" })])), fallback)
    assert.deepEqual(decidePlacement(input(app("a", "0.5", "512M", { currentHost: "default" }), [host("s1", "4", "8G")])), fallback)
    assert.equal(placedHost(decidePlacement(input(app("b", "0.5", "512M"), [host("s1", "4", "8G")]))), "s1")
  })

  test("property: any hosts and any sequence of apps never over-commit a host", () => {
    const resources = fc.record({ cpuMillis: fc.integer({ min: 1, max: 4000 }), memoryBytes: fc.integer({ min: 1, max: 8 * 1024 }).map((mib) => mib * 1024 * 1024) })
    fc.assert(
      fc.property(
        fc.array(fc.record({ capacity: resources, ready: fc.boolean() }), { minLength: 1, maxLength: 5 }),
        fc.array(resources, { maxLength: 60 }),
        (hostSpecs, requests) => {
          const hosts = hostSpecs.map((spec, i) => host(`h${i}`, "1", "1G", { capacity: spec.capacity, ready: spec.ready, notReadySince: spec.ready ? undefined : NOW - GRACE - 1 }))
          const { decisions, allocated } = placeAll(requests.map((request, i) => ({ name: `a${i}`, request })), hosts)
          for (const h of hosts) {
            const used = allocated.get(h.name) ?? ZERO
            if (used.cpuMillis > h.capacity.cpuMillis || used.memoryBytes > h.capacity.memoryBytes) return false
            if (!h.ready && used.cpuMillis > 0) return false
          }
          return decisions.every((d) => d.decision._tag === "Placed" || d.decision.reason === "NoCapacity" || d.decision.reason === "NoReadyHosts")
        }
      ),
      { numRuns: 300 }
    )
  })
})
