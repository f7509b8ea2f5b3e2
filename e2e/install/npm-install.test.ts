/**
 * `npm install` on a machine's own Node (20 or newer, as the README says) is quiet: the project
 * runs on the Node 24 it installs, so dependencies asking for Node 22+ in `engines` are no reason
 * for warnings. npm here is the machine's, run outside node_modules/.bin (where `node` is 24).
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { copyFile, readFile } from "node:fs/promises"
import path from "node:path"
import { test } from "node:test"
import { removeDir, tempDir } from "../support/postgres.ts"

const root = path.resolve(import.meta.dirname, "../..")

/** PATH without any node_modules/.bin, so `npm` and the `node` it runs are the machine's. */
const machinePath = (process.env.PATH ?? "")
  .split(path.delimiter)
  .filter((dir) => dir !== "" && !dir.includes(`node_modules${path.sep}.bin`))
  .join(path.delimiter)

const machineTool = (name: string): string | undefined =>
  machinePath.split(path.delimiter).map((dir) => path.join(dir, name)).find((file) => existsSync(file))

const dryRunInstall = async (files: ReadonlyArray<string>) => {
  const dir = await tempDir("npm-install")
  try {
    for (const file of files) await copyFile(path.join(root, file), path.join(dir, file))
    const result = spawnSync("npm", ["install", "--dry-run", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], {
      cwd: dir,
      // An empty cache: the lockfile alone must do, as on a fresh machine before its first install.
      env: { PATH: machinePath, HOME: dir, npm_config_cache: path.join(dir, "cache") },
      encoding: "utf8",
      timeout: 120_000
    })
    return { status: result.status, output: `${result.stdout}${result.stderr}` }
  } finally {
    await removeDir(dir)
  }
}

const machineNodeMajor = (): number | undefined => {
  const node = machineTool("node")
  if (!node) return undefined
  const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim()
  return Number(/^v(\d+)/.exec(version)?.[1])
}

test("the README's Node requirement is the one package.json declares", async () => {
  const readme = await readFile(path.join(root, "README.md"), "utf8")
  const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## Using it"))
  const stated = /Node\.js (\d+) or newer/.exec(quickStart)?.[1]
  assert.ok(stated, "the Quick start names the Node version it needs")
  const pkg = JSON.parse(await readFile(path.join(root, "package.json"), "utf8")) as { engines: { node: string } }
  assert.equal(pkg.engines.node, `>=${stated}`)
})

test("npm install on the machine's Node prints no EBADENGINE warning", { skip: machineTool("npm") ? false : "no npm outside node_modules" }, async () => {
  const quiet = await dryRunInstall(["package.json", "package-lock.json", ".npmrc"])
  assert.equal(quiet.status, 0, quiet.output)
  assert.match(quiet.output, /added \d+ packages/)
  assert.doesNotMatch(quiet.output, /EBADENGINE|npm warn/i)
  const major = machineNodeMajor()
  if (major !== undefined && major < 22) {
    // Shows the check can fail: on Node 20, without the project's .npmrc, npm warns about the
    // dependencies that ask for Node 22.
    const loud = await dryRunInstall(["package.json", "package-lock.json"])
    assert.match(loud.output, /EBADENGINE/)
  }
})
