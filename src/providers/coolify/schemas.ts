/**
 * Coolify's answers as this project reads them: only the fields we use,
 * extra fields ignored, nulls tolerated where Coolify's columns are nullable.
 * Request bodies are typed from the generated OpenAPI types instead (openapi.ts).
 */
import { Schema } from "effect";
import type { operations } from "./openapi.ts";

const maybe = <S extends Schema.Top>(schema: S) => Schema.optional(Schema.NullOr(schema));

export const CoolifyApplication = Schema.Struct({
  uuid: Schema.String,
  name: Schema.String,
  description: maybe(Schema.String),
  /** Comma-separated URLs the app is served on. */
  fqdn: maybe(Schema.String),
  /** `state:health`, e.g. running:healthy, exited:unhealthy, restarting. */
  status: maybe(Schema.String),
  git_repository: maybe(Schema.String),
  git_branch: maybe(Schema.String),
  git_commit_sha: maybe(Schema.String),
  build_pack: maybe(Schema.String),
  ports_exposes: maybe(Schema.String),
  install_command: maybe(Schema.String),
  build_command: maybe(Schema.String),
  start_command: maybe(Schema.String),
  docker_registry_image_name: maybe(Schema.String),
  docker_registry_image_tag: maybe(Schema.String),
  limits_memory: maybe(Schema.String),
  limits_cpus: maybe(Schema.String),
  custom_docker_run_options: maybe(Schema.String),
  health_check_enabled: maybe(Schema.Boolean),
  health_check_path: maybe(Schema.String),
  created_at: maybe(Schema.String),
  updated_at: maybe(Schema.String),
});
export type CoolifyApplication = typeof CoolifyApplication.Type;

/** Deployment states Coolify reports; kept open (a string) because new ones appear between versions. */
export type DeploymentStatus = "queued" | "in_progress" | "finished" | "failed" | "cancelled-by-user";

export const CoolifyDeployment = Schema.Struct({
  deployment_uuid: Schema.String,
  status: Schema.String,
  commit: maybe(Schema.String),
  force_rebuild: maybe(Schema.Boolean),
  restart_only: maybe(Schema.Boolean),
  application_name: maybe(Schema.String),
  /** JSON-encoded array of log entries (hidden without the read:sensitive ability); see deploymentLogLines. */
  logs: maybe(Schema.String),
  created_at: maybe(Schema.String),
  updated_at: maybe(Schema.String),
});
export type CoolifyDeployment = typeof CoolifyDeployment.Type;

/** GET /deployments/applications/{uuid}: `{count, deployments}` in practice; the document's bare array is accepted too. */
export const DeploymentList = Schema.Union([
  Schema.Struct({ count: Schema.Number, deployments: Schema.Array(CoolifyDeployment) }),
  Schema.Array(CoolifyDeployment),
]);

export const CoolifyEnvVar = Schema.Struct({
  uuid: Schema.String,
  key: Schema.String,
  value: maybe(Schema.String),
  is_preview: maybe(Schema.Boolean),
  is_literal: maybe(Schema.Boolean),
  is_multiline: maybe(Schema.Boolean),
});
export type CoolifyEnvVar = typeof CoolifyEnvVar.Type;

export const CoolifyServer = Schema.Struct({
  uuid: Schema.String,
  name: Schema.String,
  ip: maybe(Schema.String),
  settings: maybe(
    Schema.Struct({
      wildcard_domain: maybe(Schema.String),
      is_reachable: maybe(Schema.Boolean),
      is_usable: maybe(Schema.Boolean),
    }),
  ),
});
export type CoolifyServer = typeof CoolifyServer.Type;

export const CoolifyProject = Schema.Struct({
  uuid: Schema.String,
  name: Schema.String,
  /** Present on GET /projects/{uuid}. */
  environments: maybe(Schema.Array(Schema.Struct({ name: Schema.String, uuid: maybe(Schema.String) }))),
});
export type CoolifyProject = typeof CoolifyProject.Type;

export const CoolifyGithubApp = Schema.Struct({
  uuid: Schema.String,
  name: Schema.String,
  app_id: maybe(Schema.Number),
  installation_id: maybe(Schema.Number),
  is_public: maybe(Schema.Boolean),
});
export type CoolifyGithubApp = typeof CoolifyGithubApp.Type;

/** A private key as listed (Coolify never returns the key material). */
export const CoolifyPrivateKey = Schema.Struct({ uuid: Schema.String, name: Schema.String });
export type CoolifyPrivateKey = typeof CoolifyPrivateKey.Type;

export type CreatePrivateKeyBody = JsonBody<"create-private-key">;
export type CreateGithubAppBody = JsonBody<"create-github-app">;

export const CreatedApplication = Schema.Struct({ uuid: Schema.String, domains: maybe(Schema.String) });
export type CreatedApplication = typeof CreatedApplication.Type;

export const DeployAnswer = Schema.Struct({
  deployments: Schema.Array(
    Schema.Struct({ message: maybe(Schema.String), resource_uuid: Schema.String, deployment_uuid: maybe(Schema.String) }),
  ),
});

export const QueuedAnswer = Schema.Struct({ message: maybe(Schema.String), deployment_uuid: maybe(Schema.String) });
export const CancelAnswer = Schema.Struct({ message: maybe(Schema.String), deployment_uuid: maybe(Schema.String), status: maybe(Schema.String) });
export const LogsAnswer = Schema.Struct({ logs: Schema.String });
export const MessageAnswer = Schema.Struct({ message: maybe(Schema.String) });

/** Error bodies: `{message, errors?, conflicts?}`; Coolify's `errors` values are arrays or single strings. */
export const ErrorAnswer = Schema.Struct({
  message: maybe(Schema.String),
  error: maybe(Schema.String),
  errors: maybe(Schema.Record(Schema.String, Schema.Union([Schema.Array(Schema.String), Schema.String]))),
  conflicts: maybe(
    Schema.Array(
      Schema.Struct({ domain: Schema.String, resource_name: maybe(Schema.String), resource_uuid: maybe(Schema.String) }),
    ),
  ),
});

/** The text of a deployment's log (Coolify stores JSON entries; older versions plain text). */
export const deploymentLogLines = (logs: string | null | undefined): ReadonlyArray<string> => {
  if (!logs) return [];
  try {
    const entries: unknown = JSON.parse(logs);
    if (Array.isArray(entries)) {
      return entries.flatMap((entry: unknown) =>
        typeof entry === "object" && entry !== null && "output" in entry && typeof entry.output === "string" && !("hidden" in entry && entry.hidden === true)
          ? [entry.output]
          : [],
      );
    }
  } catch {
    // not JSON: plain text below
  }
  return logs.split("\n");
};

// ---- request bodies, typed from Coolify's OpenAPI document -----------------------------------------

type JsonBody<Op extends keyof operations> = operations[Op] extends { requestBody: { content: { "application/json": infer B } } } ? B : never;

/**
 * The document marks both environment_name and environment_uuid required;
 * Coolify wants at least one. It leaves ports_exposes optional; Coolify
 * requires it (except for docker compose).
 */
type WithEnvironment<B> = Omit<B, "environment_name" | "environment_uuid"> &
  ({ environment_name: string; environment_uuid?: string } | { environment_uuid: string; environment_name?: string });

export type PublicApplicationBody = WithEnvironment<JsonBody<"create-public-application">> & { ports_exposes: string };
export type GithubAppApplicationBody = WithEnvironment<JsonBody<"create-private-github-app-application">> & { ports_exposes: string };
export type DockerImageApplicationBody = WithEnvironment<JsonBody<"create-dockerimage-application">> & { ports_exposes: string };
export type UpdateApplicationBody = JsonBody<"update-application-by-uuid">;
export type EnvVarInput = JsonBody<"update-envs-by-application-uuid">["data"][number] & { key: string; value: string };

/** Which create endpoint to call, with its body. `instant_deploy` defaults to false: deploys are explicit. */
export type CreateApplicationInput =
  | { readonly type: "public"; readonly body: PublicApplicationBody }
  | { readonly type: "private-github-app"; readonly body: GithubAppApplicationBody }
  | { readonly type: "dockerimage"; readonly body: DockerImageApplicationBody };
