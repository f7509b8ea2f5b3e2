/**
 * `deploy-mcp host …` run in-process against a real database: what the operator types, what is
 * stored and enqueued, and what is printed (or refused) — no controller runs here.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { after, before, describe, test } from "node:test"
import { ManagedRuntime } from "effect"
import { HostAnnotations } from "../../controllers/host/annotations.ts"
import { recordPlacement } from "../../controllers/host/placements-store.ts"
import { writeStatus } from "../../controllers/engine/conditions.ts"
import { queueName } from "../../controllers/engine/queue.ts"
import { run as host } from "../../src/cli/commands/host.ts"
import { ObjectStore, PLATFORM_OWNER } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { storeLayer, type StoreServices } from "../support/layers.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"

let db: TestDatabase
const key = randomBytes(32)
let store: ManagedRuntime.ManagedRuntime<StoreServices, never>

before(async () => {
  db = await createTestDatabase()
  store = ManagedRuntime.make(storeLayer(db.pool, key))
})
after(async () => {
  await store.dispose()
  await db.drop()
})

/** Runs the command as the CLI would, capturing what it prints. */
const cli = async (...args: Array<string>) => {
  let stdout = ""
  let stderr = ""
  const code = await host(args, {
    env: { DATABASE_URL: db.url, DATA_ENCRYPTION_KEY: key.toString("base64"), LOG_LEVEL: "silent" },
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    now: () => new Date("2025-01-01T00:00:00Z")
  })
  return { code, stdout, stderr }
}

const FINGERPRINT = `SHA256:${"A".repeat(42)}B`

describe("host CLI", () => {
  test("add stores a platform-owned Host with the given spec and enqueues it", async () => {
    const added = await cli(
      "add", "--name", "s1", "--address", "203.0.113.7", "--port", "2222", "--user", "deploy", "--role", "run",
      "--dns-suffix", "s1.example.com", "--capacity-cpu", "4", "--capacity-memory", "8G", "--apply-hardening", "--host-key", FINGERPRINT
    )
    assert.equal(added.code, 0, added.stderr)
    assert.match(added.stdout, /host 's1' created; the controller now connects to deploy@203\.0\.113\.7:2222/)
    const stored = await store.runPromise(ObjectStore.use((objects) => objects.get(PLATFORM_OWNER, { kind: "Host", name: "s1" })))
    assert.deepEqual(stored.spec, {
      address: "203.0.113.7",
      port: 2222,
      user: "deploy",
      role: "run",
      dnsSuffix: "s1.example.com",
      capacity: { cpu: "4", memory: "8G" },
      hardening: { profile: "default", apply: true }
    })
    assert.equal(stored.metadata.owner, PLATFORM_OWNER)
    assert.equal(stored.metadata.annotations[HostAnnotations.hostKey], FINGERPRINT)
    const jobs = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND singleton_key = $2`, [queueName("Host"), stored.metadata.uid])
    assert.equal(jobs.rows[0].n, 1)

    const minimal = await cli("add", "--name", "b1", "--address", "b1.example.net", "--role", "build", "--dns-suffix", "b1.example.com", "--capacity-cpu", "8", "--capacity-memory", "16G", "--no-hardening")
    assert.equal(minimal.code, 0, minimal.stderr)
    const build = await store.runPromise(ObjectStore.use((objects) => objects.get(PLATFORM_OWNER, { kind: "Host", name: "b1" })))
    assert.deepEqual([build.spec.port, build.spec.user, build.spec.hardening], [22, "root", undefined])
  })

  test("bad input is refused with a reason and the usage, and nothing is stored", async () => {
    const missing = await cli("add", "--name", "x1", "--address", "10.0.0.1")
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /error: missing required flags: --dns-suffix, --capacity-cpu, --capacity-memory/)
    assert.match(missing.stderr, /Usage: deploy-mcp host COMMAND/)

    const reserved = await cli("add", "--name", "default", "--address", "10.0.0.1", "--dns-suffix", "d.example.com", "--capacity-cpu", "1", "--capacity-memory", "1G")
    assert.match(reserved.stderr, /names the single-server default placement/)

    const badMemory = await cli("add", "--name", "x2", "--address", "10.0.0.1", "--dns-suffix", "x.example.com", "--capacity-cpu", "1", "--capacity-memory", "lots")
    assert.equal(badMemory.code, 1)
    assert.match(badMemory.stderr, /memory must be a number followed by M or G/)

    const taken = await cli("add", "--name", "s1", "--address", "10.0.0.1", "--dns-suffix", "x.example.com", "--capacity-cpu", "1", "--capacity-memory", "1G")
    assert.match(taken.stderr, /Host 's1' in project 'default' already exists/)

    assert.equal((await cli("frobnicate")).code, 2)
    const badKey = await cli("trust-key", "s1", "--fingerprint", "MD5:00")
    assert.match(badKey.stderr, /is not an SSH SHA256 fingerprint/)
    const names = await store.runPromise(ObjectStore.use((objects) => objects.listNames(PLATFORM_OWNER, "Host")))
    assert.deepEqual(names, ["b1", "s1"])
  })

  test("list shows hosts with their conditions, capacity and allocation", async () => {
    const s1 = await store.runPromise(ObjectStore.use((objects) => objects.get(PLATFORM_OWNER, { kind: "Host", name: "s1" })))
    await store.runPromise(
      writeStatus(s1, (status) => ({ ...status, allocated: { cpu: 1.5, memoryBytes: 3 * 1024 ** 3 } }), {
        conditions: [
          { type: "Reachable", status: "True", reason: "Connected", message: "ok" },
          { type: "Ready", status: "True", reason: "HostReady", message: "ok" }
        ]
      })
    )
    const listed = await cli("list")
    assert.equal(listed.code, 0, listed.stderr)
    const [header, ...rows] = listed.stdout.trimEnd().split("\n")
    assert.match(header ?? "", /^NAME\s+READY\s+STATUS\s+ADDRESS\s+ROLE\s+DNS-SUFFIX\s+REACHABLE\s+HARDENED\s+CAPACITY\s+ALLOCATED/)
    assert.match(rows.find((row) => row.startsWith("s1")) ?? "", /^s1\s+True\s+HostReady\s+203\.0\.113\.7:2222\s+run\s+s1\.example\.com\s+True\s+Unknown\s+cpu=4,memory=8G\s+cpu=1\.5,memory=3072M/)
    assert.match(rows.find((row) => row.startsWith("b1")) ?? "", /^b1\s+Unknown\s+Pending\s+b1\.example\.net:22\s+build/)
  })

  test("trust-key explains without a fingerprint and re-pins with the presented one", async () => {
    const presented = `SHA256:${"C".repeat(43)}`
    const s1 = await store.runPromise(ObjectStore.use((objects) => objects.get(PLATFORM_OWNER, { kind: "Host", name: "s1" })))
    await store.runPromise(ObjectStore.use((objects) => objects.updateMetadata(PLATFORM_OWNER, s1.metadata.uid, s1.metadata.resourceVersion, { annotations: { [HostAnnotations.presentedHostKey]: presented } })))

    const explained = await cli("trust-key", "s1")
    assert.equal(explained.code, 1)
    assert.ok(explained.stderr.includes(`presents ${presented} (pinned: ${FINGERPRINT})`), explained.stderr)
    assert.ok(explained.stderr.includes(`deploy-mcp host trust-key s1 --fingerprint ${presented}`))

    const trusted = await cli("trust-key", "s1", "--fingerprint", presented)
    assert.equal(trusted.code, 0, trusted.stderr)
    const after = await store.runPromise(ObjectStore.use((objects) => objects.get(PLATFORM_OWNER, { kind: "Host", name: "s1" })))
    assert.equal(after.metadata.annotations[HostAnnotations.hostKey], presented)
    assert.equal(after.metadata.annotations[HostAnnotations.presentedHostKey], undefined)
  })

  test("remove refuses while apps are placed on the host, unless --force", async () => {
    const owner = (await store.runPromise(UserStore.use((users) => users.ensure("cli-test")))).id
    const app = await store.runPromise(
      ObjectStore.use((objects) =>
        objects.create(owner, {
          kind: "App",
          name: "shop",
          spec: { repo: "acme/shop", branch: "main", revision: null, buildPack: "nixpacks", runtimeMode: "persistent", env: {}, resourceRefs: [], redeployNonce: 0 }
        })
      )
    )
    await store.runPromise(recordPlacement(app.metadata.uid, "s1"))

    const refused = await cli("remove", "s1")
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /host 's1' still runs 1 app\(s\): shop \(project default, owner [0-9a-f-]+\)/)

    const forced = await cli("remove", "s1", "--force")
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(forced.stdout, /1 app\(s\) will be placed elsewhere/)
    const names = await store.runPromise(ObjectStore.use((objects) => objects.listNames(PLATFORM_OWNER, "Host")))
    assert.deepEqual(names, ["b1"])
    const appJobs = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND singleton_key = $2`, [queueName("App"), app.metadata.uid])
    assert.equal(appJobs.rows[0].n, 1, "the app is reconciled (and so placed again) at once")

    assert.equal((await cli("remove", "b1")).code, 0)
    assert.match((await cli("list")).stdout, /^No hosts\./)
    assert.match((await cli("remove", "nope")).stderr, /Host 'nope' in project 'default' not found/)
  })
})
