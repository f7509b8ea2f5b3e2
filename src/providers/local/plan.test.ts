import assert from "node:assert/strict"
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import { Effect } from "effect"
import { detectPlan, resolveStaticRoot, type DetectOptions, type PlanSpec } from "./plan.ts"

describe("detectPlan", () => {
  let root: string
  let count = 0
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-plan-"))
  })
  after(() => rm(root, { recursive: true, force: true }))

  /** A fresh folder holding these files (a value of { link } makes a symbolic link). */
  const folder = async (files: Record<string, string | { link: string }>) => {
    const dir = path.join(root, `case-${++count}`)
    await mkdir(dir)
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(dir, name)
      await mkdir(path.dirname(file), { recursive: true })
      if (typeof content === "string") await writeFile(file, content)
      else await symlink(content.link, file)
    }
    return dir
  }
  const nixpacks: PlanSpec = { buildPack: "nixpacks" }
  const plan = (dir: string, spec: PlanSpec = nixpacks, options: DetectOptions = { python3Available: true }) =>
    Effect.runPromise(detectPlan(dir, spec, options))
  const fail = (dir: string, spec: PlanSpec = nixpacks, options: DetectOptions = { python3Available: true }) =>
    Effect.runPromise(Effect.flip(detectPlan(dir, spec, options)))
  const pkg = (manifest: object) => JSON.stringify(manifest)

  test("package.json with a lockfile, build and start scripts", async () => {
    const dir = await folder({
      "package.json": pkg({ scripts: { build: "tsc", start: "node dist/main.js" }, dependencies: { fastify: "^5" } }),
      "package-lock.json": "{}"
    })
    assert.deepEqual(await plan(dir), { kind: "process", install: "npm ci", build: "npm run build", start: "npm start", detectedFrom: "package.json" })
  })

  test("package.json without a lockfile installs with npm install; without dependencies installs nothing", async () => {
    const withDeps = await folder({ "package.json": pkg({ scripts: { start: "node ." }, devDependencies: { typescript: "5" } }) })
    assert.deepEqual(await plan(withDeps), { kind: "process", install: "npm install", start: "npm start", detectedFrom: "package.json" })
    const bare = await folder({ "package.json": pkg({ scripts: { start: "node server.js" } }) })
    assert.deepEqual(await plan(bare), { kind: "process", start: "npm start", detectedFrom: "package.json" })
  })

  test("no start script: node <main> when it exists, else index.js or server.js", async () => {
    const withMain = await folder({ "package.json": pkg({ main: "src/app" }), "src/app.js": "" })
    assert.deepEqual(await plan(withMain), { kind: "process", start: "node 'src/app.js'", detectedFrom: "package.json" })
    const quoted = await folder({ "package.json": pkg({ main: "it's $(evil).js" }), "it's $(evil).js": "" })
    assert.deepEqual(await plan(quoted), { kind: "process", start: `node 'it'\\''s $(evil).js'`, detectedFrom: "package.json" })
    const fallback = await folder({ "package.json": pkg({ main: "missing.js" }), "server.js": "" })
    assert.deepEqual(await plan(fallback), { kind: "process", start: "node 'server.js'", detectedFrom: "package.json" })
  })

  test("a Procfile web: line is the start command; package.json still installs and builds", async () => {
    const dir = await folder({
      "package.json": pkg({ scripts: { build: "vite build", start: "vite preview" }, dependencies: { vite: "5" } }),
      Procfile: "worker: node worker.js\r\nweb:  node server.js --port $PORT\r\n"
    })
    assert.deepEqual(await plan(dir), { kind: "process", install: "npm install", build: "npm run build", start: "node server.js --port $PORT", detectedFrom: "Procfile" })
  })

  test("Python only when python3 is available", async () => {
    const dir = await folder({ "requirements.txt": "flask\n", "app.py": "print('hi')\n" })
    assert.deepEqual(await plan(dir), {
      kind: "process",
      install: "python3 -m venv .venv && .venv/bin/pip install --no-input -r requirements.txt",
      start: ".venv/bin/python app.py",
      detectedFrom: "python"
    })
    const plain = await folder({ "main.py": "print('hi')\n" })
    assert.deepEqual(await plan(plain), { kind: "process", start: "python3 main.py", detectedFrom: "python" })
    const error = await fail(dir, nixpacks, { python3Available: false })
    assert.equal(error._tag, "PlanUndetectable")
    assert.ok(error._tag === "PlanUndetectable" && error.lookedFor.some((item) => item.includes("python3 is not installed")))
  })

  test("spec commands override each detected part, and alone are enough", async () => {
    const dir = await folder({ "package.json": pkg({ scripts: { build: "tsc", start: "node ." }, dependencies: { a: "1" } }) })
    assert.deepEqual(await plan(dir, { buildPack: "nixpacks", commands: { install: "npm ci --omit=dev", start: "node dist/index.js" }, port: 3000 }), {
      kind: "process",
      install: "npm ci --omit=dev",
      build: "npm run build",
      start: "node dist/index.js",
      detectedFrom: "spec",
      port: 3000
    })
    const empty = await folder({})
    assert.deepEqual(await plan(empty, { buildPack: "nixpacks", commands: { start: "./run.sh" } }), { kind: "process", start: "./run.sh", detectedFrom: "spec" })
  })

  test("nothing to run is PlanUndetectable saying how to fix it", async () => {
    const error = await fail(await folder({ "README.md": "hello" }))
    assert.equal(error._tag, "PlanUndetectable")
    assert.match(error.message, /add a start script to package\.json, a Procfile with a web: line, or set commands\.start/)
    const noStart = await fail(await folder({ "package.json": pkg({ scripts: { test: "node --test" } }) }))
    assert.match(noStart.message, /package\.json has no start script/)
  })

  test("dockerfile and dockercompose are RuntimeUnsupported pointing at the coolify runtime", async () => {
    const dir = await folder({ Dockerfile: "FROM node" })
    for (const buildPack of ["dockerfile", "dockercompose"] as const) {
      const error = await fail(dir, { buildPack })
      assert.equal(error._tag, "RuntimeUnsupported")
      assert.match(error.message, /no(ne)? Docker engine|has none/)
      assert.match(error.message, /coolify runtime/)
    }
  })

  test("static: the first of dist/, build/, public/, . with index.html; with a build the root is resolved afterwards", async () => {
    const spec: PlanSpec = { buildPack: "static" }
    assert.deepEqual(await plan(await folder({ "index.html": "<h1>", "public/index.html": "<h1>" }), spec), { kind: "static", root: "public" })
    assert.deepEqual(await plan(await folder({ "index.html": "<h1>", "public/other.html": "" }), spec), { kind: "static", root: "." })
    const site = await folder({ "package.json": pkg({ scripts: { build: "vite build" }, devDependencies: { vite: "5" } }), "package-lock.json": "{}" })
    assert.deepEqual(await plan(site, spec), { kind: "static", install: "npm ci", build: "npm run build" })
    assert.deepEqual(await plan(site, { buildPack: "static", commands: { build: "make site" } }), { kind: "static", install: "npm ci", build: "make site" })
    await mkdir(path.join(site, "dist"))
    await writeFile(path.join(site, "dist", "index.html"), "<h1>built")
    assert.equal(await Effect.runPromise(resolveStaticRoot(site)), "dist")
    const error = await fail(await folder({ "README.md": "" }), spec)
    assert.equal(error._tag, "PlanUndetectable")
    assert.match(error.message, /No index\.html in dist\/, build\/, public\/ or the repository root/)
  })

  test("hostile folders: links out of the folder, oversized and invalid files are refused", async () => {
    const outside = await folder({ "secret.json": pkg({ scripts: { start: "leak" } }), "site/index.html": "<h1>" })
    const linked = await fail(await folder({ "package.json": { link: path.join(outside, "secret.json") } }))
    assert.equal(linked._tag, "PlanInvalid")
    assert.match(linked.message, /package\.json is a symbolic link that points outside the repository/)
    const linkedProcfile = await fail(await folder({ Procfile: { link: "/etc/passwd" } }))
    assert.equal(linkedProcfile._tag, "PlanInvalid")
    const linkedRoot = await fail(await folder({ dist: { link: path.join(outside, "site") } }), { buildPack: "static" })
    assert.equal(linkedRoot._tag, "PlanInvalid")
    // A link that stays inside is fine.
    assert.deepEqual(await plan(await folder({ "real.json": pkg({ scripts: { start: "node ." } }), "package.json": { link: "real.json" } })), {
      kind: "process",
      start: "npm start",
      detectedFrom: "package.json"
    })
    const huge = await fail(await folder({ "package.json": `{"x":"${"a".repeat(1024 * 1024)}"}` }))
    assert.match(huge.message, /package\.json is larger than 1024 KB/)
    const broken = await fail(await folder({ "package.json": "{ nope" }))
    assert.match(broken.message, /package\.json is not valid JSON/)
    const longCommand = await fail(await folder({}), { buildPack: "nixpacks", commands: { start: "x".repeat(5000) } })
    assert.equal(longCommand._tag, "PlanInvalid")
  })
})
