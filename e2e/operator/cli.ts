/**
 * Running the operator CLI as a child process, the way an operator does, and collecting what it
 * printed. The entry is src/cli/main.ts; `watch` returns a handle for --watch runs.
 */
import { spawn, type ChildProcess } from "node:child_process"
import path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
export const CLI_ENTRY = path.join(root, "src/cli/main.ts")

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const start = (args: ReadonlyArray<string>, env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })

export const runCli = (args: ReadonlyArray<string>, env: Record<string, string>): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = start(args, env)
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** A long-running CLI (--watch): read its output as it comes, then stop it with a signal. */
export const startCli = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const child = start(args, env)
  let stdout = ""
  let stderr = ""
  const waiters: Array<() => void> = []
  const notify = () => waiters.splice(0).forEach((wake) => wake())
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
    notify()
  })
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
    notify()
  })
  const closed = new Promise<CliResult>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })))
  let exited = false
  void closed.then(() => {
    exited = true
    notify()
  })
  return {
    get stdout() {
      return stdout
    },
    /** Resolves once stdout satisfies `check`; rejects if the process ends first. */
    async waitForOutput(check: (stdout: string) => boolean, what: string): Promise<string> {
      while (!check(stdout)) {
        if (exited) throw new Error(`CLI exited before printing ${what}; stdout: ${stdout} stderr: ${stderr}`)
        await new Promise<void>((resolve) => waiters.push(resolve))
      }
      return stdout
    },
    stop(signal: NodeJS.Signals = "SIGTERM"): Promise<CliResult> {
      child.kill(signal)
      return closed
    }
  }
}
