/**
 * Fetching an app's source with the real `git` CLI into the app's bare mirror, and materialising
 * one exact commit into a deployment folder.
 *
 * Credentials (a GitHub installation token) travel only in the child's environment, as an
 * `http.extraHeader` set through GIT_CONFIG_COUNT: never in argv (visible in `ps`), a URL, a config
 * file or a log line, and every error text is scrubbed of them. Git runs with no system or global
 * config, so no credential helper can store them and no operator setting changes what we fetch.
 */
import { spawn } from "node:child_process"
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Duration, Effect, Schema } from "effect"

/** A git command failed for a reason other than a missing branch or commit (network, permissions, timeout, a broken mirror). */
export class GitFailed extends Schema.TaggedError<GitFailed>()("GitFailed", {
  /** Which step failed: "init", "fetch", "ls-remote", "rev-parse", "checkout", … */
  step: Schema.String,
  message: Schema.String,
  /** The end of git's stderr, credentials removed. */
  stderrTail: Schema.String
}) {}

/** The repository was reached but has no such branch. */
export class GitBranchNotFound extends Schema.TaggedError<GitBranchNotFound>()("GitBranchNotFound", {
  url: Schema.String,
  branch: Schema.String,
  /** Branches the repository does have (at most a few dozen). */
  available: Schema.Array(Schema.String),
  message: Schema.String
}) {}

/** The commit is neither on the branch nor fetchable by its id. */
export class GitCommitNotFound extends Schema.TaggedError<GitCommitNotFound>()("GitCommitNotFound", {
  url: Schema.String,
  sha: Schema.String,
  message: Schema.String
}) {}

/** A URL, branch, commit id or folder the caller passed is not usable; nothing was run. */
export class GitInvalidInput extends Schema.TaggedError<GitInvalidInput>()("GitInvalidInput", {
  field: Schema.String,
  message: Schema.String
}) {}

export type GitError = GitFailed | GitBranchNotFound | GitCommitNotFound | GitInvalidInput

/** HTTP Basic credentials; for a GitHub installation token: `{ username: "x-access-token", password: token }`. */
export interface GitCredentials {
  readonly username: string
  readonly password: string
}

export interface FetchBranchInput {
  /** The app's bare mirror (AppPaths.mirror); created when missing. */
  readonly mirror: string
  /** `https://…` (or `http://…`) git URL, `file:///abs/path`, or an absolute local path. */
  readonly url: string
  readonly branch: string
  readonly credentials?: GitCredentials | undefined
  /** Whole-command limit; default 10 minutes. */
  readonly timeoutMs?: number | undefined
}

export interface EnsureCommitInput extends FetchBranchInput {
  readonly sha: string
}

export interface CheckoutInput {
  readonly mirror: string
  readonly sha: string
  /** A deployment folder (buildDir); created, or reused when it already holds exactly this commit. */
  readonly into: string
  readonly timeoutMs?: number | undefined
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000
const MAX_URL_LENGTH = 2048
const MAX_BRANCH_LENGTH = 255
const MAX_CREDENTIAL_LENGTH = 4096
const STDERR_TAIL_BYTES = 4096
const MAX_STDOUT_BYTES = 4 * 1024 * 1024
const LISTED_BRANCHES = 30
/** Written last into a checked-out folder: its presence means the checkout finished, its content says which commit. */
export const CHECKOUT_MARKER = ".deploy-mcp-checkout"

// ---------------------------------------------------------------------------------------------
// Input checks: every value reaches git as its own argv element, but is still checked first so an
// agent gets a sentence instead of git's usage text, and nothing can read as an option.

type Source = { readonly kind: "http"; readonly url: string } | { readonly kind: "local"; readonly url: string }

const classifySource = (url: string): Effect.Effect<Source, GitInvalidInput> => {
  const invalid = (message: string) => Effect.fail(new GitInvalidInput({ field: "url", message }))
  if (url.length === 0 || url.length > MAX_URL_LENGTH) return invalid(`The repository URL must be 1 to ${MAX_URL_LENGTH} characters long.`)
  if (/[\u0000-\u001f\u007f]/.test(url)) return invalid("The repository URL contains control characters.")
  if (path.isAbsolute(url)) return Effect.succeed({ kind: "local", url: path.resolve(url) })
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return invalid(`"${url.slice(0, 200)}" is not a repository URL: use https://host/owner/repo(.git), file:///absolute/path or an absolute path.`)
  }
  if (parsed.protocol === "file:") {
    if (parsed.host !== "") return invalid("A file: repository URL must be file:///absolute/path (no host).")
    return Effect.succeed({ kind: "local", url: fileURLToPath(parsed) })
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return invalid(`Repository URLs must use https:// (or a local path), not ${parsed.protocol}//.`)
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return invalid("The repository URL must not contain a user name or password: pass credentials separately, so they are never stored with the URL.")
  }
  return Effect.succeed({ kind: "http", url: parsed.href })
}

/** git's ref-name rules (git-check-ref-format), for a branch name. */
export const branchNameProblem = (branch: string): string | undefined => {
  if (branch.length === 0 || branch.length > MAX_BRANCH_LENGTH) return `must be 1 to ${MAX_BRANCH_LENGTH} characters long`
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(branch)) return "must not contain spaces, control characters or any of ~ ^ : ? * [ \\"
  if (branch.startsWith("-")) return "must not start with '-'"
  if (branch.startsWith("/") || branch.endsWith("/") || branch.includes("//")) return "must not start or end with '/' or contain '//'"
  if (branch.includes("..") || branch.includes("@{") || branch === "@") return "must not contain '..' or '@{' or be '@'"
  if (branch.endsWith(".")) return "must not end with '.'"
  for (const component of branch.split("/")) {
    if (component.startsWith(".") || component.endsWith(".lock")) return "no part between slashes may start with '.' or end with '.lock'"
  }
  return undefined
}

const checkBranch = (branch: string) => {
  const problem = branchNameProblem(branch)
  return problem === undefined
    ? Effect.void
    : Effect.fail(new GitInvalidInput({ field: "branch", message: `The branch name "${branch.slice(0, 100)}" is not valid: it ${problem}.` }))
}

const checkSha = (sha: string): Effect.Effect<string, GitInvalidInput> =>
  sha.length <= 64 && /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(sha)
    ? Effect.succeed(sha.toLowerCase())
    : Effect.fail(new GitInvalidInput({ field: "sha", message: `"${sha.slice(0, 80)}" is not a full commit id: give all 40 hexadecimal characters.` }))

const checkFolder = (field: string, folder: string) =>
  folder.length > 0 && folder.length <= 4096 && path.isAbsolute(folder)
    ? Effect.void
    : Effect.fail(new GitInvalidInput({ field, message: `The ${field} folder must be an absolute path (got "${folder.slice(0, 200)}").` }))

const checkCredentials = (credentials: GitCredentials | undefined) => {
  if (credentials === undefined) return Effect.void
  const { username, password } = credentials
  const fits = (value: string) => value.length > 0 && value.length <= MAX_CREDENTIAL_LENGTH && !/[\u0000-\u001f\u007f]/.test(value)
  return fits(username) && fits(password) && !username.includes(":")
    ? Effect.void
    : Effect.fail(new GitInvalidInput({ field: "credentials", message: "The git credentials must be a user name without ':' and a password, each 1 to 4096 printable characters." }))
}

// ---------------------------------------------------------------------------------------------
// Running git

interface GitRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

interface RunOptions {
  readonly step: string
  readonly timeoutMs: number
  readonly credentials?: GitCredentials | undefined
  /** Local repositories are read with the file protocol, which git otherwise refuses in some places. */
  readonly allowFile?: boolean
  readonly env?: Record<string, string>
}

const basicHeader = (credentials: GitCredentials) =>
  `Authorization: Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`

/** Removes every form in which the credentials could appear in git's output. */
const redactor = (credentials: GitCredentials | undefined) => {
  if (credentials === undefined) return (text: string) => text
  const secrets = [
    basicHeader(credentials).slice("Authorization: Basic ".length),
    `${credentials.username}:${credentials.password}`,
    encodeURIComponent(credentials.password),
    credentials.password
  ].filter((secret) => secret.length >= 4)
  return (text: string) => secrets.reduce((out, secret) => out.replaceAll(secret, "[REDACTED]"), text)
}

const PASSED_THROUGH = ["PATH", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"]

const gitEnvironment = (options: RunOptions): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const name of PASSED_THROUGH) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  const config: Array<readonly [string, string]> = [
    // Anything else (ext::, ssh, git://) could run commands or reach places the caller did not mean.
    ["protocol.allow", "never"],
    ["protocol.https.allow", "always"],
    ["protocol.http.allow", "always"],
    ["core.hooksPath", "/dev/null"],
    ["credential.helper", ""],
    // A stalled server must not hold a deployment for the whole timeout.
    ["http.lowSpeedLimit", "1000"],
    ["http.lowSpeedTime", "60"]
  ]
  if (options.allowFile) config.push(["protocol.file.allow", "always"])
  if (options.credentials !== undefined) config.push(["http.extraHeader", basicHeader(options.credentials)])
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key
    env[`GIT_CONFIG_VALUE_${index}`] = value
  })
  return {
    ...env,
    GIT_CONFIG_COUNT: String(config.length),
    HOME: os.tmpdir(),
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    ...options.env
  }
}

const tail = (text: string) => (text.length > STDERR_TAIL_BYTES ? text.slice(-STDERR_TAIL_BYTES) : text)
const lastLine = (text: string) => text.trim().split("\n").filter((line) => line.trim() !== "").at(-1)?.trim() ?? ""

/** Runs git with argv; a non-zero exit is a result, not a failure (callers interpret it). */
const runGit = (args: ReadonlyArray<string>, options: RunOptions): Effect.Effect<GitRun, GitFailed> => {
  const redact = redactor(options.credentials)
  const running = Effect.callback<GitRun, GitFailed>((resume) => {
    // Its own process group, so a timeout also ends git-remote-https and friends.
    const child = spawn("git", args, { env: gitEnvironment(options), stdio: ["ignore", "pipe", "pipe"], detached: true })
    const stdout: Array<Buffer> = []
    let stdoutBytes = 0
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      if (stdoutBytes < MAX_STDOUT_BYTES) stdout.push(chunk)
      stdoutBytes += chunk.length
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = tail(stderr + chunk.toString("utf8"))
    })
    child.once("error", (cause) =>
      resume(Effect.fail(new GitFailed({ step: options.step, message: `Could not run git (${cause.message}); is git installed and on PATH?`, stderrTail: "" })))
    )
    child.once("close", (code) => resume(Effect.succeed({ code, stdout: Buffer.concat(stdout).toString("utf8"), stderr: redact(stderr) })))
    return Effect.sync(() => {
      try {
        if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL")
      } catch {
        // already gone
      }
    })
  })
  return running.pipe(
    Effect.timeoutOrElse({
      duration: Duration.millis(options.timeoutMs),
      orElse: () =>
        Effect.fail(
          new GitFailed({
            step: options.step,
            message: `git ${args.find((arg) => !arg.startsWith("-")) ?? ""} did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped.`,
            stderrTail: ""
          })
        )
    })
  )
}

const gitOk = (args: ReadonlyArray<string>, options: RunOptions, describe: (stderr: string) => string) =>
  runGit(args, options).pipe(
    Effect.flatMap((run) =>
      run.code === 0
        ? Effect.succeed(run)
        : Effect.fail(new GitFailed({ step: options.step, message: `${describe(run.stderr)}: ${lastLine(run.stderr) || `git exited with ${run.code}`}`, stderrTail: run.stderr }))
    )
  )

const exists = (file: string) =>
  Effect.promise(() =>
    stat(file).then(
      () => true,
      () => false
    )
  )

const ensureMirror = Effect.fnUntraced(function*(mirror: string, timeoutMs: number) {
  if (yield* exists(path.join(mirror, "HEAD"))) return
  yield* Effect.tryPromise({
    try: () => mkdir(mirror, { recursive: true }),
    catch: (cause) => new GitFailed({ step: "init", message: `Could not create the mirror folder ${mirror}: ${String(cause)}`, stderrTail: "" })
  })
  yield* gitOk(["init", "--bare", "--quiet", mirror], { step: "init", timeoutMs }, () => `Could not create the mirror ${mirror}`)
})

const revParse = (mirror: string, rev: string, timeoutMs: number) =>
  runGit([`--git-dir=${mirror}`, "rev-parse", "--verify", "--quiet", `${rev}^{commit}`], { step: "rev-parse", timeoutMs }).pipe(
    Effect.map((run) => (run.code === 0 ? run.stdout.trim() : undefined))
  )

const listBranches = (source: Source, options: RunOptions) =>
  runGit(["ls-remote", "--heads", "--", source.url], { ...options, step: "ls-remote" }).pipe(
    Effect.map((run) =>
      run.code === 0
        ? run.stdout
          .split("\n")
          .map((line) => line.split("\t")[1] ?? "")
          .filter((ref) => ref.startsWith("refs/heads/"))
          .map((ref) => ref.slice("refs/heads/".length))
        : undefined
    )
  )

// Git's wording when the server answered but has no such ref (old and new transports).
const MISSING_REF = /couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i

const fetchBranchInto = Effect.fnUntraced(function*(mirror: string, source: Source, branch: string, options: RunOptions) {
  const run = yield* runGit(
    [`--git-dir=${mirror}`, "fetch", "--no-tags", "--no-write-fetch-head", "--", source.url, `+refs/heads/${branch}:refs/heads/${branch}`],
    options
  )
  if (run.code === 0) return
  if (MISSING_REF.test(run.stderr)) {
    const available = (yield* listBranches(source, options)) ?? []
    const listed = available.slice(0, LISTED_BRANCHES)
    const has = listed.length === 0
      ? "the repository has no branches at all (push one first)"
      : `the repository has: ${listed.join(", ")}${available.length > listed.length ? ", …" : ""}`
    return yield* new GitBranchNotFound({ url: source.url, branch, available: listed, message: `branch '${branch}' not found in ${source.url}; ${has}.` })
  }
  return yield* new GitFailed({
    step: "fetch",
    message: `Could not fetch branch '${branch}' from ${source.url}: ${lastLine(run.stderr) || `git exited with ${run.code}`}. Check that the repository exists and that this server may read it.`,
    stderrTail: run.stderr
  })
})

const prepare = Effect.fnUntraced(function*(input: FetchBranchInput) {
  yield* checkFolder("mirror", input.mirror)
  const source = yield* classifySource(input.url)
  yield* checkBranch(input.branch)
  yield* checkCredentials(input.credentials)
  const options: RunOptions = {
    step: "fetch",
    timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    credentials: input.credentials,
    allowFile: source.kind === "local"
  }
  yield* ensureMirror(input.mirror, options.timeoutMs)
  return { source, options }
})

/** Fetches `refs/heads/<branch>` of `url` into the mirror (creating it) and returns the commit it points at. */
export const fetchBranch = Effect.fn("LocalGit.fetchBranch")(function*(input: FetchBranchInput): Effect.fn.Return<{ readonly head: string }, GitError> {
  const { source, options } = yield* prepare(input)
  yield* fetchBranchInto(input.mirror, source, input.branch, options)
  const head = yield* revParse(input.mirror, `refs/heads/${input.branch}`, options.timeoutMs)
  if (head === undefined) {
    return yield* new GitFailed({ step: "rev-parse", message: `Fetched '${input.branch}' from ${source.url} but the mirror ${input.mirror} has no such branch afterwards.`, stderrTail: "" })
  }
  return { head }
})

/**
 * Makes sure the mirror holds exactly this commit: fetches the branch, then the commit by id when it
 * is not on the branch (any more). The commit is pinned by a ref so garbage collection keeps it for
 * later rollbacks even after a force-push drops it from the branch.
 */
export const ensureCommit = Effect.fn("LocalGit.ensureCommit")(function*(input: EnsureCommitInput): Effect.fn.Return<void, GitError> {
  const sha = yield* checkSha(input.sha)
  const { source, options } = yield* prepare(input)
  const pin = () =>
    gitOk([`--git-dir=${input.mirror}`, "update-ref", `refs/deploy-mcp/pinned/${sha}`, sha], { step: "pin", timeoutMs: options.timeoutMs }, () => `Could not pin commit ${sha}`).pipe(
      Effect.asVoid
    )
  if ((yield* revParse(input.mirror, sha, options.timeoutMs)) === sha) return yield* pin()
  // A deleted branch does not rule out fetching the commit by id; any other failure does.
  yield* fetchBranchInto(input.mirror, source, input.branch, options).pipe(Effect.catchTag("GitBranchNotFound", () => Effect.void))
  if ((yield* revParse(input.mirror, sha, options.timeoutMs)) === sha) return yield* pin()
  const run = yield* runGit(
    [`--git-dir=${input.mirror}`, "fetch", "--no-tags", "--no-write-fetch-head", "--", source.url, `+${sha}:refs/deploy-mcp/pinned/${sha}`],
    options
  )
  if (run.code === 0 && (yield* revParse(input.mirror, sha, options.timeoutMs)) === sha) return
  if (run.code !== 0 && !MISSING_REF.test(run.stderr) && !/not a valid object|bad object|not a tree|upload-pack/i.test(run.stderr)) {
    return yield* new GitFailed({ step: "fetch", message: `Could not fetch commit ${sha} from ${source.url}: ${lastLine(run.stderr)}`, stderrTail: run.stderr })
  }
  return yield* new GitCommitNotFound({
    url: source.url,
    sha,
    message: `commit ${sha} does not exist in ${source.url} (it is not on branch '${input.branch}' and the repository does not serve it by id). Deploy a commit that has been pushed, or the branch head.`
  })
})

/**
 * Writes the tree of `sha` into `into`. A folder that already holds this commit (its marker written
 * last) is reused as it is, builds and all; a half-written one is removed and written again.
 */
export const checkout = Effect.fn("LocalGit.checkout")(function*(input: CheckoutInput): Effect.fn.Return<void, GitError> {
  const sha = yield* checkSha(input.sha)
  yield* checkFolder("mirror", input.mirror)
  yield* checkFolder("into", input.into)
  const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const marker = path.join(input.into, CHECKOUT_MARKER)
  const fileSystem = <A>(action: string, run: () => Promise<A>) =>
    Effect.tryPromise({ try: run, catch: (cause) => new GitFailed({ step: "checkout", message: `Could not ${action}: ${String(cause)}`, stderrTail: "" }) })

  const recorded = yield* Effect.promise(() => readFile(marker, "utf8").then((text) => text.trim(), () => undefined))
  if (recorded === sha) return
  if (recorded !== undefined) {
    return yield* new GitFailed({
      step: "checkout",
      message: `${input.into} already holds commit ${recorded}, not ${sha}; a deployment folder holds one commit, so use a new folder.`,
      stderrTail: ""
    })
  }
  if ((yield* revParse(input.mirror, sha, timeoutMs)) !== sha) {
    return yield* new GitFailed({ step: "checkout", message: `The mirror ${input.mirror} does not hold commit ${sha}; run ensureCommit first.`, stderrTail: "" })
  }
  yield* fileSystem(`clear ${input.into}`, () => rm(input.into, { recursive: true, force: true }))
  yield* fileSystem(`create ${input.into}`, () => mkdir(input.into, { recursive: true }))
  // A throw-away index beside the folder: the mirror's own index is never touched, so checkouts of
  // different deployments can run at once.
  const index = `${input.into}.index`
  yield* gitOk(
    [`--git-dir=${input.mirror}`, `--work-tree=${input.into}`, "checkout", "--force", sha, "--", "."],
    { step: "checkout", timeoutMs, env: { GIT_INDEX_FILE: index } },
    () => `Could not check out ${sha} into ${input.into}`
  ).pipe(Effect.ensuring(Effect.promise(() => rm(index, { force: true }))))
  yield* fileSystem(`mark ${input.into} complete`, () => writeFile(marker, `${sha}\n`))
})
