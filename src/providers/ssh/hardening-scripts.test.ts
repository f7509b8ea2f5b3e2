/**
 * The host hardening scripts (infra/hetzner/hardening/), run for real: shellcheck,
 * daemon.json and sshd against temp-dir fixtures, iptables/nftables inside
 * throwaway network namespaces (with real traffic through the egress rules), and
 * the miner detector against a real process. Each script's --check must change
 * nothing and report drift; --apply must converge and be a no-op the second time.
 */
import assert from "node:assert/strict"
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { after, before, describe, test, type TestContext } from "node:test"
import { createNetns, link, netnsUnavailableReason, waitForLine, type Netns } from "./testing/netns.ts"

const HARDENING_DIR = fileURLToPath(new URL("../../../infra/hetzner/hardening/", import.meta.url))
const SSHD = "/usr/sbin/sshd"
const run = promisify(execFile)

interface ScriptRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

async function script(name: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, netns?: Netns): Promise<ScriptRun> {
  const path = join(HARDENING_DIR, name)
  if (netns !== undefined) return netns.exec([path, ...args], env)
  try {
    const { stdout, stderr } = await run(path, [...args], { env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" }
  }
}

const lines = (text: string) => text.split("\n").filter((line) => line !== "")
const hasCommand = async (command: string) => (await run("sh", ["-c", `command -v ${command}`]).then(() => true, () => false))

/** A stand-in for systemctl that records what it was asked and reports every unit active and enabled. */
async function fakeSystemctl(dir: string) {
  const log = join(dir, "systemctl.log")
  const path = join(dir, "systemctl")
  await writeFile(path, `#!/bin/sh\necho "$*" >> '${log}'\nexit 0\n`)
  await chmod(path, 0o755)
  return {
    path,
    calls: async () => (existsSync(log) ? lines(await readFile(log, "utf8")) : [])
  }
}

async function tempDir(t: TestContext, label: string) {
  const dir = await mkdtemp(join(tmpdir(), `deploymcp-${label}-`))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const SCRIPTS = readdirSync(HARDENING_DIR).filter((name) => /^\d\d-.*\.sh$/.test(name)).sort()

describe("hardening scripts: static checks", () => {
  test("shellcheck finds nothing in any script", async (t) => {
    if (!(await hasCommand("shellcheck"))) {
      return t.skip("shellcheck is not installed here (apt-get install -y shellcheck); CI installs it")
    }
    const files = [...SCRIPTS, "apply-all.sh", "check-all.sh", "lib/common.sh"]
    const result = await run("shellcheck", files, { cwd: HARDENING_DIR }).then(
      () => ({ code: 0, output: "" }),
      (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout })
    )
    assert.equal(result.code, 0, result.output)
  })

  test("every step script refuses to run without --check or --apply", async () => {
    assert.deepEqual(SCRIPTS, [
      "10-egress-rules.sh",
      "20-gvisor.sh",
      "30-docker-daemon.sh",
      "40-ssh.sh",
      "50-firewall.sh",
      "60-miner-detector.sh"
    ])
    for (const name of SCRIPTS) {
      const result = await script(name, [], {})
      assert.equal(result.code, 2, `${name} without a mode`)
      assert.match(result.stderr, /usage: .* --check \| --apply/)
    }
  })
})

describe("hardening scripts: daemon.json (20-gvisor, 30-docker-daemon)", () => {
  async function setup(t: TestContext, initial?: string) {
    const dir = await tempDir(t, "daemonjson")
    const systemctl = await fakeSystemctl(dir)
    const runsc = join(dir, "runsc")
    await writeFile(runsc, "#!/bin/sh\necho 'runsc version release-test'\n")
    await chmod(runsc, 0o755)
    const daemonJson = join(dir, "docker", "daemon.json")
    if (initial !== undefined) {
      await mkdir(join(dir, "docker"))
      await writeFile(daemonJson, initial)
    }
    // DOCKER=false: no live daemon to compare with, as on a host where docker is stopped.
    const env = { DOCKER_DAEMON_JSON: daemonJson, RUNSC_BIN: runsc, SYSTEMCTL: systemctl.path, DOCKER: "false" }
    return { daemonJson, runsc, env, systemctl }
  }

  test("check reports each missing setting; apply merges them and keeps foreign keys; a second apply changes nothing", async (t) => {
    const { daemonJson, runsc, env, systemctl } = await setup(t, `{"dns": ["1.1.1.1"], "log-opts": {"compress": "true"}}`)

    const gvisorCheck = await script("20-gvisor.sh", ["--check"], env)
    assert.equal(gvisorCheck.code, 1)
    assert.deepEqual(lines(gvisorCheck.stdout), [
      `DRIFT 20-gvisor: runtime runsc is not registered in ${daemonJson} (want .runtimes.runsc.path = ${runsc})`
    ])
    const daemonCheck = await script("30-docker-daemon.sh", ["--check"], env)
    assert.equal(daemonCheck.code, 1)
    assert.deepEqual(lines(daemonCheck.stdout), [
      `DRIFT 30-docker-daemon: ${daemonJson}: log-driver should be "json-file"`,
      `DRIFT 30-docker-daemon: ${daemonJson}: log-opts.max-size should be "10m"`,
      `DRIFT 30-docker-daemon: ${daemonJson}: log-opts.max-file should be "3"`,
      `DRIFT 30-docker-daemon: ${daemonJson}: no-new-privileges should be true`,
      `DRIFT 30-docker-daemon: ${daemonJson}: live-restore should be true`
    ])
    assert.deepEqual(await systemctl.calls(), [], "check mode must not touch services")

    for (const name of ["20-gvisor.sh", "30-docker-daemon.sh"]) {
      const applied = await script(name, ["--apply"], env)
      assert.equal(applied.code, 0, applied.stderr)
      assert.match(applied.stdout, /^APPLIED /)
    }
    assert.deepEqual(JSON.parse(await readFile(daemonJson, "utf8")), {
      dns: ["1.1.1.1"],
      "log-opts": { compress: "true", "max-size": "10m", "max-file": "3" },
      runtimes: { runsc: { path: runsc } },
      "log-driver": "json-file",
      "no-new-privileges": true,
      "live-restore": true
    })
    // runtimes reload with SIGHUP; log settings need a restart (after live-restore is live).
    assert.deepEqual(await systemctl.calls(), [
      "is-active --quiet docker",
      "reload docker",
      "is-active --quiet docker",
      "reload docker",
      "is-active --quiet docker",
      "restart docker"
    ])

    for (const name of ["20-gvisor.sh", "30-docker-daemon.sh"]) {
      assert.equal((await script(name, ["--check"], env)).code, 0, `${name} --check after apply`)
    }
    const before = await readFile(daemonJson, "utf8")
    const callsBefore = (await systemctl.calls()).length
    for (const name of ["20-gvisor.sh", "30-docker-daemon.sh"]) {
      const again = await script(name, ["--apply"], env)
      assert.deepEqual([again.code, again.stdout], [0, ""], `${name} second apply`)
    }
    assert.equal(await readFile(daemonJson, "utf8"), before)
    assert.equal((await systemctl.calls()).length, callsBefore, "no docker reload/restart when nothing changed")
  })

  test("a changed setting is one drift line, and apply repairs only that", async (t) => {
    const { daemonJson, env } = await setup(t)
    assert.equal((await script("30-docker-daemon.sh", ["--apply"], env)).code, 0)
    assert.equal((await script("20-gvisor.sh", ["--apply"], env)).code, 0)

    const config = JSON.parse(await readFile(daemonJson, "utf8"))
    await writeFile(daemonJson, JSON.stringify({ ...config, "live-restore": false }))
    const drifted = await script("30-docker-daemon.sh", ["--check"], env)
    assert.deepEqual([drifted.code, lines(drifted.stdout)], [1, [`DRIFT 30-docker-daemon: ${daemonJson}: live-restore should be true`]])
    assert.equal((await script("20-gvisor.sh", ["--check"], env)).code, 0, "the runtime is still registered")

    assert.equal((await script("30-docker-daemon.sh", ["--apply"], env)).code, 0)
    assert.equal(JSON.parse(await readFile(daemonJson, "utf8"))["live-restore"], true)
    assert.equal((await script("30-docker-daemon.sh", ["--check"], env)).code, 0)
  })

  test("invalid JSON is reported and never overwritten", async (t) => {
    const { daemonJson, env } = await setup(t, "{ not json")
    const checked = await script("30-docker-daemon.sh", ["--check"], env)
    assert.deepEqual([checked.code, lines(checked.stdout)], [1, [`DRIFT 30-docker-daemon: ${daemonJson} is not valid JSON`]])
    const applied = await script("30-docker-daemon.sh", ["--apply"], env)
    assert.equal(applied.code, 2)
    assert.match(applied.stderr, /is not valid JSON; fix it by hand/)
    assert.equal(await readFile(daemonJson, "utf8"), "{ not json")
  })
})

describe("hardening scripts: sshd (40-ssh)", { skip: existsSync(SSHD) ? false : `${SSHD} missing (apt-get install -y openssh-server)` }, () => {
  async function setup(t: TestContext, mainConfigPrefix = "") {
    const dir = await tempDir(t, "sshdcfg")
    // sshd -t/-T refuse to run without the privilege separation dir systemd normally creates.
    await mkdir("/run/sshd", { recursive: true, mode: 0o755 })
    const configDir = join(dir, "sshd_config.d")
    await mkdir(configDir)
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")])
    const mainConfig = join(dir, "sshd_config")
    // Like Debian's: the Include comes first, so drop-ins win over the main file.
    await writeFile(mainConfig, `${mainConfigPrefix}Include ${configDir}/*.conf\nHostKey ${join(dir, "host_key")}\nUsePAM no\n`)
    const systemctl = await fakeSystemctl(dir)
    const env = { SSHD: SSHD, SSHD_CONFIG: mainConfig, SSHD_CONFIG_DIR: configDir, SYSTEMCTL: systemctl.path }
    return { configDir, dropIn: join(configDir, "00-deploy-mcp-hardening.conf"), env, systemctl }
  }

  test("apply writes a validated drop-in and reloads ssh once; check passes; a second apply changes nothing", async (t) => {
    const { dropIn, env, systemctl } = await setup(t)
    const checked = await script("40-ssh.sh", ["--check"], env)
    assert.equal(checked.code, 1)
    assert.deepEqual(lines(checked.stdout), [
      `DRIFT 40-ssh: drop-in ${dropIn} missing or changed`,
      "DRIFT 40-ssh: effective sshd config allows password authentication",
      "DRIFT 40-ssh: effective sshd config allows keyboard-interactive authentication"
    ])

    const applied = await script("40-ssh.sh", ["--apply"], env)
    assert.deepEqual([applied.code, lines(applied.stdout)], [0, [`APPLIED 40-ssh: sshd drop-in ${dropIn}`]], applied.stderr)
    assert.match(await readFile(dropIn, "utf8"), /^PasswordAuthentication no\nPermitRootLogin prohibit-password\nKbdInteractiveAuthentication no$/m)
    assert.deepEqual(await systemctl.calls(), ["is-active --quiet ssh", "reload ssh"])
    assert.equal((await script("40-ssh.sh", ["--check"], env)).code, 0)

    const content = await readFile(dropIn, "utf8")
    const again = await script("40-ssh.sh", ["--apply"], env)
    assert.deepEqual([again.code, again.stdout], [0, ""])
    assert.equal(await readFile(dropIn, "utf8"), content)
    assert.equal((await systemctl.calls()).length, 2, "no second reload")
  })

  test("an edited drop-in is drift; a later cloud-init drop-in cannot override ours", async (t) => {
    const { configDir, dropIn, env } = await setup(t)
    assert.equal((await script("40-ssh.sh", ["--apply"], env)).code, 0)

    await writeFile(join(configDir, "50-cloud-init.conf"), "PasswordAuthentication yes\n")
    assert.equal((await script("40-ssh.sh", ["--check"], env)).code, 0, "00-* is read first and sshd keeps the first value")

    await writeFile(dropIn, "PasswordAuthentication yes\n")
    const drifted = await script("40-ssh.sh", ["--check"], env)
    assert.equal(drifted.code, 1)
    assert.ok(lines(drifted.stdout).includes(`DRIFT 40-ssh: drop-in ${dropIn} missing or changed`))
    assert.ok(lines(drifted.stdout).includes("DRIFT 40-ssh: effective sshd config allows password authentication"))
    assert.equal((await script("40-ssh.sh", ["--apply"], env)).code, 0)
    assert.equal((await script("40-ssh.sh", ["--check"], env)).code, 0)
  })

  test("a main config that overrides the drop-in is reported, and apply asks for a human", async (t) => {
    const { env } = await setup(t, "PasswordAuthentication yes\n")
    const applied = await script("40-ssh.sh", ["--apply"], env)
    assert.equal(applied.code, 2)
    assert.match(applied.stderr, /overrides .*00-deploy-mcp-hardening\.conf.*fix .* by hand/)
    const checked = await script("40-ssh.sh", ["--check"], env)
    assert.deepEqual(lines(checked.stdout), ["DRIFT 40-ssh: effective sshd config allows password authentication"])
  })

  test("a config sshd -t rejects is rolled back and ssh is not reloaded", async (t) => {
    const { configDir, dropIn, env, systemctl } = await setup(t)
    await writeFile(join(configDir, "99-broken.conf"), "NoSuchOption yes\n")
    const applied = await script("40-ssh.sh", ["--apply"], env)
    assert.equal(applied.code, 2)
    assert.match(applied.stderr, /sshd -t rejected the configuration .* rolled back, sshd not reloaded/)
    assert.equal(existsSync(dropIn), false)
    assert.deepEqual(await systemctl.calls(), [])
  })
})

describe("hardening scripts: firewall rules in network namespaces (10-egress-rules, 50-firewall)", async () => {
  const unavailable = await netnsUnavailableReason()
  const namespaces: Array<Netns> = []
  const children: Array<ChildProcess> = []
  after(async () => {
    for (const child of children) child.kill("SIGKILL")
    for (const netns of namespaces) await netns.remove()
  })
  const netns = async (label: string) => {
    const created = await createNetns(label)
    namespaces.push(created)
    return created
  }
  const skip = unavailable === undefined ? false : `${unavailable}; see infra/hetzner/hardening/TESTED.md`

  async function unitsEnv(t: TestContext) {
    const dir = await tempDir(t, "netfilter")
    const systemctl = await fakeSystemctl(dir)
    return {
      dir,
      systemctl,
      env: {
        SYSTEMD_DIR: join(dir, "systemd"),
        SYSTEMCTL: systemctl.path,
        FIREWALL_RULESET: join(dir, "firewall.nft"),
        HARDENING_STATE_DIR: join(dir, "state")
      }
    }
  }

  test("egress: check, apply, check, apply again, drift, repair", { skip }, async (t) => {
    const ns = await netns("egress")
    const { env, dir } = await unitsEnv(t)

    const fresh = await script("10-egress-rules.sh", ["--check"], env, ns)
    assert.equal(fresh.code, 1)
    assert.deepEqual(lines(fresh.stdout), [
      "DRIFT 10-egress-rules: chain DEPLOY-MCP-EGRESS does not exist",
      "DRIFT 10-egress-rules: chain DOCKER-USER does not exist",
      `DRIFT 10-egress-rules: systemd unit ${join(dir, "systemd")}/deploy-mcp-egress.service missing or outdated`
    ])

    const applied = await script("10-egress-rules.sh", ["--apply"], env, ns)
    assert.equal(applied.code, 0, applied.stderr)
    assert.equal(lines(applied.stdout).length, 3)
    assert.equal((await script("10-egress-rules.sh", ["--check"], env, ns)).code, 0)
    const rules = (await ns.exec(["iptables", "-S"])).stdout
    assert.match(rules, /-A DOCKER-USER -j DEPLOY-MCP-EGRESS/)
    assert.match(rules, /-A DEPLOY-MCP-EGRESS -d 169\.254\.169\.254\/32 -j REJECT/)
    assert.match(rules, /--dports 25,465,587 -j REJECT --reject-with tcp-reset/)
    assert.match(await readFile(join(dir, "systemd", "deploy-mcp-egress.service"), "utf8"), /ExecStart=.*10-egress-rules\.sh --apply/)

    const again = await script("10-egress-rules.sh", ["--apply"], env, ns)
    assert.deepEqual([again.code, again.stdout], [0, ""])
    assert.equal((await ns.exec(["iptables", "-S"])).stdout, rules, "a second apply leaves the rules identical")

    // Someone removes the SMTP block and puts an ACCEPT in front of our jump.
    await ns.exec(["iptables", "-D", "DEPLOY-MCP-EGRESS", "-p", "tcp", "-m", "multiport", "--dports", "25,465,587", "-j", "REJECT", "--reject-with", "tcp-reset"])
    await ns.exec(["iptables", "-I", "DOCKER-USER", "1", "-j", "ACCEPT"])
    const drifted = await script("10-egress-rules.sh", ["--check"], env, ns)
    assert.equal(drifted.code, 1)
    assert.deepEqual(lines(drifted.stdout), [
      "DRIFT 10-egress-rules: rule missing in DEPLOY-MCP-EGRESS: -p tcp -m multiport --dports 25,465,587 -j REJECT --reject-with tcp-reset",
      "DRIFT 10-egress-rules: DOCKER-USER does not jump to DEPLOY-MCP-EGRESS as its first rule"
    ])
    assert.equal((await script("10-egress-rules.sh", ["--apply"], env, ns)).code, 0)
    assert.equal((await script("10-egress-rules.sh", ["--check"], env, ns)).code, 0)
  })

  test("egress: forwarded traffic to blocked destinations is refused, other traffic passes", { skip }, async (t) => {
    // container (10.77.1.2) -> host/router with DOCKER-USER (10.77.1.1 | 10.77.2.1) -> internet (10.77.2.2, 169.254.169.254)
    const container = await netns("ctr")
    const router = await netns("rtr")
    const internet = await netns("net")
    await link(container, "10.77.1.2/24", router, "10.77.1.1/24")
    await link(router, "10.77.2.1/24", internet, "10.77.2.2/24")
    await container.exec(["ip", "route", "add", "default", "via", "10.77.1.1"])
    await internet.exec(["ip", "addr", "add", "169.254.169.254/32", "dev", "lo"])
    await internet.exec(["ip", "route", "add", "10.77.1.0/24", "via", "10.77.2.1"])
    await router.exec(["ip", "route", "add", "169.254.169.254/32", "via", "10.77.2.2"])
    await router.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])

    const targets = [["10.77.2.2", 8080], ["10.77.2.2", 25], ["10.77.2.2", 3333], ["10.77.2.2", 6667], ["10.77.2.2", 9050], ["169.254.169.254", 80]] as const
    const server = internet.spawn([
      process.execPath,
      "-e",
      `const net = require("node:net"); const targets = JSON.parse(process.argv[1]); let listening = 0;
       for (const [host, port] of targets) net.createServer((socket) => socket.end("open")).listen(port, host, () => { if (++listening === targets.length) console.log("ready") })`,
      JSON.stringify(targets)
    ])
    children.push(server)
    await waitForLine(server, /^ready$/)

    const probe = async () => {
      const result = await container.exec([
        process.execPath,
        "-e",
        `const net = require("node:net");
         Promise.all(JSON.parse(process.argv[1]).map(([host, port]) => new Promise((resolve) => {
           const socket = net.connect(port, host);
           socket.once("data", (data) => { resolve([host + ":" + port, String(data)]); socket.destroy() });
           socket.once("error", (error) => resolve([host + ":" + port, error.code]));
         }))).then((results) => console.log(JSON.stringify(Object.fromEntries(results))))`,
        JSON.stringify(targets)
      ])
      assert.equal(result.code, 0, result.stderr)
      return JSON.parse(result.stdout) as Record<string, string>
    }

    const open = Object.fromEntries(targets.map(([host, port]) => [`${host}:${port}`, "open"]))
    assert.deepEqual(await probe(), open, "without the rules everything is reachable (the probe can tell)")

    const { env } = await unitsEnv(t)
    assert.equal((await script("10-egress-rules.sh", ["--apply"], env, router)).code, 0)
    // Docker sends forwarded traffic through DOCKER-USER; so does this router.
    await router.exec(["iptables", "-I", "FORWARD", "1", "-j", "DOCKER-USER"])

    assert.deepEqual(await probe(), {
      "10.77.2.2:8080": "open",
      "10.77.2.2:25": "ECONNREFUSED",
      "10.77.2.2:3333": "ECONNREFUSED",
      "10.77.2.2:6667": "ECONNREFUSED",
      "10.77.2.2:9050": "ECONNREFUSED",
      "169.254.169.254:80": "ECONNREFUSED"
    })
  })

  test("firewall: only the nftables table of its own, check/apply/drift, Docker's table untouched", { skip }, async (t) => {
    const ns = await netns("fw")
    const { env } = await unitsEnv(t)
    // A Docker-owned table that must survive our loads.
    await ns.exec(["iptables", "-N", "DOCKER-USER"])

    const fresh = await script("50-firewall.sh", ["--check"], env, ns)
    assert.equal(fresh.code, 1)
    assert.ok(lines(fresh.stdout).includes("DRIFT 50-firewall: nftables table inet deploy_mcp_host is not loaded"))

    const applied = await script("50-firewall.sh", ["--apply"], env, ns)
    assert.equal(applied.code, 0, applied.stderr)
    const table = (await ns.exec(["nft", "list", "table", "inet", "deploy_mcp_host"])).stdout
    assert.match(table, /policy drop;/)
    assert.match(table, /tcp dport \{ 22, 80, 443 \} accept/)
    assert.match(table, /ct state established,related accept/)
    assert.equal((await ns.exec(["iptables", "-S", "DOCKER-USER"])).code, 0, "Docker's chain survived")
    assert.equal((await script("50-firewall.sh", ["--check"], env, ns)).code, 0)

    const again = await script("50-firewall.sh", ["--apply"], env, ns)
    assert.deepEqual([again.code, again.stdout], [0, ""])
    assert.equal((await ns.exec(["nft", "list", "table", "inet", "deploy_mcp_host"])).stdout, table)

    await ns.exec(["nft", "add", "rule", "inet", "deploy_mcp_host", "input", "tcp", "dport", "8080", "accept"])
    const drifted = await script("50-firewall.sh", ["--check"], env, ns)
    assert.deepEqual([drifted.code, lines(drifted.stdout)], [1, ["DRIFT 50-firewall: nftables table inet deploy_mcp_host was changed since it was applied"]])
    assert.equal((await script("50-firewall.sh", ["--apply"], env, ns)).code, 0)
    assert.equal((await ns.exec(["nft", "list", "table", "inet", "deploy_mcp_host"])).stdout, table)

    const otherPorts = await script("50-firewall.sh", ["--check"], { ...env, FIREWALL_ALLOWED_TCP: "2222 443" }, ns)
    assert.equal(otherPorts.code, 1, "a changed port list is drift")
  })

  test("firewall: allowed ports and replies still pass the drop policy", { skip }, async (t) => {
    const client = await netns("fwc")
    const host = await netns("fwh")
    await link(client, "10.78.1.2/24", host, "10.78.1.1/24")
    const { env } = await unitsEnv(t)
    assert.equal((await script("50-firewall.sh", ["--apply"], env, host)).code, 0)

    const server = host.spawn([
      process.execPath,
      "-e",
      `const net = require("node:net"); let n = 0;
       for (const port of [22, 443]) net.createServer((s) => s.end("open")).listen(port, "10.78.1.1", () => { if (++n === 2) console.log("ready") })`
    ])
    children.push(server)
    await waitForLine(server, /^ready$/)
    for (const port of [22, 443]) {
      const result = await client.exec([
        process.execPath,
        "-e",
        `require("node:net").connect(${port}, "10.78.1.1").once("data", (d) => { console.log(String(d)); process.exit(0) }).once("error", (e) => { console.log(e.code); process.exit(1) })`
      ])
      assert.equal(result.stdout.trim(), "open", `port ${port}`)
    }
  })

  test("apply-all then check-all converge; a second apply-all prints nothing", { skip: skip || (existsSync(SSHD) ? false : `${SSHD} missing`) }, async (t) => {
    const ns = await netns("all")
    const { env: unitEnv, dir } = await unitsEnv(t)
    await mkdir("/run/sshd", { recursive: true, mode: 0o755 })
    await mkdir(join(dir, "sshd_config.d"))
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")])
    await writeFile(join(dir, "sshd_config"), `Include ${join(dir, "sshd_config.d")}/*.conf\nHostKey ${join(dir, "host_key")}\nUsePAM no\n`)
    const runsc = join(dir, "runsc")
    await writeFile(runsc, "#!/bin/sh\n")
    await chmod(runsc, 0o755)
    const env = {
      ...unitEnv,
      DOCKER: "false",
      DOCKER_DAEMON_JSON: join(dir, "daemon.json"),
      RUNSC_BIN: runsc,
      SSHD: SSHD,
      SSHD_CONFIG: join(dir, "sshd_config"),
      SSHD_CONFIG_DIR: join(dir, "sshd_config.d")
    }

    const before = await script("check-all.sh", ["--check"], env, ns)
    assert.equal(before.code, 1)
    assert.deepEqual(lines(before.stdout).filter((line) => line.startsWith("RESULT")), [
      "RESULT 10-egress-rules: drift",
      "RESULT 20-gvisor: drift",
      "RESULT 30-docker-daemon: drift",
      "RESULT 40-ssh: drift",
      "RESULT 50-firewall: drift",
      "RESULT 60-miner-detector: ok"
    ])

    const applied = await script("apply-all.sh", [], env, ns)
    assert.equal(applied.code, 0, applied.stderr)
    const after = await script("check-all.sh", [], env, ns)
    assert.equal(after.code, 0, after.stdout)
    assert.ok(lines(after.stdout).every((line) => line.endsWith(": ok")))

    const again = await script("apply-all.sh", ["--apply"], env, ns)
    assert.deepEqual([again.code, again.stdout], [0, ""])
  })
})

describe("hardening scripts: miner detector (60-miner-detector)", () => {
  const children: Array<ChildProcess> = []
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "deploymcp-miner-"))
  })
  after(async () => {
    for (const child of children) child.kill("SIGKILL")
    await rm(dir, { recursive: true, force: true })
  })

  // comm is cut at 15 characters; "xmrig-<pid>" fits and is unique to this run.
  const minerName = `xmrig-${process.pid}`

  /** A harmless process whose name is a miner's: `sleep` started through a symlink called xmrig-<pid>. */
  async function fakeMiner() {
    const path = join(dir, minerName)
    if (!existsSync(path)) await symlink((await run("sh", ["-c", "command -v sleep"])).stdout.trim(), path)
    const child = spawn(path, ["600"], { stdio: "ignore" })
    children.push(child)
    await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject))
    return child
  }

  test("check reports a process named like a miner; the CPU threshold filters idle ones; apply kills it", async () => {
    const miner = await fakeMiner()
    const pid = String(miner.pid)

    // The real threshold (50%) skips an idle process; 0 makes every process a candidate.
    const idle = await script("60-miner-detector.sh", ["--check"], {})
    assert.ok(!idle.stdout.includes(`pid ${pid} `), idle.stdout)

    const checked = await script("60-miner-detector.sh", ["--check"], { MINER_CPU_THRESHOLD: "0" })
    assert.equal(checked.code, 1)
    assert.ok(
      lines(checked.stdout).some((line) => line.startsWith(`DRIFT 60-miner-detector: pid ${pid} (${minerName}) at `) && line.endsWith("matches miner signature 'xmrig'")),
      checked.stdout
    )

    // Apply kills machine-wide; the signature is narrowed to this run's process so
    // parallel test files cannot be hit.
    const exited = new Promise((resolve) => miner.once("exit", (_code, signal) => resolve(signal)))
    const applied = await script("60-miner-detector.sh", ["--apply"], { MINER_CPU_THRESHOLD: "0", MINER_SIGNATURES: minerName })
    assert.equal(applied.code, 0, applied.stderr)
    assert.match(applied.stdout, /^APPLIED 60-miner-detector: stopped suspected cryptominers$/m)
    assert.match(applied.stderr, new RegExp(`killed pid ${pid} \\(${minerName}\\)`))
    assert.equal(await exited, "SIGKILL")
  })

  test("check reports a process connected to a mining-pool port, whatever its name", async (t) => {
    const pool = await listenOnFirstFree([3333, 14444, 45700])
    if (pool === undefined) return t.skip("all probed mining-pool ports are in use on this machine")
    t.after(() => pool.server.close())
    const client = spawn(
      process.execPath,
      ["-e", `require("node:net").connect(${pool.port}, "127.0.0.1").once("connect", () => console.log("connected")); setInterval(() => {}, 1 << 30)`],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    children.push(client)
    await waitForLine(client, /^connected$/)

    const checked = await script("60-miner-detector.sh", ["--check"], { MINER_CPU_THRESHOLD: "0" })
    assert.equal(checked.code, 1)
    assert.ok(
      lines(checked.stdout).some((line) => line.includes(`pid ${client.pid} `) && line.endsWith(`connects to mining-pool port ${pool.port}`)),
      checked.stdout
    )
  })
})

async function listenOnFirstFree(ports: ReadonlyArray<number>): Promise<{ server: Server; port: number } | undefined> {
  for (const port of ports) {
    const server = createServer((socket) => socket.on("error", () => {}))
    const listening = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false))
      server.listen(port, "127.0.0.1", () => resolve(true))
    })
    if (listening) return { server, port }
  }
  return undefined
}
