/** App: a repository (or pushed code) built and run by the app provider (DESIGN.md §2 App). */
import { Schema } from "effect"
import { StatusBase } from "./meta.ts"
import { RepoReference } from "./repo-source.ts"

export const BuildPack = Schema.Literals(["nixpacks", "dockerfile", "static", "dockercompose"]).annotate({
  description: "How the app is built: nixpacks (auto-detect), dockerfile, static (serve files), dockercompose"
})
export type BuildPack = typeof BuildPack.Type

export const RuntimeMode = Schema.Literals(["static", "on_demand", "persistent"]).annotate({
  description: "static: files only; on_demand: may sleep when idle; persistent: always running"
})
export type RuntimeMode = typeof RuntimeMode.Type

/** Normalised GitHub repository reference: "owner/name". */
export const RepoFullName = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/u, {
    message: "must be a GitHub repository as \"owner/name\" (for example \"octocat/hello-world\")"
  })
)

export const Port = Schema.Int.check(
  Schema.isBetween({ minimum: 1, maximum: 65535 }, { message: "port must be a whole number from 1 to 65535, e.g. 3000" })
)

/** Memory like "512M" or "2G" (docker's notation, what Coolify's limits_memory takes). */
export const Memory = Schema.String.check(
  Schema.isPattern(/^[1-9][0-9]*[MG]$/u, { message: "memory must be a number followed by M or G, e.g. \"512M\" or \"2G\"" })
)

/** CPU share like "0.5" or "2". */
export const Cpu = Schema.String.check(
  Schema.isPattern(/^(0\.[0-9]*[1-9][0-9]*|[1-9][0-9]*(\.[0-9]+)?)$/u, { message: "cpu must be a positive number as a string, e.g. \"0.5\" or \"2\"" })
)

export const ComputeResources = Schema.Struct({
  cpu: Schema.optionalKey(Cpu),
  memory: Schema.optionalKey(Memory)
})

export const EnvVarName = Schema.String.check(
  Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_]*$/u, {
    message: "environment variable names must start with a letter or '_' and contain only letters, digits and '_' (e.g. \"API_URL\")"
  })
)

export const Commands = Schema.Struct({
  install: Schema.optionalKey(Schema.String),
  build: Schema.optionalKey(Schema.String),
  start: Schema.optionalKey(Schema.String)
})

export const Domain = Schema.String.check(
  Schema.isPattern(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/u, {
    message: "domain must be a lowercase host name such as \"shop.example.com\" (no scheme, no path)"
  })
)

export const GitSha = Schema.String.check(
  Schema.isPattern(/^[0-9a-f]{40}$/u, { message: "revision must be a full 40-character lowercase hex commit SHA" })
)

export const AppSpec = Schema.Struct({
  /** Absent: the code arrives by `git push` to the built-in remote (schemas/repo-source.ts). */
  repo: Schema.optionalKey(RepoReference),
  branch: Schema.String,
  revision: Schema.NullOr(GitSha),
  buildPack: BuildPack,
  port: Schema.optionalKey(Port),
  runtimeMode: RuntimeMode,
  resources: Schema.optionalKey(ComputeResources),
  env: Schema.Record(EnvVarName, Schema.String),
  resourceRefs: Schema.Array(Schema.String),
  commands: Schema.optionalKey(Commands),
  domain: Schema.optionalKey(Domain),
  host: Schema.optionalKey(Schema.String),
  image: Schema.optionalKey(Schema.String),
  redeployNonce: Schema.Int
})
export type AppSpec = typeof AppSpec.Type

export const DeploymentState = Schema.Literals(["queued", "in_progress", "finished", "failed", "cancelled"])
export type DeploymentState = typeof DeploymentState.Type

/** How a deployment was built and started (the local runtime detects it; the spec's commands win). */
export const BuildPlan = Schema.Struct({
  kind: Schema.Literals(["static", "process"]),
  /** What decided the start command: package.json, Procfile, python or spec. */
  detectedFrom: Schema.optionalKey(Schema.String),
  install: Schema.optionalKey(Schema.String),
  build: Schema.optionalKey(Schema.String),
  start: Schema.optionalKey(Schema.String),
  /** The folder a static site is served from, relative to the checkout. */
  root: Schema.optionalKey(Schema.String)
})
export type BuildPlan = typeof BuildPlan.Type

export const DeploymentRecord = Schema.Struct({
  id: Schema.String,
  revision: Schema.NullOr(Schema.String),
  redeployNonce: Schema.Int,
  state: DeploymentState,
  startedAt: Schema.String,
  finishedAt: Schema.optionalKey(Schema.String),
  /** Digest of the settings and env the deployment was started with: a change deploys again. */
  configHash: Schema.optionalKey(Schema.String),
  /** Resource name → credentials version injected into this deployment: a rotation deploys again. */
  resourceCredentials: Schema.optionalKey(Schema.Record(Schema.String, Schema.Int)),
  /** The build plan, once known (local runtime). */
  plan: Schema.optionalKey(BuildPlan)
})
export type DeploymentRecord = typeof DeploymentRecord.Type

export const AppStatus = Schema.Struct({
  ...StatusBase,
  url: Schema.optionalKey(Schema.String),
  host: Schema.optionalKey(Schema.String),
  deployedRevision: Schema.optionalKey(Schema.NullOr(Schema.String)),
  latestDeployment: Schema.optionalKey(DeploymentRecord),
  externalId: Schema.optionalKey(Schema.String)
})
export type AppStatus = typeof AppStatus.Type

/** Keys of App.spec whose values are stored encrypted (DESIGN.md §2: env values). */
export const APP_SECRET_SPEC_KEYS = ["env"] as const
