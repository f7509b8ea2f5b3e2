/**
 * How the Coolify fake renders its state as JSON, in the shapes the real API
 * sends (every body is also checked against the OpenAPI document on the way out).
 */
import type { CoolifyFakeState, FakeApplication, FakeDeployment, FakeEnvVar, FakeGithubApp, FakeProject, FakeServer } from "./state.ts";

/** Column defaults of a fresh Coolify application. */
export const APPLICATION_DEFAULTS: Readonly<Record<string, unknown>> = {
  description: null,
  git_commit_sha: "HEAD",
  git_full_url: null,
  docker_registry_image_name: null,
  docker_registry_image_tag: null,
  static_image: "nginx:alpine",
  install_command: null,
  build_command: null,
  start_command: null,
  ports_exposes: "80",
  ports_mappings: null,
  base_directory: "/",
  publish_directory: null,
  health_check_enabled: false,
  health_check_path: "/",
  health_check_port: null,
  health_check_host: null,
  health_check_method: "GET",
  health_check_return_code: 200,
  health_check_scheme: "http",
  health_check_response_text: null,
  health_check_interval: 5,
  health_check_timeout: 5,
  health_check_retries: 10,
  health_check_start_period: 5,
  limits_memory: "0",
  limits_memory_swap: "0",
  limits_memory_swappiness: 60,
  limits_memory_reservation: "0",
  limits_cpus: "0",
  limits_cpuset: null,
  limits_cpu_shares: 1024,
  custom_labels: null,
  custom_docker_run_options: null,
  post_deployment_command: null,
  post_deployment_command_container: null,
  pre_deployment_command: null,
  pre_deployment_command_container: null,
  watch_paths: null,
  dockerfile: null,
  dockerfile_location: "/Dockerfile",
  docker_compose_location: "/docker-compose.yaml",
  redirect: "both",
  max_restart_count: 10,
};

export const serializeApplication = (state: CoolifyFakeState, app: FakeApplication): Record<string, unknown> => ({
  id: app.id,
  uuid: app.uuid,
  ...APPLICATION_DEFAULTS,
  ...app.fields,
  fqdn: app.fqdn,
  status: app.status,
  environment_id: app.environmentId,
  destination_id: app.serverId,
  destination_type: "App\\Models\\StandaloneDocker",
  source_id: typeof app.fields["source_id"] === "number" ? app.fields["source_id"] : null,
  private_key_id: null,
  created_at: app.created_at,
  updated_at: app.updated_at,
  deleted_at: null,
  server_status: state.serverById(app.serverId) !== undefined,
});

export const serializeDeployment = (state: CoolifyFakeState, deployment: FakeDeployment): Record<string, unknown> => {
  const app = state.applicationById(deployment.applicationId);
  const server = state.serverById(deployment.serverId);
  const place = app ? state.environmentById(app.environmentId) : undefined;
  return {
    id: deployment.id,
    application_id: String(deployment.applicationId),
    deployment_uuid: deployment.uuid,
    pull_request_id: 0,
    force_rebuild: deployment.forceRebuild,
    commit: deployment.commit,
    status: deployment.status,
    is_webhook: false,
    is_api: true,
    restart_only: deployment.restartOnly,
    rollback: false,
    only_this_server: false,
    server_id: deployment.serverId,
    server_name: server?.name ?? "",
    destination_id: String(deployment.serverId),
    application_name: app ? String(app.fields["name"]) : "",
    deployment_url:
      app && place
        ? `/project/${place.project.uuid}/environment/${place.environment.uuid}/application/${app.uuid}/deployment/${deployment.uuid}`
        : "",
    // Coolify stores the build log as a JSON-encoded array of entries.
    logs: JSON.stringify(deployment.logs),
    created_at: deployment.created_at,
    updated_at: deployment.updated_at,
  };
};

export const serializeEnv = (app: FakeApplication, env: FakeEnvVar): Record<string, unknown> => ({
  id: env.id,
  uuid: env.uuid,
  resourceable_type: "App\\Models\\Application",
  resourceable_id: app.id,
  key: env.key,
  value: env.value,
  real_value: env.value,
  is_preview: env.is_preview,
  is_literal: env.is_literal,
  is_multiline: env.is_multiline,
  is_shown_once: env.is_shown_once,
  is_runtime: true,
  is_buildtime: true,
  is_shared: false,
  comment: null,
  version: "4.0.0",
  created_at: env.created_at,
  updated_at: env.updated_at,
});

export const serializeServer = (server: FakeServer): Record<string, unknown> => ({
  id: server.id,
  uuid: server.uuid,
  name: server.name,
  description: "",
  ip: server.ip,
  user: "root",
  port: 22,
  proxy_type: "traefik",
  is_reachable: true,
  is_usable: true,
  settings: {
    id: server.id,
    server_id: server.id,
    is_reachable: true,
    is_usable: true,
    is_build_server: false,
    wildcard_domain: server.settings.wildcard_domain,
    concurrent_builds: server.settings.concurrent_builds,
    deployment_queue_limit: server.settings.deployment_queue_limit,
  },
});

export const serializeProject = (project: FakeProject, withEnvironments: boolean): Record<string, unknown> => ({
  id: project.id,
  uuid: project.uuid,
  name: project.name,
  description: "",
  ...(withEnvironments
    ? { environments: project.environments.map((env) => ({ id: env.id, uuid: env.uuid, name: env.name, project_id: project.id, description: "" })) }
    : {}),
});

export const serializeGithubApp = (app: FakeGithubApp): Record<string, unknown> => ({
  id: app.id,
  uuid: app.uuid,
  name: app.name,
  organization: null,
  api_url: "https://api.github.com",
  html_url: "https://github.com",
  custom_user: "git",
  custom_port: 22,
  app_id: app.app_id,
  installation_id: app.installation_id,
  client_id: `Iv1.${app.uuid.slice(0, 16)}`,
  private_key_id: app.id,
  is_system_wide: false,
  is_public: false,
  team_id: 0,
  type: "github",
});
