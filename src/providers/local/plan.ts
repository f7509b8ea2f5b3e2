/**
 * How to build and run a checked-out commit on this machine, read from the files it contains and
 * the App's spec. The result is plain JSON, recorded on the deployment, so what ran can be read
 * back later and a rebuild of the same deployment does the same thing.
 *
 * The folder is tenant-controlled: files read are size-capped, and any file that resolves (through
 * symbolic links) outside the folder is refused rather than followed.
 */
import { constants } from "node:fs"
import { access, open, realpath, stat } from "node:fs/promises"
import path from "node:path"
import { Effect, Schema } from "effect"
import { quoteShellArg } from "../ssh/shell-quote.ts"

export type BuildPack = "nixpacks" | "static" | "dockerfile" | "dockercompose"

export interface PlanCommands {
  readonly install?: string | undefined
  readonly build?: string | undefined
  readonly start?: string | undefined
}

export interface PlanSpec {
  readonly buildPack: BuildPack
  readonly commands?: PlanCommands | undefined
  readonly port?: number | undefined
}

/** Files served as they are; no process runs. `root` is relative to the checkout. */
export interface StaticPlan {
  readonly kind: "static"
  readonly install?: string
  readonly build?: string
  /**
   * The folder to serve. Absent when a build runs first: the build creates it, so call
   * resolveStaticRoot after the build.
   */
  readonly root?: string
}

/** Shell commands run in the checkout, in order: install, build, then start (the long-running process). */
export interface ProcessPlan {
  readonly kind: "process"
  readonly install?: string
  readonly build?: string
  readonly start: string
  /** Where the start command came from. */
  readonly detectedFrom: "package.json" | "Procfile" | "python" | "spec"
  readonly port?: number
}

export type Plan = StaticPlan | ProcessPlan

/** Nothing in the folder says how to run it. */
export class PlanUndetectable extends Schema.TaggedError<PlanUndetectable>()("PlanUndetectable", {
  buildPack: Schema.String,
  /** What was looked for, e.g. ["package.json scripts.start", "Procfile web:"]. */
  lookedFor: Schema.Array(Schema.String),
  message: Schema.String
}) {}

/** The build pack needs something this machine does not have (a Docker engine). */
export class RuntimeUnsupported extends Schema.TaggedError<RuntimeUnsupported>()("RuntimeUnsupported", {
  buildPack: Schema.String,
  message: Schema.String
}) {}

/** A file or a spec command is unusable: too large, not valid JSON, or pointing outside the folder. */
export class PlanInvalid extends Schema.TaggedError<PlanInvalid>()("PlanInvalid", {
  /** The file (relative to the checkout) or spec field at fault. */
  subject: Schema.String,
  message: Schema.String
}) {}

export type PlanError = PlanUndetectable | RuntimeUnsupported | PlanInvalid

export interface DetectOptions {
  /** Whether Python apps can run here; default: whether `python3` is on `searchPath`. */
  readonly python3Available?: boolean | undefined
  /** The PATH builds and apps run with (the sandbox's, not the server's); default: the server's PATH. */
  readonly searchPath?: string | undefined
}

const MAX_PACKAGE_JSON_BYTES = 1024 * 1024
const MAX_PROCFILE_BYTES = 64 * 1024
const MAX_COMMAND_LENGTH = 4096
const STATIC_ROOTS = ["dist", "build", "public", "."] as const
const NODE_ENTRY_FALLBACKS = ["index.js", "server.js"] as const
const PYTHON_ENTRIES = ["main.py", "app.py"] as const

// ---------------------------------------------------------------------------------------------
// Reading the tenant's folder

/** The real path of `relative` inside `realRoot`, undefined when absent; a path that leaves the folder fails. */
const resolveInside = (realRoot: string, relative: string): Effect.Effect<string | undefined, PlanInvalid> =>
  Effect.tryPromise({
    try: async () => {
      try {
        return await realpath(path.join(realRoot, relative))
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code
        if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return undefined
        throw cause
      }
    },
    catch: (cause) => new PlanInvalid({ subject: relative, message: `Could not read ${relative}: ${String(cause)}.` })
  }).pipe(
    Effect.flatMap((real) =>
      real === undefined || real === realRoot || real.startsWith(realRoot + path.sep)
        ? Effect.succeed(real)
        : Effect.fail(
          new PlanInvalid({
            subject: relative,
            message: `${relative} is a symbolic link that points outside the repository; replace it with the real file.`
          })
        )
    )
  )

const kindOf = (real: string) =>
  Effect.promise(() => stat(real).then((s) => (s.isFile() ? "file" : s.isDirectory() ? "directory" : "other"), () => "other"))

const isFile = (realRoot: string, relative: string) =>
  resolveInside(realRoot, relative).pipe(Effect.flatMap((real) => (real === undefined ? Effect.succeed(false) : Effect.map(kindOf(real), (k) => k === "file"))))

/** Reads a small text file of the folder; undefined when it does not exist. */
const readSmallFile = (realRoot: string, relative: string, maxBytes: number) =>
  Effect.gen(function*() {
    const real = yield* resolveInside(realRoot, relative)
    if (real === undefined || (yield* kindOf(real)) !== "file") return undefined
    return yield* Effect.tryPromise({
      try: async () => {
        const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW)
        try {
          // Read one byte past the cap, so a file that grew after a stat is still caught.
          const buffer = Buffer.alloc(maxBytes + 1)
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
          return bytesRead > maxBytes ? undefined : buffer.subarray(0, bytesRead).toString("utf8")
        } finally {
          await handle.close()
        }
      },
      catch: (cause) => new PlanInvalid({ subject: relative, message: `Could not read ${relative}: ${String(cause)}.` })
    }).pipe(
      Effect.flatMap((text) =>
        text === undefined
          ? Effect.fail(new PlanInvalid({ subject: relative, message: `${relative} is larger than ${Math.round(maxBytes / 1024)} KB; that is not a real ${relative}.` }))
          : Effect.succeed(text)
      )
    )
  })

// ---------------------------------------------------------------------------------------------
// What each kind of project says

interface Detected {
  readonly install?: string
  readonly build?: string
  readonly start?: string
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)
const nonEmptyString = (value: unknown): value is string => typeof value === "string" && value.trim() !== ""

const fromPackageJson = Effect.fnUntraced(function*(realRoot: string) {
  const text = yield* readSmallFile(realRoot, "package.json", MAX_PACKAGE_JSON_BYTES)
  if (text === undefined) return undefined
  let manifest: unknown
  try {
    manifest = JSON.parse(text)
  } catch (cause) {
    return yield* new PlanInvalid({ subject: "package.json", message: `package.json is not valid JSON (${(cause as Error).message}); fix it so its scripts can be read.` })
  }
  if (!isRecord(manifest)) return yield* new PlanInvalid({ subject: "package.json", message: "package.json must be a JSON object." })
  const scripts = isRecord(manifest["scripts"]) ? manifest["scripts"] : {}
  const dependencyCount = ["dependencies", "devDependencies", "optionalDependencies"]
    .map((field) => manifest[field])
    .reduce<number>((count, deps) => count + (isRecord(deps) ? Object.keys(deps).length : 0), 0)
  const lockfile = yield* isFile(realRoot, "package-lock.json")
  const install = dependencyCount === 0 ? undefined : lockfile ? "npm ci" : "npm install"
  const build = nonEmptyString(scripts["build"]) ? "npm run build" : undefined
  const start = nonEmptyString(scripts["start"]) ? "npm start" : yield* nodeEntry(realRoot, manifest["main"])
  return { install, build, start } satisfies Detected
})

/** `node <main>` when main names a file that exists (as node would resolve it), else index.js or server.js. */
const nodeEntry = Effect.fnUntraced(function*(realRoot: string, main: unknown) {
  const candidates: Array<string> = []
  if (nonEmptyString(main) && main.length <= 1024 && !main.includes("\0")) {
    const relative = path.normalize(main)
    candidates.push(relative, `${relative}.js`, path.join(relative, "index.js"))
  }
  candidates.push(...NODE_ENTRY_FALLBACKS)
  for (const candidate of candidates) {
    if (yield* isFile(realRoot, candidate)) return `node ${quoteShellArg(candidate)}`
  }
  return undefined
})

const fromProcfile = Effect.fnUntraced(function*(realRoot: string) {
  const text = yield* readSmallFile(realRoot, "Procfile", MAX_PROCFILE_BYTES)
  if (text === undefined) return undefined
  const line = text.split("\n").map((l) => l.replace(/\r$/, "")).find((l) => /^web\s*:/.test(l))
  const command = line?.slice(line.indexOf(":") + 1).trim()
  if (command === undefined || command === "") return undefined
  if (command.length > MAX_COMMAND_LENGTH) {
    return yield* new PlanInvalid({ subject: "Procfile", message: `The Procfile's web: command is longer than ${MAX_COMMAND_LENGTH} characters.` })
  }
  return command
})

const fromPython = Effect.fnUntraced(function*(realRoot: string, available: boolean) {
  if (!available) return undefined
  const requirements = yield* isFile(realRoot, "requirements.txt")
  let entry: string | undefined
  for (const candidate of PYTHON_ENTRIES) {
    if (entry === undefined && (yield* isFile(realRoot, candidate))) entry = candidate
  }
  if (!requirements && entry === undefined) return undefined
  // A virtualenv in the checkout: the build installs into the deployment's own folder, nothing global.
  const python = requirements ? ".venv/bin/python" : "python3"
  return {
    install: requirements ? "python3 -m venv .venv && .venv/bin/pip install --no-input -r requirements.txt" : undefined,
    start: entry === undefined ? undefined : `${python} ${entry}`
  } satisfies Detected
})

const python3OnPath = (searchPath: string): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    for (const folder of searchPath.split(path.delimiter)) {
      if (folder === "") continue
      const found = await access(path.join(folder, "python3"), constants.X_OK).then(() => true, () => false)
      if (found) return true
    }
    return false
  })

// ---------------------------------------------------------------------------------------------

const checkCommands = (commands: PlanCommands | undefined): Effect.Effect<Detected, PlanInvalid> => {
  const result: { install?: string; build?: string; start?: string } = {}
  for (const field of ["install", "build", "start"] as const) {
    const value = commands?.[field]
    if (value === undefined || value.trim() === "") continue
    if (value.length > MAX_COMMAND_LENGTH || value.includes("\0")) {
      return Effect.fail(new PlanInvalid({ subject: `commands.${field}`, message: `commands.${field} must be at most ${MAX_COMMAND_LENGTH} characters, without NUL bytes.` }))
    }
    result[field] = value.trim()
  }
  return Effect.succeed(result)
}

const realFolder = (dir: string) =>
  Effect.tryPromise({
    try: () => realpath(dir),
    catch: (cause) => new PlanInvalid({ subject: ".", message: `The checkout ${dir} cannot be read: ${String(cause)}.` })
  })

/** Omits undefined fields, so the recorded plan is the same JSON however it was built. */
const compact = <A extends object>(value: A): A => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as A

/**
 * The first of dist/, build/, public/ and the folder itself that has an index.html, relative to
 * the checkout. For static sites with a build: call after the build.
 */
export const resolveStaticRoot = Effect.fn("LocalPlan.resolveStaticRoot")(function*(dir: string): Effect.fn.Return<string, PlanUndetectable | PlanInvalid> {
  const realRoot = yield* realFolder(dir)
  for (const candidate of STATIC_ROOTS) {
    if (yield* isFile(realRoot, path.join(candidate, "index.html"))) return candidate
  }
  return yield* new PlanUndetectable({
    buildPack: "static",
    lookedFor: STATIC_ROOTS.map((root) => (root === "." ? "index.html" : `${root}/index.html`)),
    message:
      "No index.html in dist/, build/, public/ or the repository root, so there is nothing to serve. Commit an index.html, or set commands.build to a command that writes one into dist/."
  })
})

export const detectPlan = Effect.fn("LocalPlan.detectPlan")(function*(dir: string, spec: PlanSpec, options: DetectOptions = {}): Effect.fn.Return<Plan, PlanError> {
  if (spec.buildPack === "dockerfile" || spec.buildPack === "dockercompose") {
    return yield* new RuntimeUnsupported({
      buildPack: spec.buildPack,
      message: `The ${spec.buildPack} build pack needs a Docker engine, and the local runtime has none: it runs apps as plain processes on this machine. Use the nixpacks or static build pack, or run this server with the coolify runtime (APP_RUNTIME=coolify with COOLIFY_URL), which can build it.`
    })
  }
  if (spec.buildPack !== "nixpacks" && spec.buildPack !== "static") {
    return yield* new PlanInvalid({ subject: "buildPack", message: `Unknown build pack "${String(spec.buildPack).slice(0, 40)}": use nixpacks, static, dockerfile or dockercompose.` })
  }
  const commands = yield* checkCommands(spec.commands)
  const realRoot = yield* realFolder(dir)
  const node = yield* fromPackageJson(realRoot)

  if (spec.buildPack === "static") {
    // A site generator with a build script builds first; a folder of files is served as it is.
    const build = commands.build ?? node?.build
    if (build === undefined) return compact({ kind: "static", install: commands.install, root: yield* resolveStaticRoot(dir) } satisfies StaticPlan)
    return compact({ kind: "static", install: commands.install ?? node?.install, build } satisfies StaticPlan)
  }

  const procfile = yield* fromProcfile(realRoot)
  const python = node === undefined ? yield* fromPython(realRoot, options.python3Available ?? (yield* python3OnPath(options.searchPath ?? process.env.PATH ?? ""))) : undefined
  const [start, detectedFrom] =
    commands.start !== undefined ? [commands.start, "spec" as const]
    : procfile !== undefined ? [procfile, "Procfile" as const]
    : node?.start !== undefined ? [node.start, "package.json" as const]
    : python?.start !== undefined ? [python.start, "python" as const]
    : [undefined, undefined]
  if (start === undefined) {
    const lookedFor = [
      "package.json scripts.start or main (or index.js / server.js)",
      "a Procfile with a web: line",
      options.python3Available === false ? "Python (python3 is not installed here)" : "main.py or app.py (Python)",
      "commands.start"
    ]
    return yield* new PlanUndetectable({
      buildPack: spec.buildPack,
      lookedFor,
      message: node !== undefined
        ? "package.json has no start script and there is no index.js or server.js to run: add a start script to package.json, a Procfile with a web: line, or set commands.start."
        : "Found nothing to run: add a start script to package.json, a Procfile with a web: line, or set commands.start."
    })
  }
  return compact({
    kind: "process",
    install: commands.install ?? node?.install ?? python?.install,
    build: commands.build ?? node?.build,
    start,
    detectedFrom,
    port: spec.port
  } satisfies ProcessPlan)
})
