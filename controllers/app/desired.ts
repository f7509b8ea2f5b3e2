/**
 * App spec → the Coolify application it should be: what a create sends, what an update compares,
 * and the digest that decides whether a new deployment is due. Pure functions, no I/O.
 */
import { createHash } from "node:crypto"
import { repoSource, type BuildPack, type RuntimeMode } from "../../schemas/index.ts"
import type { CoolifyApplication, CreateApplicationInput, UpdateApplicationBody } from "../../src/providers/coolify/index.ts"
import { canonicalJson } from "../../src/store/canonical-json.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import { COOLIFY_TAG, coolifyAppNameOf, coolifyDescriptionOf } from "./names.ts"

type App = StoredObject<"App">

/** Where Coolify gets the code: the user's GitHub App installation, a public clone, or an image. */
export type AppSource =
  | { readonly _tag: "Public" }
  | { readonly _tag: "GitHubApp"; readonly githubAppUuid: string }
  | { readonly _tag: "Image" }

/** The Coolify project, environment and server a create names. */
export interface CoolifyPlace {
  readonly projectUuid: string
  readonly environmentName: string
  readonly serverUuid: string
}

/** The settings of a managed Coolify application: what a create sends and an update compares. */
export interface DesiredSettings {
  readonly name: string
  readonly description: string
  readonly kind: "git" | "image"
  /** "owner/name" for GitHub, the https:// URL for other git hosts; "" when Coolify cannot reach the code. */
  readonly repository: string
  readonly git_branch: string
  /** A full SHA, or "HEAD" for the head of the branch. */
  readonly git_commit_sha: string
  readonly build_pack: BuildPack
  readonly docker_registry_image_name: string
  readonly docker_registry_image_tag: string
  readonly ports_exposes: string
  readonly install_command: string
  readonly build_command: string
  readonly start_command: string
  readonly limits_memory: string
  readonly limits_cpus: string
  readonly custom_docker_run_options: string
  /** Comma-separated URLs, as Coolify takes them. */
  readonly domains: string
}

/** Limits when the spec names none, by runtime mode (the plan). */
export const PLAN_LIMITS: Readonly<Record<RuntimeMode, { readonly memory: string; readonly cpu: string }>> = {
  static: { memory: "128M", cpu: "0.25" },
  on_demand: { memory: "512M", cpu: "0.5" },
  persistent: { memory: "1G", cpu: "1" }
}

/**
 * Container hardening for every app: no Linux capabilities and a bounded process count, plus the
 * gVisor runtime where the host has it. A static site is served by nginx, which starts as root,
 * binds :80 and switches to its own user: it gets back exactly the capabilities that needs.
 */
export const dockerRunOptions = (spec: App["spec"], gvisor: boolean): string => {
  const options = ["--cap-drop=ALL", "--pids-limit=256"]
  if (spec.buildPack === "static" || spec.runtimeMode === "static") {
    options.push("--cap-add=CHOWN", "--cap-add=SETUID", "--cap-add=SETGID", "--cap-add=NET_BIND_SERVICE")
  }
  if (gvisor) options.push("--runtime=runsc")
  return options.join(" ")
}

/** "ghcr.io/acme/web:1.2" → name and tag (default "latest"); a registry port is not a tag. */
export const splitImage = (image: string): { readonly name: string; readonly tag: string } => {
  const at = image.indexOf("@")
  if (at >= 0) return { name: image.slice(0, at), tag: image.slice(at + 1) }
  const colon = image.lastIndexOf(":")
  return colon > image.lastIndexOf("/") ? { name: image.slice(0, colon), tag: image.slice(colon + 1) } : { name: image, tag: "latest" }
}

/** The port traffic is routed to: the spec's, else 80 for static sites (nginx) and 3000 otherwise. */
export const exposedPort = (spec: App["spec"]): number => spec.port ?? (spec.buildPack === "static" ? 80 : 3000)

const coolifyRepository = (repo: string | undefined): string => {
  const source = repoSource(repo)
  return source._tag === "GitHub" ? source.fullName : source._tag === "Git" ? source.url : ""
}

const isUrl = (repository: string): boolean => repository.startsWith("https://")

/** The clone URL of a public repository: GitHub's "owner/name" is a path on github.com. */
const publicCloneUrl = (repository: string): string => (isUrl(repository) ? repository : `https://github.com/${repository}`)

/** A git URL, compared loosely: Coolify may store it with or without ".git" or a trailing slash. */
const gitUrlKey = (url: string): string => url.trim().replace(/\/+$/, "").replace(/\.git$/, "").toLowerCase()

/** Coolify may also keep only the URL's path (it records the host as the app's source). */
const sameGitUrl = (observed: string, desired: string): boolean =>
  /^https?:\/\//.test(observed.trim()) ? gitUrlKey(observed) === gitUrlKey(desired) : repositoryKey(observed) === repositoryKey(desired)

export const desiredSettings = (app: App, input: { readonly hostName: string; readonly gvisor: boolean }): DesiredSettings => {
  const spec = app.spec
  const plan = PLAN_LIMITS[spec.runtimeMode]
  const image = spec.image === undefined ? undefined : splitImage(spec.image)
  return {
    name: coolifyAppNameOf(app),
    description: coolifyDescriptionOf(app),
    kind: image ? "image" : "git",
    repository: coolifyRepository(spec.repo),
    git_branch: spec.branch,
    git_commit_sha: spec.revision ?? "HEAD",
    build_pack: spec.buildPack,
    docker_registry_image_name: image?.name ?? "",
    docker_registry_image_tag: image?.tag ?? "",
    ports_exposes: String(exposedPort(spec)),
    install_command: spec.commands?.install ?? "",
    build_command: spec.commands?.build ?? "",
    start_command: spec.commands?.start ?? "",
    limits_memory: spec.resources?.memory ?? plan.memory,
    limits_cpus: spec.resources?.cpu ?? plan.cpu,
    custom_docker_run_options: dockerRunOptions(spec, input.gvisor),
    domains: `https://${input.hostName}`
  }
}

const nonEmpty = <K extends string>(key: K, value: string): Partial<Record<K, string>> =>
  (value === "" ? {} : { [key]: value }) as Partial<Record<K, string>>

/** The create call for these settings. Deploys are explicit (no instant_deploy), domains are ours (no autogenerate). */
export const createInput = (desired: DesiredSettings, source: AppSource, place: CoolifyPlace): CreateApplicationInput => {
  const common = {
    project_uuid: place.projectUuid,
    server_uuid: place.serverUuid,
    environment_name: place.environmentName,
    name: desired.name,
    description: desired.description,
    domains: desired.domains,
    autogenerate_domain: false,
    instant_deploy: false,
    tags: [COOLIFY_TAG],
    ports_exposes: desired.ports_exposes,
    limits_memory: desired.limits_memory,
    limits_cpus: desired.limits_cpus,
    custom_docker_run_options: desired.custom_docker_run_options
  }
  if (source._tag === "Image" || desired.kind === "image") {
    return {
      type: "dockerimage",
      body: { ...common, docker_registry_image_name: desired.docker_registry_image_name, docker_registry_image_tag: desired.docker_registry_image_tag }
    }
  }
  const git = {
    ...common,
    git_branch: desired.git_branch,
    git_commit_sha: desired.git_commit_sha,
    build_pack: desired.build_pack,
    ...nonEmpty("install_command", desired.install_command),
    ...nonEmpty("build_command", desired.build_command),
    ...nonEmpty("start_command", desired.start_command)
  }
  return source._tag === "GitHubApp"
    ? { type: "private-github-app", body: { ...git, github_app_uuid: source.githubAppUuid, git_repository: desired.repository } }
    : { type: "public", body: { ...git, git_repository: publicCloneUrl(desired.repository) } }
}

/** `owner/name` of whatever form Coolify stored (URL, .git, owner/name). */
export const repositoryKey = (repository: string): string =>
  repository
    .trim()
    .replace(/^https?:\/\/[^/]+\//, "")
    .replace(/^git@[^:]+:/, "")
    .replace(/\.git$/, "")
    .replace(/\/+$/, "")
    .toLowerCase()

const domainSet = (domains: string | null | undefined): string =>
  (domains ?? "")
    .split(",")
    .map((domain) => domain.trim().toLowerCase().replace(/\/+$/, ""))
    .filter((domain) => domain !== "")
    .sort()
    .join(",")

const same = (observed: string | null | undefined, desired: string): boolean => (observed ?? "") === desired
const sameIgnoringCase = (observed: string | null | undefined, desired: string): boolean => (observed ?? "").toLowerCase() === desired.toLowerCase()

/** An image app cannot become a git app in place (or back): a different Coolify resource type. */
export const sourceKindChanged = (observed: CoolifyApplication, desired: DesiredSettings): boolean =>
  (observed.build_pack === "dockerimage") !== (desired.kind === "image")

/** The PATCH that makes the observed application match; empty when it already does. */
export const settingsPatch = (observed: CoolifyApplication, desired: DesiredSettings): UpdateApplicationBody => {
  const patch: Record<string, string> = {}
  const compare = (key: keyof DesiredSettings & keyof CoolifyApplication, equal = same) => {
    const value = desired[key]
    if (typeof value === "string" && !equal(observed[key] as string | null | undefined, value)) patch[key] = value
  }
  compare("name")
  compare("description")
  if (desired.kind === "git") {
    if (desired.repository === "") {
      // Code Coolify cannot reach: chooseSource refuses the app before it is ever deployed.
    } else if (isUrl(desired.repository)) {
      if (!sameGitUrl(observed.git_repository ?? "", desired.repository)) patch["git_repository"] = desired.repository
    } else if (repositoryKey(observed.git_repository ?? "") !== desired.repository.toLowerCase()) {
      // Keep the form Coolify stored: a URL for public clones, owner/name for GitHub App sources.
      patch["git_repository"] = /^https?:\/\//.test(observed.git_repository ?? "") ? `https://github.com/${desired.repository}` : desired.repository
    }
    compare("git_branch")
    compare("git_commit_sha", (observed, desired) => (observed ?? "HEAD") === desired)
    compare("build_pack")
    compare("install_command")
    compare("build_command")
    compare("start_command")
  } else {
    compare("docker_registry_image_name")
    compare("docker_registry_image_tag")
  }
  compare("ports_exposes")
  compare("limits_memory", sameIgnoringCase)
  compare("limits_cpus")
  compare("custom_docker_run_options")
  if (domainSet(observed.fqdn) !== domainSet(desired.domains)) patch["domains"] = desired.domains
  return patch as UpdateApplicationBody
}

/**
 * Digest of everything a deployment bakes in: settings and the final env (values included, salted
 * with the object's uid so equal envs of two apps do not share a digest). A change deploys again.
 */
export const configHash = (uid: string, desired: DesiredSettings, env: Readonly<Record<string, string>>): string =>
  createHash("sha256").update(uid).update("\n").update(canonicalJson({ desired, env })).digest("hex").slice(0, 24)
