/**
 * `npm run bench`: every bench/*.ts in turn (or those named: `npm run bench -- store engine`), each
 * in its own process. Benches print ratios against a baseline measured in the same run.
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import path from "node:path"

const dir = import.meta.dirname
const wanted = process.argv.slice(2)
const benches = readdirSync(dir)
  .filter((file) => file.endsWith(".ts") && !["run.ts", "support.ts"].includes(file))
  .filter((file) => wanted.length === 0 || wanted.includes(path.basename(file, ".ts")))
  .sort()
let failed = 0
for (const bench of benches) {
  const result = spawnSync(process.execPath, [path.join(dir, bench)], { stdio: "inherit" })
  if (result.status !== 0) {
    failed++
    process.stdout.write(`bench ${bench} exited with ${result.status}\n`)
  }
}
process.exitCode = failed ? 1 : 0
