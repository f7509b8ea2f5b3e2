/**
 * Client for the parts of Coolify's API (v4, /api/v1) an App controller needs:
 * applications (one list call observes all of them), env vars, deployments,
 * logs, and the servers/projects/GitHub Apps a create refers to. Calls are
 * paced under Coolify's rate limit and mapped to typed errors (request.ts);
 * answers are decoded with Schema (schemas.ts).
 */
import { Context, Effect, flow, Layer, Schema } from "effect";
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http";
import { resolveCoolifyApiConfig } from "./config.ts";
import type { CoolifyClientEvent } from "./events.ts";
import { Metrics } from "../../observability/metrics.ts";
import type { CoolifyApiConfig } from "./config.ts";
import { CoolifyUnexpectedResponse } from "./errors.ts";
import type { CoolifyError } from "./errors.ts";
import { makePacer } from "./pacer.ts";
import { makeCoolifyRequester } from "./request.ts";
import type { CoolifyAnswer, CoolifyCall, RetryMode } from "./request.ts";
import {
  CancelAnswer,
  CoolifyApplication,
  CoolifyDeployment,
  CoolifyEnvVar,
  CoolifyGithubApp,
  CoolifyPrivateKey,
  CoolifyProject,
  CoolifyServer,
  CreatedApplication,
  DeployAnswer,
  DeploymentList,
  LogsAnswer,
  MessageAnswer,
  QueuedAnswer,
} from "./schemas.ts";
import type { CreateApplicationInput, CreateGithubAppBody, CreatePrivateKeyBody, EnvVarInput, UpdateApplicationBody } from "./schemas.ts";

export interface DeleteApplicationOptions {
  /** Default true: remove the app's volumes (its data) too. */
  readonly deleteVolumes?: boolean;
  readonly deleteConfigurations?: boolean;
  readonly dockerCleanup?: boolean;
  readonly deleteConnectedNetworks?: boolean;
}

export interface DeployResult {
  readonly resourceUuid: string;
  /**
   * The deployment Coolify queued. Coolify may skip a deploy of a commit
   * already queued and still return a uuid that never resolves: treat
   * CoolifyNotFound on it as "skipped" and look at listDeployments.
   */
  readonly deploymentUuid: string | undefined;
  readonly message: string | undefined;
}

export interface QueuedAction {
  readonly message: string | undefined;
  readonly deploymentUuid: string | undefined;
}

export class CoolifyApi extends Context.Service<
  CoolifyApi,
  {
    /** Every application of the token's team, in one call (batch observe); `tag` filters by Coolify tag. */
    readonly listApplications: (options?: { readonly tag?: string }) => Effect.Effect<ReadonlyArray<CoolifyApplication>, CoolifyError>;
    readonly getApplication: (uuid: string) => Effect.Effect<CoolifyApplication, CoolifyError>;
    /** Creates an application; never retried after a timeout or 5xx (it may have happened). `instant_deploy` defaults to false. */
    readonly createApplication: (input: CreateApplicationInput) => Effect.Effect<CreatedApplication, CoolifyError>;
    readonly updateApplication: (uuid: string, patch: UpdateApplicationBody) => Effect.Effect<void, CoolifyError>;
    /** Queues the deletion; the app may still be listed for a while (poll getApplication for CoolifyNotFound). */
    readonly deleteApplication: (uuid: string, options?: DeleteApplicationOptions) => Effect.Effect<void, CoolifyError>;
    readonly listEnvs: (appUuid: string) => Effect.Effect<ReadonlyArray<CoolifyEnvVar>, CoolifyError>;
    /** Creates or updates the given keys; keys not listed are left alone (delete them with deleteEnv). */
    readonly upsertEnvsBulk: (appUuid: string, envs: ReadonlyArray<EnvVarInput>) => Effect.Effect<ReadonlyArray<CoolifyEnvVar>, CoolifyError>;
    readonly deleteEnv: (appUuid: string, envUuid: string) => Effect.Effect<void, CoolifyError>;
    /** Queues a deployment; not retried after a timeout or 5xx (that could build twice). */
    readonly deploy: (options: { readonly uuid: string; readonly force?: boolean }) => Effect.Effect<ReadonlyArray<DeployResult>, CoolifyError>;
    readonly getDeployment: (deploymentUuid: string) => Effect.Effect<CoolifyDeployment, CoolifyError>;
    /** Every deployment still queued or in progress, team-wide, in one call (batch polling). */
    readonly listRunningDeployments: () => Effect.Effect<ReadonlyArray<CoolifyDeployment>, CoolifyError>;
    /** An app's deployments, newest first, with the total count. */
    readonly listDeployments: (
      appUuid: string,
      options?: { readonly skip?: number; readonly take?: number },
    ) => Effect.Effect<{ readonly count: number; readonly deployments: ReadonlyArray<CoolifyDeployment> }, CoolifyError>;
    /** Fails with CoolifyBadRequest when the deployment already ended. */
    readonly cancelDeployment: (deploymentUuid: string) => Effect.Effect<{ readonly status: string | undefined }, CoolifyError>;
    /** Last `lines` lines of the running container; CoolifyBadRequest when it is not running. */
    readonly getApplicationLogs: (appUuid: string, lines?: number) => Effect.Effect<string, CoolifyError>;
    readonly startApplication: (appUuid: string) => Effect.Effect<QueuedAction, CoolifyError>;
    readonly stopApplication: (appUuid: string) => Effect.Effect<void, CoolifyError>;
    readonly restartApplication: (appUuid: string) => Effect.Effect<QueuedAction, CoolifyError>;
    readonly listServers: () => Effect.Effect<ReadonlyArray<CoolifyServer>, CoolifyError>;
    readonly listProjects: () => Effect.Effect<ReadonlyArray<CoolifyProject>, CoolifyError>;
    /** A project with its environments. */
    readonly getProject: (uuid: string) => Effect.Effect<CoolifyProject, CoolifyError>;
    readonly listGithubApps: () => Effect.Effect<ReadonlyArray<CoolifyGithubApp>, CoolifyError>;
    /** Not idempotent: callers look for their key by name first (listPrivateKeys). */
    readonly createGithubApp: (body: CreateGithubAppBody) => Effect.Effect<CoolifyGithubApp, CoolifyError>;
    readonly listPrivateKeys: () => Effect.Effect<ReadonlyArray<CoolifyPrivateKey>, CoolifyError>;
    /** Not idempotent: callers look for their key by name first. Returns the new key's uuid. */
    readonly createPrivateKey: (body: CreatePrivateKeyBody) => Effect.Effect<string, CoolifyError>;
  }
>()("deploy-mcp/providers/coolify/CoolifyApi") {
  /** Needs an HttpClient (tests may provide their own). */
  static readonly layerNoDeps = (config: CoolifyApiConfig): Layer.Layer<CoolifyApi, never, HttpClient.HttpClient> =>
    Layer.effect(CoolifyApi, makeCoolifyApi(config));

  static readonly layer = (config: CoolifyApiConfig): Layer.Layer<CoolifyApi> => CoolifyApi.layerNoDeps(config).pipe(Layer.provide(FetchHttpClient.layer));
}

const CREATE_ENDPOINTS: Readonly<Record<CreateApplicationInput["type"], string>> = {
  public: "/applications/public",
  "private-github-app": "/applications/private-github-app",
  dockerimage: "/applications/dockerimage",
};

const makeCoolifyApi = (rawConfig: CoolifyApiConfig) =>
  Effect.gen(function* () {
    // Every response, retry and rate-limit wait also reaches the running system's metrics
    // (a no-op where none is provided), whoever builds this client.
    const metrics = yield* Effect.service(Metrics);
    const onEvent = (event: CoolifyClientEvent) => {
      rawConfig.onEvent?.(event);
      metrics.coolifyEvent(event);
    };
    const config = resolveCoolifyApiConfig({ ...rawConfig, onEvent });
    const pacer = yield* makePacer(config.requestsPerMinute, config.rateWindowMs);
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(flow(HttpClientRequest.prependUrl(config.apiUrl), HttpClientRequest.bearerToken(config.token), HttpClientRequest.acceptJson)),
    );
    const send = makeCoolifyRequester(client, config, pacer);
    const path = (template: string, ...ids: ReadonlyArray<string>): string => {
      let index = 0;
      return template.replace(/\{[^}]+\}/g, () => encodeURIComponent(ids[index++] ?? ""));
    };

    /** Sends and decodes; `template` doubles as the endpoint name for metrics and errors. */
    const call = <S extends Schema.Top & { readonly DecodingServices: never }>(
      method: "GET" | "POST" | "PATCH" | "DELETE",
      template: string,
      ids: ReadonlyArray<string>,
      schema: S,
      options: { action: string; retry?: RetryMode; urlParams?: Record<string, string>; body?: unknown },
    ): Effect.Effect<S["Type"], CoolifyError> => {
      const endpoint = `${method} ${template}`;
      let request = HttpClientRequest.make(method)(path(template, ...ids));
      if (options.urlParams) request = HttpClientRequest.setUrlParams(request, options.urlParams);
      if (options.body !== undefined) request = HttpClientRequest.bodyJsonUnsafe(request, options.body);
      const spec: CoolifyCall = {
        endpoint,
        action: options.action,
        request,
        retry: options.retry ?? (method === "POST" ? "once" : "idempotent"),
        ...(ids[0] === undefined ? {} : { id: ids[0] }),
      };
      return send(spec).pipe(
        Effect.flatMap((answer: CoolifyAnswer) =>
          Schema.decodeUnknownEffect(schema)(answer.body).pipe(
            Effect.mapError(
              (issue) =>
                new CoolifyUnexpectedResponse({
                  endpoint,
                  status: answer.status,
                  message: `Coolify's answer to ${options.action} did not have the expected shape: ${issue.message}`,
                }),
            ),
          ),
        ),
      );
    };

    const listApplications = (options: { readonly tag?: string } = {}) =>
      call("GET", "/applications", [], Schema.Array(CoolifyApplication), {
        action: "list applications",
        ...(options.tag === undefined ? {} : { urlParams: { tag: options.tag } }),
      });

    const getApplication = (uuid: string) => call("GET", "/applications/{uuid}", [uuid], CoolifyApplication, { action: `get application ${uuid}` });

    const createApplication = (input: CreateApplicationInput) =>
      call("POST", CREATE_ENDPOINTS[input.type], [], CreatedApplication, {
        action: `create ${input.type} application "${input.body.name ?? "(unnamed)"}"`,
        body: { instant_deploy: false, ...input.body },
      });

    const updateApplication = (uuid: string, patch: UpdateApplicationBody) =>
      // Coolify answers 400 "Empty JSON." to {}: nothing to change is not a call.
      Object.keys(patch).length === 0
        ? Effect.void
        : call("PATCH", "/applications/{uuid}", [uuid], Schema.Unknown, { action: `update application ${uuid}`, body: patch }).pipe(Effect.asVoid);

    const deleteApplication = (uuid: string, options: DeleteApplicationOptions = {}) =>
      call("DELETE", "/applications/{uuid}", [uuid], MessageAnswer, {
        action: `delete application ${uuid}`,
        urlParams: {
          delete_volumes: String(options.deleteVolumes ?? true),
          delete_configurations: String(options.deleteConfigurations ?? true),
          docker_cleanup: String(options.dockerCleanup ?? true),
          delete_connected_networks: String(options.deleteConnectedNetworks ?? true),
        },
      }).pipe(Effect.asVoid);

    const listEnvs = (appUuid: string) =>
      call("GET", "/applications/{uuid}/envs", [appUuid], Schema.Array(CoolifyEnvVar), { action: `list env vars of application ${appUuid}` });

    const upsertEnvsBulk = (appUuid: string, envs: ReadonlyArray<EnvVarInput>) =>
      envs.length === 0
        ? Effect.succeed([])
        : call("PATCH", "/applications/{uuid}/envs/bulk", [appUuid], Schema.Array(CoolifyEnvVar), {
            action: `set ${envs.length} env vars of application ${appUuid}`,
            body: { data: envs },
          });

    const deleteEnv = (appUuid: string, envUuid: string) =>
      call("DELETE", "/applications/{uuid}/envs/{env_uuid}", [appUuid, envUuid], MessageAnswer, {
        action: `delete env var ${envUuid} of application ${appUuid}`,
      }).pipe(Effect.asVoid);

    const deploy = (options: { readonly uuid: string; readonly force?: boolean }) =>
      call("POST", "/deploy", [], DeployAnswer, {
        action: `deploy application ${options.uuid}`,
        urlParams: { uuid: options.uuid, force: String(options.force ?? false) },
      }).pipe(
        Effect.map((answer) =>
          answer.deployments.map((d) => ({ resourceUuid: d.resource_uuid, deploymentUuid: d.deployment_uuid ?? undefined, message: d.message ?? undefined })),
        ),
      );

    const getDeployment = (deploymentUuid: string) =>
      call("GET", "/deployments/{uuid}", [deploymentUuid], CoolifyDeployment, { action: `get deployment ${deploymentUuid}` });

    const listRunningDeployments = () =>
      call("GET", "/deployments", [], Schema.Array(CoolifyDeployment), { action: "list running deployments" });

    const listDeployments = (appUuid: string, options: { readonly skip?: number; readonly take?: number } = {}) =>
      call("GET", "/deployments/applications/{uuid}", [appUuid], DeploymentList, {
        action: `list deployments of application ${appUuid}`,
        urlParams: { skip: String(options.skip ?? 0), take: String(options.take ?? 10) },
      }).pipe(Effect.map((list) => ("deployments" in list ? list : { count: list.length, deployments: list })));

    const cancelDeployment = (deploymentUuid: string) =>
      // Cancelling twice is harmless (the second gets 400 "cannot be cancelled"), so it may be retried.
      call("POST", "/deployments/{uuid}/cancel", [deploymentUuid], CancelAnswer, {
        action: `cancel deployment ${deploymentUuid}`,
        retry: "idempotent",
      }).pipe(Effect.map((answer) => ({ status: answer.status ?? undefined })));

    const getApplicationLogs = (appUuid: string, lines = 100) =>
      call("GET", "/applications/{uuid}/logs", [appUuid], LogsAnswer, {
        action: `read the logs of application ${appUuid}`,
        urlParams: { lines: String(lines) },
      }).pipe(Effect.map((answer) => answer.logs));

    const queued = (answer: typeof QueuedAnswer.Type): QueuedAction => ({
      message: answer.message ?? undefined,
      deploymentUuid: answer.deployment_uuid ?? undefined,
    });
    const startApplication = (appUuid: string) =>
      call("POST", "/applications/{uuid}/start", [appUuid], QueuedAnswer, { action: `start application ${appUuid}` }).pipe(Effect.map(queued));
    const stopApplication = (appUuid: string) =>
      call("POST", "/applications/{uuid}/stop", [appUuid], MessageAnswer, { action: `stop application ${appUuid}`, retry: "idempotent" }).pipe(
        Effect.asVoid,
      );
    const restartApplication = (appUuid: string) =>
      call("POST", "/applications/{uuid}/restart", [appUuid], QueuedAnswer, { action: `restart application ${appUuid}` }).pipe(Effect.map(queued));

    const listServers = () => call("GET", "/servers", [], Schema.Array(CoolifyServer), { action: "list servers" });
    const listProjects = () => call("GET", "/projects", [], Schema.Array(CoolifyProject), { action: "list projects" });
    const getProject = (uuid: string) => call("GET", "/projects/{uuid}", [uuid], CoolifyProject, { action: `get project ${uuid}` });
    const listGithubApps = () => call("GET", "/github-apps", [], Schema.Array(CoolifyGithubApp), { action: "list GitHub Apps" });
    const createGithubApp = (body: CreateGithubAppBody) =>
      call("POST", "/github-apps", [], CoolifyGithubApp, { action: `create GitHub App source ${body.name}`, body });
    const listPrivateKeys = () => call("GET", "/security/keys", [], Schema.Array(CoolifyPrivateKey), { action: "list private keys" });
    const createPrivateKey = (body: CreatePrivateKeyBody) =>
      call("POST", "/security/keys", [], Schema.Struct({ uuid: Schema.String }), { action: `create private key ${body.name ?? ""}`.trim(), body }).pipe(
        Effect.map((answer) => answer.uuid),
      );

    return CoolifyApi.of({
      listApplications,
      getApplication,
      createApplication,
      updateApplication,
      deleteApplication,
      listEnvs,
      upsertEnvsBulk,
      deleteEnv,
      deploy,
      getDeployment,
      listRunningDeployments,
      listDeployments,
      cancelDeployment,
      getApplicationLogs,
      startApplication,
      stopApplication,
      restartApplication,
      listServers,
      listProjects,
      getProject,
      listGithubApps,
      createGithubApp,
      listPrivateKeys,
      createPrivateKey,
    });
  });
