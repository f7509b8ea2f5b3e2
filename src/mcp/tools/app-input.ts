/**
 * The App fields create_app and update_app share: their input schemas (with descriptions and
 * examples for the model), and the mapping from tool arguments (snake_case, as agents write them)
 * to App.spec (schemas/app.ts).
 */
import { Effect, Schema } from "effect"
import {
  BuildPack,
  Cpu,
  DnsLabel,
  EnvVarName,
  Memory,
  Port,
  ProjectName,
  ResourceSize,
  ResourceType,
  repoSource,
  RuntimeMode,
  type AppSpec
} from "../../../schemas/index.ts"
import { AppConfig } from "../../config/config.ts"
import { localReposAllowed } from "../../config/runtime.ts"
import { checkLocalRepository } from "../../repos/local-repo.ts"
import { isBareRepoName, normalizeRepoInput } from "../../repos/normalize.ts"
import { UserStore } from "../../store/users.ts"
import { canonicalJson } from "../../store/canonical-json.ts"
import type { Principal } from "../../auth/api-key-verifier.ts"
import { ToolError } from "../errors.ts"
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS } from "../wait-for-app.ts"

const MAX_ENV_VARS = 200
const MAX_ENV_VALUE = 32_768
const MAX_COMMAND = 4_096

// Descriptions are read by the model in every session (tools/list): only what the name, pattern,
// enum and default do not already say. A DNS label's pattern says what a name may be.
export const AppName = DnsLabel.annotate({ description: undefined, examples: undefined })
/** create_app names the app; the name says where it will be served, once. */
export const NewAppName = AppName.annotate({ description: "Part of the app's URL" })

export const ProjectArgument = ProjectName.annotate({ description: undefined, examples: undefined, default: "default" })

export const Branch = Schema.String.check(Schema.isBetweenLength(1, 255, { message: "branch must be 1-255 characters, e.g. \"main\"" })).annotate({
  description: "Pushes to it redeploy the app",
  default: "main"
})

export const HostHint = DnsLabel.annotate({ description: "Run host to place it on; omit to let the platform choose", examples: undefined })

export const BuildPackArgument = BuildPack.annotate({ description: "nixpacks detects the stack; static serves files", default: "nixpacks" })
export const RuntimeModeArgument = RuntimeMode.annotate({ description: "on_demand may sleep when idle; static serves files only", default: "on_demand" })
export const PortArgument = Port.annotate({ description: "The port the app listens on" })
export const MemoryArgument = Memory.annotate({ description: "Limit, e.g. 512M or 2G" })
export const CpuArgument = Cpu.annotate({ description: "Cores, e.g. 0.5" })

const EnvValue = Schema.String.check(Schema.isMaxLength(MAX_ENV_VALUE, { message: `environment values are limited to ${MAX_ENV_VALUE} characters` }))

export const EnvVars = Schema.Record(EnvVarName, EnvValue)
  .check(Schema.isMaxProperties(MAX_ENV_VARS, { message: `at most ${MAX_ENV_VARS} environment variables` }))
  .annotate({ description: "Stored encrypted; get_app_details shows values only with include_env" })

export const EnvVarPatch = Schema.Record(EnvVarName, Schema.NullOr(EnvValue))
  .check(Schema.isMaxProperties(MAX_ENV_VARS, { message: `at most ${MAX_ENV_VARS} environment variables` }))
  .annotate({ description: "A value sets a variable, null removes it; others are kept" })

/** Install, build or start command (the tools' descriptions say that omitted ones are the build pack's). */
export const Command = (what: string) => Schema.String.check(Schema.isBetweenLength(1, MAX_COMMAND, { message: `${what} must be 1-${MAX_COMMAND} characters` }))

const ResourceLabel = DnsLabel.annotate({ description: undefined, examples: undefined })
export const ResourceTypeArgument = ResourceType.annotate({ description: undefined, default: "sqlite" })
export const Region = Schema.String.check(Schema.isBetweenLength(1, 64)).annotate({ description: "e.g. fra; default: the provider's" })

/** An inline resource: a bare name, or a name with the settings to create it with. */
export const ResourceRequest = Schema.Union([
  ResourceLabel,
  Schema.Struct({
    name: ResourceLabel,
    type: Schema.optionalKey(ResourceTypeArgument),
    size: Schema.optionalKey(ResourceSize),
    region: Schema.optionalKey(Region)
  })
])
export type ResourceRequest = typeof ResourceRequest.Type

export const ResourceRequests = Schema.Array(ResourceRequest)
  .check(Schema.isMaxLength(10, { message: "at most 10 resources per app" }))
  .annotate({
    description:
      "Databases, created if missing. Each is injected as <NAME>_DATABASE_URL and <NAME>_DATABASE_AUTH_TOKEN (NAME upper-cased, '-' as '_'); the first also as DATABASE_URL and DATABASE_AUTH_TOKEN, and keeps them when more are added"
  })

export const Wait = Schema.Boolean.annotate({ description: "Until Ready or failed, with progress notifications", default: false })

export const WaitTimeoutSeconds = Schema.Int.check(
  Schema.isBetween({ minimum: 1, maximum: MAX_WAIT_SECONDS }, { message: `wait_timeout_seconds must be a whole number from 1 to ${MAX_WAIT_SECONDS}` })
).annotate({ default: DEFAULT_WAIT_SECONDS })

/**
 * Turn a repo argument into the stored form (schemas/repo-source.ts); undefined stays undefined
 * (the code is pushed). A bare name needs the caller's GitHub login; a local path must exist.
 */
export const resolveRepo = (principal: Principal, repo: string | undefined) =>
  Effect.gen(function*() {
    if (repo === undefined) return undefined
    let login = principal.login
    if (isBareRepoName(repo)) {
      const users = yield* UserStore
      const user = yield* users.byId(principal.userId)
      if (user._tag === "None" || user.value.githubId === null) {
        return yield* new ToolError({
          message: `repo "${repo}" is a bare repository name, which means one of your GitHub repositories, but user '${principal.login}' has not signed in with GitHub. Give it as "owner/name" (e.g. "octocat/${repo.trim()}") or sign in with GitHub on the dashboard first.`
        })
      }
      login = user.value.login
    }
    const config = yield* AppConfig
    const normalized = normalizeRepoInput(repo, { login, githubHost: new URL(config.GITHUB_URL).hostname, localAllowed: localReposAllowed(config) })
    if (normalized._tag === "Failure") return yield* new ToolError({ message: normalized.failure.message })
    const source = repoSource(normalized.success)
    if (source._tag === "Local") yield* checkLocalRepository(source.path).pipe(Effect.mapError((error) => new ToolError({ message: error.message })))
    return normalized.success
  })

/** The arguments both tools use to describe an App (create_app adds repo and name). */
export interface AppFields {
  readonly branch?: string
  readonly host?: string | null
  readonly build_pack?: typeof BuildPack.Type
  readonly port?: number | null
  readonly runtime_mode?: typeof RuntimeMode.Type
  readonly memory?: string | null
  readonly cpu?: string | null
  readonly install_command?: string | null
  readonly build_command?: string | null
  readonly start_command?: string | null
}

/** Set or clear (null) one optional key of an object. */
const withOptional = <T extends object, K extends string, V>(target: T, key: K, value: V | null | undefined, previous?: V): T => {
  const next = value === undefined ? previous : value === null ? undefined : value
  const { [key]: _dropped, ...rest } = target as Record<string, unknown>
  return (next === undefined ? rest : { ...rest, [key]: next }) as T
}

/** Apply the shared fields to a spec; undefined keeps a value, null removes an optional one. */
export const applyAppFields = (spec: AppSpec, fields: AppFields): AppSpec => {
  let next: AppSpec = {
    ...spec,
    ...(fields.branch !== undefined ? { branch: fields.branch } : {}),
    ...(fields.build_pack !== undefined ? { buildPack: fields.build_pack } : {}),
    ...(fields.runtime_mode !== undefined ? { runtimeMode: fields.runtime_mode } : {})
  }
  // A pinned revision belongs to the branch it came from; a new branch starts at its head.
  if (fields.branch !== undefined && fields.branch !== spec.branch) next = { ...next, revision: null }
  next = withOptional(next, "port", fields.port, spec.port)
  next = withOptional(next, "host", fields.host, spec.host)
  const resources = withOptional(withOptional(spec.resources ?? {}, "memory", fields.memory, spec.resources?.memory), "cpu", fields.cpu, spec.resources?.cpu)
  next = withOptional(next, "resources", Object.keys(resources).length > 0 ? resources : null)
  let commands = spec.commands ?? {}
  commands = withOptional(commands, "install", fields.install_command, spec.commands?.install)
  commands = withOptional(commands, "build", fields.build_command, spec.commands?.build)
  commands = withOptional(commands, "start", fields.start_command, spec.commands?.start)
  next = withOptional(next, "commands", Object.keys(commands).length > 0 ? commands : null)
  return next
}

/** The spec of a new App; without repo its code arrives by git push. */
export const newAppSpec = (repo: string | undefined, fields: AppFields, env: Record<string, string>, resourceRefs: ReadonlyArray<string>): AppSpec =>
  applyAppFields(
    {
      ...(repo !== undefined ? { repo } : {}),
      branch: "main",
      revision: null,
      buildPack: "nixpacks",
      runtimeMode: "on_demand",
      env,
      resourceRefs: [...resourceRefs],
      redeployNonce: 0
    },
    fields
  )

/** Spec keys a tool sets, by the argument names agents use (for "differs in: …" messages). */
const ARGUMENT_OF: ReadonlyArray<readonly [string, (spec: AppSpec) => unknown]> = [
  ["repo", (spec) => spec.repo],
  ["branch", (spec) => spec.branch],
  ["build_pack", (spec) => spec.buildPack],
  ["runtime_mode", (spec) => spec.runtimeMode],
  ["port", (spec) => spec.port],
  ["host", (spec) => spec.host],
  ["memory", (spec) => spec.resources?.memory],
  ["cpu", (spec) => spec.resources?.cpu],
  ["install_command", (spec) => spec.commands?.install],
  ["build_command", (spec) => spec.commands?.build],
  ["start_command", (spec) => spec.commands?.start],
  ["env_vars", (spec) => spec.env],
  ["resources", (spec) => [...spec.resourceRefs].sort()]
]

/** Arguments whose values differ between two specs (revision and redeploys are not arguments). */
export const differingArguments = (a: AppSpec, b: AppSpec): ReadonlyArray<string> =>
  ARGUMENT_OF.filter(([, read]) => canonicalJson(read(a) ?? null) !== canonicalJson(read(b) ?? null)).map(([name]) => name)
