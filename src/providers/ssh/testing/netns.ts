/**
 * Throwaway Linux network namespaces for testing firewall scripts for real
 * without touching the machine's own rules. Needs root, iproute2 and iptables/nft.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { promisify } from "node:util"

const run = promisify(execFile)

let counter = 0

/** Why namespaces cannot be used here, or undefined when they can. */
export async function netnsUnavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "network namespaces need root"
  const probe = `dmcp-probe-${process.pid}`
  try {
    await run("ip", ["netns", "add", probe])
    await run("ip", ["netns", "del", probe])
    return undefined
  } catch (error) {
    return `cannot create a network namespace (ip netns add failed: ${(error as Error).message.split("\n")[0]})`
  }
}

export interface Netns {
  readonly name: string
  /** Runs argv inside the namespace; resolves with the exit code instead of throwing. */
  exec(argv: ReadonlyArray<string>, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>
  /** Starts a long-running process inside the namespace. */
  spawn(argv: ReadonlyArray<string>): ChildProcess
  remove(): Promise<void>
}

export async function createNetns(label: string): Promise<Netns> {
  const name = `dmcp-${label}-${process.pid}-${++counter}`
  await run("ip", ["netns", "add", name])
  await run("ip", ["-n", name, "link", "set", "lo", "up"])
  return {
    name,
    async exec(argv, env) {
      try {
        const { stdout, stderr } = await run("ip", ["netns", "exec", name, ...argv], { env: { ...process.env, ...env } })
        return { code: 0, stdout, stderr }
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string }
        return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" }
      }
    },
    spawn: (argv) => spawn("ip", ["netns", "exec", name, ...argv], { stdio: ["ignore", "pipe", "pipe"] }),
    async remove() {
      await run("ip", ["netns", "del", name])
    }
  }
}

/** Connects namespace `a` (address `aAddress`, CIDR) to `b` (`bAddress`) with a veth pair. */
export async function link(a: Netns, aAddress: string, b: Netns, bAddress: string): Promise<void> {
  const suffix = `${process.pid % 10000}${++counter}`
  const aEnd = `va${suffix}`
  const bEnd = `vb${suffix}`
  await run("ip", ["link", "add", aEnd, "netns", a.name, "type", "veth", "peer", "name", bEnd, "netns", b.name])
  await run("ip", ["-n", a.name, "addr", "add", aAddress, "dev", aEnd])
  await run("ip", ["-n", b.name, "addr", "add", bAddress, "dev", bEnd])
  await run("ip", ["-n", a.name, "link", "set", aEnd, "up"])
  await run("ip", ["-n", b.name, "link", "set", bEnd, "up"])
}

/** Resolves with the first stdout line of `child` matching `pattern`; rejects if it exits first. */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    let stderr = ""
    child.stderr?.on("data", (chunk) => (stderr += chunk))
    lines.on("line", (line) => {
      if (pattern.test(line)) resolve(line)
    })
    child.once("exit", (code) => reject(new Error(`process exited (${code}) before printing ${pattern}: ${stderr}`)))
  })
}
