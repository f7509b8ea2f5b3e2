/**
 * The Host controller against a real OpenSSH server on loopback (e2e/fixtures/sshd), real
 * PostgreSQL and the Coolify fake: connect, pin the host key, gather facts, apply a hardening
 * profile, report conditions; a changed host key, an unreachable host and hanging commands.
 *
 * The sshd runs on this machine, so the "host" is this machine: docker and runsc are stand-ins on
 * the session's PATH (authorized_keys environment=), and hardening profiles are small test
 * scripts installed into a temp dir — the real infra/hetzner/hardening/ scripts would change this
 * machine's firewall (they are tested in src/providers/ssh/hardening-scripts.test.ts).
 */
import assert from "node:assert/strict"
import { readdirSync, readFileSync } from "node:fs"
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, beforeEach, describe, test } from "node:test"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import pg from "pg"
import { findCondition } from "../../controllers/engine/conditions.ts"
import { engineLayers, newKey } from "../support/engine.ts"
import type { EngineMetrics } from "../../controllers/engine/metrics.ts"
import { queueName, ReconcileQueue } from "../../controllers/engine/queue.ts"
import { HostAnnotations } from "../../controllers/host/annotations.ts"
import { makeHostController, type HostControllerSettings } from "../../controllers/host/controller.ts"
import { CoolifyServerDirectory } from "../../controllers/host/coolify-servers.ts"
import { decidePlacement, hostPlacementLayer, hostView } from "../../controllers/host/placement.ts"
import { Placement } from "../../controllers/placement/Placement.ts"
import type { HostSpec } from "../../schemas/index.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import { HardeningCheckScript, HostShell } from "../../src/providers/ssh/index.ts"
import { EventStore } from "../../src/store/events.ts"
import { ObjectStore, PLATFORM_OWNER, type StoredObject } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { addHost, trustHostKey } from "../../src/cli/commands/host.ts"
import { startCoolifyFake, type CoolifyFake } from "../fakes/coolify/index.ts"
import { startSshd, type SshdFixture } from "../fixtures/sshd/sshd.ts"
import { storeLayer } from "../support/layers.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { waitFor } from "../support/wait.ts"

let db: TestDatabase
let sshd: SshdFixture
let coolify: CoolifyFake
let work: string
let profiles: Record<string, string>
const key = newKey()
/** argv of the hanging apply, to find it (or its absence) among this machine's processes. */
const HANG_MARKER = `700.${process.pid}`
/** argv of the hanging apply, to find it (or its absence) among this machine's processes. */

const script = async (path: string, body: string) => {
  await writeFile(path, `#!/bin/sh\n${body}\n`)
  await chmod(path, 0o755)
}

/** An sshd whose sessions find stand-in docker and runsc first on their PATH. */
const startSshdWithTools = async (tools: string) => {
  const fixture = await startSshd({ extraConfig: ["PermitUserEnvironment PATH"] })
  const authorized = join(fixture.dir, "authorized_keys")
  const publicKey = (await readFile(authorized, "utf8")).trim()
  await writeFile(authorized, `environment="PATH=${tools}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ${publicKey}\n`, { mode: 0o600 })
  return fixture
}

before(async () => {
  db = await createTestDatabase()
  work = await mkdtemp(join(tmpdir(), "deploymcp-hosts-"))
  const tools = join(work, "tools")
  await mkdir(tools)
  await script(join(tools, "docker"), `echo '{"Client":{"Version":"27.0.0"},"Server":{"Version":"27.0.0"}}'`)
  await script(join(tools, "runsc"), "echo 'runsc version release-20250101.0'")

  // Profile "test": apply writes a marker next to the scripts; the check (named like the real
  // gVisor step, which placement reads) passes once it is there.
  profiles = { test: join(work, "profile-test"), hang: join(work, "profile-hang") }
  await mkdir(profiles.test as string)
  await script(join(profiles.test as string, "apply-all.sh"), 'touch "$(dirname "$0")/applied"\necho "APPLIED 10-test: marker written"')
  await script(
    join(profiles.test as string, "check-all.sh"),
    'if [ -f "$(dirname "$0")/applied" ]; then echo "RESULT 20-gvisor: ok"; exit 0; fi\necho "DRIFT 20-gvisor: marker missing"\necho "RESULT 20-gvisor: drift"\nexit 1'
  )
  // Profile "hang": apply never finishes.
  await mkdir(profiles.hang as string)
  await script(join(profiles.hang as string, "apply-all.sh"), `exec sleep ${HANG_MARKER}`)
  await script(join(profiles.hang as string, "check-all.sh"), 'echo "DRIFT 10-test: never applied"\necho "RESULT 10-test: drift"\nexit 1')

  sshd = await startSshdWithTools(tools)
  coolify = await startCoolifyFake()
  coolify.state.addServer({ name: "loopback", ip: "127.0.0.1" })
})
after(async () => {
  await sshd?.stop()
  await coolify?.close()
  await db?.drop()
  await rm(work, { recursive: true, force: true })
})
beforeEach(async () => {
  await db.pool.query(`DELETE FROM objects WHERE kind IN ('Host', 'App')`)
})


const coolifyDirectory = () =>
  CoolifyServerDirectory.layer.pipe(Layer.provide(CoolifyApi.layer({ url: coolify.url, token: coolify.token })))

let installs = 0
/** A fresh directory on the "host" for the hardening scripts, so tests do not see each other's installs. */
const freshCheckScript = () => join(work, `install-${++installs}`, "hardening", "check-all.sh")

const settingsFor = (overrides: Partial<HostControllerSettings> = {}): HostControllerSettings => ({
  privateKey: Redacted.make(sshd.privateKey),
  recheckInterval: "1 hour",
  hardeningProfiles: profiles,
  ...overrides
})

const providers = (checkScript: string, withCoolify: boolean) =>
  Layer.mergeAll(HostShell.layer, withCoolify ? coolifyDirectory() : CoolifyServerDirectory.notConfigured, Layer.succeed(HardeningCheckScript, checkScript))

type Services = Layer.Success<ReturnType<typeof storeLayer>> | ReconcileQueue

/** An engine replica running only the Host controller, with its own pool. */
const startHostEngine = async (settings: HostControllerSettings, options: { checkScript: string; coolify?: boolean; metrics?: EngineMetrics }) => {
  const pool = new pg.Pool({ connectionString: db.url, max: 10 })
  pool.on("error", () => {})
  const layer = engineLayers(pool, { url: db.url, key, engine: options.metrics ? { metrics: options.metrics } : {} }, [makeHostController(settings)]).pipe(
    Layer.provide(providers(options.checkScript, options.coolify ?? false))
  )
  const runtime = ManagedRuntime.make(layer as Layer.Layer<Services, unknown, never>)
  await runtime.context()
  return {
    run: <A, E>(effect: Effect.Effect<A, E, Services>) => runtime.runPromise(effect),
    dispose: async () => {
      await runtime.dispose()
      await pool.end()
    }
  }
}

/** Runs one reconcile directly (no engine), for outcomes that need no queue. */
const reconcileOnce = async (settings: HostControllerSettings, checkScript: string, host: StoredObject<"Host">) => {
  const runtime = ManagedRuntime.make(Layer.mergeAll(storeLayer(db.pool, key), providers(checkScript, false)))
  try {
    return await runtime.runPromise(Effect.result(makeHostController(settings).reconcile(host)))
  } finally {
    await runtime.dispose()
  }
}

const storeRun = async <A, E>(effect: Effect.Effect<A, E, Layer.Success<ReturnType<typeof storeLayer>>>) => {
  const runtime = ManagedRuntime.make(storeLayer(db.pool, key))
  try {
    return await runtime.runPromise(effect)
  } finally {
    await runtime.dispose()
  }
}

const hostSpec = (fixture: SshdFixture, overrides: Partial<HostSpec> = {}): HostSpec => ({
  address: fixture.host,
  port: fixture.port,
  user: fixture.user,
  role: "run",
  dnsSuffix: "s1.example.com",
  capacity: { cpu: "4", memory: "8G" },
  ...overrides
})

const createHost = (name: string, spec: HostSpec) => storeRun(ObjectStore.use((store) => store.create(PLATFORM_OWNER, { kind: "Host", name, spec })))

const readHost = async (name: string) => storeRun(ObjectStore.use((store) => store.get(PLATFORM_OWNER, { kind: "Host", name })))

const condition = (host: StoredObject<"Host">, type: string) => findCondition(host.status.conditions, type)

/** Resolves with the host once its `type` condition has `reason`. */
const waitForReason = (name: string, type: string, reason: string, timeoutMs = 20_000) =>
  waitFor(
    async () => {
      const host = await readHost(name)
      return condition(host, type)?.reason === reason ? host : undefined
    },
    { timeoutMs, what: `${name} ${type} reason ${reason}` }
  )

/** Processes (not zombies) whose argv contains `marker`: the sshd fixture runs on this machine. */
const processesWith = (marker: string): Array<string> =>
  readdirSync("/proc").filter((pid) => {
    if (!/^\d+$/.test(pid)) return false
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(marker)
    } catch {
      return false
    }
  })

const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

describe("Host controller", () => {
  test("host add → connects, pins the key, applies the profile, finds its Coolify server, Ready; apps are placed there", async () => {
    const engine = await startHostEngine(settingsFor(), { checkScript: freshCheckScript(), coolify: true })
    try {
      await engine.run(addHost({ name: "s1", spec: hostSpec(sshd, { hardening: { profile: "test", apply: true } }) }))
      const host = await waitForReason("s1", "Ready", "HostReady")

      assert.equal(host.metadata.annotations[HostAnnotations.hostKey], sshd.hostKeyFingerprint)
      assert.equal(condition(host, "Reachable")?.status, "True")
      assert.match(condition(host, "Reachable")?.message ?? "", new RegExp(`host key ${sshd.hostKeyFingerprint.replace(/[+/]/g, "\\$&")}`))
      assert.equal(condition(host, "Hardened")?.status, "True")
      assert.match(condition(host, "Hardened")?.message ?? "", /Hardening profile 'test' applied: 1 change\(s\) made\. All 1 hardening checks pass \(20-gvisor\)/)
      assert.equal(condition(host, "Ready")?.message, "Ready for apps: docker 27.0.0, gVisor release-20250101.0, capacity cpu 4, memory 8G.")
      const facts = host.status.facts
      assert.equal(facts?.dockerVersion, "27.0.0")
      assert.equal(facts?.runscVersion, "release-20250101.0")
      assert.equal(facts?.hostKeyFingerprint, sshd.hostKeyFingerprint)
      assert.ok((facts?.memoryFreeBytes ?? 0) > 0 && (facts?.diskFreeBytes ?? 0) > 0)
      assert.deepEqual(facts?.hardeningChecks, { "20-gvisor": true })
      const loopback = coolify.state.servers.find((server) => server.ip === "127.0.0.1")
      assert.equal(host.status.coolifyServerUuid, loopback?.uuid)
      assert.deepEqual(host.status.allocated, { cpu: 0, memoryBytes: 0 })
      assert.equal(host.status.observedGeneration, host.metadata.generation)

      // Placement now uses the host: suffix, observed Coolify server, gVisor; allocation follows.
      const placementRuntime = ManagedRuntime.make(
        hostPlacementLayer({ fallbackDnsSuffix: "apps.example.com" }).pipe(
          Layer.provideMerge(ReconcileQueue.layer({ connectionString: db.url, max: 2 }).pipe(Layer.provideMerge(storeLayer(db.pool, key))))
        )
      )
      try {
        const owner = (await placementRuntime.runPromise(UserStore.use((users) => users.ensure("hosts-test")))).id
        const app = await placementRuntime.runPromise(
          ObjectStore.use((store) =>
            store.create(owner, {
              kind: "App",
              name: "web",
              spec: { repo: "acme/web", branch: "main", revision: null, buildPack: "nixpacks", runtimeMode: "persistent", env: {}, resourceRefs: [], redeployNonce: 0, resources: { cpu: "0.5", memory: "1G" } }
            })
          )
        )
        const decision = await placementRuntime.runPromise(Placement.use((placement) => placement.place(app)))
        assert.deepEqual(decision, { _tag: "Placed", host: "s1", dnsSuffix: "s1.example.com", coolifyServerUuid: loopback?.uuid, gvisor: true })
      } finally {
        await placementRuntime.dispose()
      }
      const allocated = await waitFor(async () => {
        const current = await readHost("s1")
        return current.status.allocated?.cpu === 0.5 ? current.status.allocated : undefined
      }, { what: "s1 status.allocated to count the placed app" })
      assert.deepEqual(allocated, { cpu: 0.5, memoryBytes: 1024 ** 3 })
    } finally {
      await engine.dispose()
    }
  })

  test("a host without the hardening scripts is Reachable but not Ready, and says how to fix it", async () => {
    const checkScript = freshCheckScript()
    const host = await createHost("bare", hostSpec(sshd, { hardening: { profile: "test" } }))
    const result = await reconcileOnce(settingsFor(), checkScript, host)
    assert.equal(result._tag, "Success")
    const observed = await readHost("bare")
    assert.equal(condition(observed, "Reachable")?.status, "True")
    assert.deepEqual([condition(observed, "Hardened")?.status, condition(observed, "Hardened")?.reason], ["False", "HardeningNotInstalled"])
    assert.match(condition(observed, "Hardened")?.message ?? "", new RegExp(`${checkScript.replace(/[.]/g, "\\.")} not found\\). Set spec.hardening.apply`))
    assert.deepEqual([condition(observed, "Ready")?.status, condition(observed, "Ready")?.reason], ["False", "HardeningNotInstalled"])
    // Without COOLIFY_* the host needs no Coolify server.
    assert.equal(observed.status.coolifyServerUuid, undefined)
  })

  test("a changed host key: nothing runs, Reachable=False HostKeyChanged with a Warning event, no new apps, until trust-key", async () => {
    const rotating = await startSshdWithTools(join(work, "tools"))
    const engine = await startHostEngine(settingsFor({ privateKey: Redacted.make(rotating.privateKey) }), { checkScript: freshCheckScript() })
    try {
      await engine.run(addHost({ name: "rot", spec: hostSpec(rotating) }))
      const first = await waitForReason("rot", "Ready", "HostReady")
      const pinned = rotating.hostKeyFingerprint
      assert.equal(first.metadata.annotations[HostAnnotations.hostKey], pinned)
      assert.equal(condition(first, "Hardened")?.reason, "HardeningNotRequested")

      await rotating.rotateHostKey()
      const presented = rotating.hostKeyFingerprint
      await engine.run(ReconcileQueue.use((queue) => queue.enqueue("Host", { owner: PLATFORM_OWNER, uid: first.metadata.uid })))
      const changed = await waitForReason("rot", "Reachable", "HostKeyChanged")
      assert.equal(condition(changed, "Reachable")?.status, "False")
      assert.deepEqual([condition(changed, "Ready")?.status, condition(changed, "Ready")?.reason], ["False", "HostKeyChanged"])
      const message = condition(changed, "Reachable")?.message ?? ""
      assert.ok(message.includes(`pinned ${pinned}, presented ${presented}`), message)
      assert.ok(message.includes(`deploy-mcp host trust-key rot --fingerprint ${presented}`), message)
      assert.equal(changed.metadata.annotations[HostAnnotations.hostKey], pinned, "the pin does not move by itself")
      assert.equal(changed.metadata.annotations[HostAnnotations.presentedHostKey], presented)
      const events = await storeRun(EventStore.use((store) => store.list(PLATFORM_OWNER, changed.metadata.uid)))
      assert.ok(events.some((event) => event.type === "Warning" && event.reason === "HostKeyChanged"), JSON.stringify(events))

      // The only run host is NotReady: a new app is not placed on it.
      const placement = decidePlacement({
        app: { name: "new", request: { cpuMillis: 100, memoryBytes: 1 } },
        hosts: [hostView(changed)],
        allocated: new Map(),
        fallbackDnsSuffix: "apps.example.com",
        now: Date.now(),
        evictionGraceMs: 60_000
      })
      assert.deepEqual([placement._tag, placement._tag === "Unplaced" && placement.reason], ["Unplaced", "NoReadyHosts"])

      // trust-key without a fingerprint only explains; with the presented one it re-pins and re-checks.
      const explained = await engine.run(Effect.flip(trustHostKey("rot", undefined)))
      assert.match(explained.message, new RegExp(`presents ${presented.replace(/[+/]/g, "\\$&")}`))
      const wrong = await engine.run(Effect.flip(trustHostKey("rot", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")))
      assert.match(wrong.message, /nothing was changed/)
      await engine.run(trustHostKey("rot", presented))
      const trusted = await waitForReason("rot", "Ready", "HostReady")
      assert.equal(trusted.metadata.annotations[HostAnnotations.hostKey], presented)
      assert.equal(trusted.metadata.annotations[HostAnnotations.presentedHostKey], undefined)
      assert.equal(condition(trusted, "Reachable")?.status, "True")
    } finally {
      await engine.dispose()
      await rotating.stop()
    }
  })

  test("an unreachable host goes Reachable=False and is retried with growing backoff", async () => {
    const attempts: Array<number> = []
    const metrics: EngineMetrics = { reconciled: () => {}, backoff: (kind, attempt) => kind === "Host" && attempts.push(attempt) }
    const engine = await startHostEngine(settingsFor(), { checkScript: freshCheckScript(), metrics })
    try {
      const port = await closedPort()
      await engine.run(addHost({ name: "gone", spec: hostSpec(sshd, { port }) }))
      const host = await waitForReason("gone", "Reachable", "Unreachable")
      assert.equal(condition(host, "Reachable")?.status, "False")
      assert.match(condition(host, "Reachable")?.message ?? "", new RegExp(`Cannot reach 127\\.0\\.0\\.1:${port} over SSH: connection refused`))
      assert.equal(condition(host, "Ready")?.reason, "Unreachable")

      // Each failed reconcile is retried by the engine with the next, longer backoff step.
      await waitFor(() => attempts.length >= 3, { timeoutMs: 30_000, what: "three failed attempts" })
      assert.deepEqual(attempts.slice(0, 3), [1, 2, 3])
      // pg-boss holds the retry count and the next start time: the key waits, it is not hot-looping.
      const job = await waitFor(async () => {
        const rows = await db.pool.query(
          `SELECT retry_count, start_after > now() AS deferred FROM pgboss.job WHERE name = $1 AND singleton_key = $2 AND state = 'retry'`,
          [queueName("Host"), host.metadata.uid]
        )
        return rows.rows[0]?.retry_count >= 2 ? rows.rows[0] : undefined
      }, { timeoutMs: 30_000, what: "the job waiting for its next retry" })
      assert.equal(job.deferred, true)
      // A failure repeated is one event with a count, not an event per attempt.
      const events = await storeRun(EventStore.use((store) => store.list(PLATFORM_OWNER, host.metadata.uid)))
      assert.equal(events.filter((event) => event.reason === "Unreachable").length, 1)
    } finally {
      await engine.dispose()
    }
  })

  test("an apply that hangs is killed at its timeout and reported on Hardened", async () => {
    const host = await createHost("slow", hostSpec(sshd, { hardening: { profile: "hang", apply: true } }))
    const result = await reconcileOnce(settingsFor({ applyTimeoutMs: 1_000 }), freshCheckScript(), host)
    assert.equal(result._tag, "Success")
    const observed = await readHost("slow")
    assert.deepEqual([condition(observed, "Hardened")?.status, condition(observed, "Hardened")?.reason], ["False", "HardeningApplyTimedOut"])
    assert.match(condition(observed, "Hardened")?.message ?? "", /apply-all\.sh.*did not finish within 1000 ms; it was killed and the connection closed/)
    assert.equal(condition(observed, "Reachable")?.status, "True", "the host itself answered")
    assert.equal(condition(observed, "Ready")?.reason, "HardeningApplyTimedOut")
    await waitFor(() => processesWith(HANG_MARKER).length === 0, { what: "the hung apply killed on the host" })
  })

  test("facts that do not come back in time: Reachable=False CommandTimedOut and a typed error for backoff", async () => {
    const checkScript = freshCheckScript()
    await mkdir(join(checkScript, ".."), { recursive: true })
    const marker = `701.${process.pid}`
    await script(checkScript, `exec sleep ${marker}`)
    const host = await createHost("wedged", hostSpec(sshd, { hardening: { profile: "test" } }))
    const result = await reconcileOnce(settingsFor({ factsTimeoutMs: 1_000 }), checkScript, host)
    assert.ok(result._tag === "Failure")
    assert.equal(result.failure._tag, "HostCheckFailed")
    const observed = await readHost("wedged")
    assert.deepEqual([condition(observed, "Reachable")?.status, condition(observed, "Reachable")?.reason], ["False", "CommandTimedOut"])
    assert.match(condition(observed, "Reachable")?.message ?? "", /did not finish within 1000 ms/)
    // gatherFacts' remote `timeout 20` would end the sleep by itself; end it now instead.
    for (const pid of processesWith(marker)) process.kill(Number(pid), "SIGKILL")
  })

  test("without SSH_PRIVATE_KEY hosts are reported, not contacted", async () => {
    const host = await createHost("nokey", hostSpec(sshd))
    const result = await reconcileOnce(settingsFor({ privateKey: undefined }), freshCheckScript(), host)
    assert.equal(result._tag, "Success")
    const observed = await readHost("nokey")
    assert.deepEqual([condition(observed, "Reachable")?.status, condition(observed, "Reachable")?.reason], ["Unknown", "SshKeyNotConfigured"])
    assert.equal(condition(observed, "Ready")?.status, "False")
    assert.equal(observed.metadata.annotations[HostAnnotations.hostKey], undefined)
  })
})
