export { GitHubApi, makeGitHubApi } from "./GitHubApi.ts";
export type { CreateRepoInput, GitHubApiConfig, GitHubInstallation, GitHubRepo, GitHubUser, RepoPushToken, UserTokenStatus } from "./GitHubApi.ts";
export {
  GitHubAppNotInstalled,
  GitHubForbidden,
  GitHubInvalidRequest,
  GitHubNotFound,
  GitHubOAuthRejected,
  GitHubRepoAlreadyExists,
  GitHubScopeMissing,
  GitHubUnauthorized,
  GitHubUnavailable,
} from "./errors.ts";
export type { GitHubError } from "./errors.ts";
export type { AuthorizeUrlInput, ExchangedToken } from "./oauth.ts";
export { InvalidRepoRef, normalizeRepoRef } from "./repo-ref.ts";
export type { RepoRef, RepoRefOptions } from "./repo-ref.ts";
