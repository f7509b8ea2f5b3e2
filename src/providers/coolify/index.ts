export { CoolifyApi } from "./CoolifyApi.ts";
export type { DeleteApplicationOptions, DeployResult, QueuedAction } from "./CoolifyApi.ts";
export { resolveCoolifyApiConfig } from "./config.ts";
export type { CoolifyApiConfig, ResolvedCoolifyApiConfig } from "./config.ts";
export type { CoolifyClientEvent } from "./events.ts";
export {
  CoolifyBadRequest,
  CoolifyConflict,
  CoolifyNotFound,
  CoolifyRateLimited,
  CoolifyServerError,
  CoolifyTimeout,
  CoolifyTransport,
  CoolifyUnauthorized,
  CoolifyUnexpectedResponse,
  CoolifyValidation,
} from "./errors.ts";
export type { CoolifyError, DomainConflict } from "./errors.ts";
export { deploymentLogLines } from "./schemas.ts";
export type {
  CoolifyApplication,
  CoolifyDeployment,
  CoolifyEnvVar,
  CoolifyGithubApp,
  CoolifyPrivateKey,
  CreateGithubAppBody,
  CreatePrivateKeyBody,
  CoolifyProject,
  CoolifyServer,
  CreateApplicationInput,
  CreatedApplication,
  DeploymentStatus,
  DockerImageApplicationBody,
  EnvVarInput,
  GithubAppApplicationBody,
  PublicApplicationBody,
  UpdateApplicationBody,
} from "./schemas.ts";
