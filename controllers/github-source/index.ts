export { ensureGitHubSource, privateKeyName, sourceName, type GitHubAppCredentials } from "./ensure.ts"
export { enqueueGitHubSource, githubSourceKey, GITHUB_SOURCE_KIND } from "./queue.ts"
export { credentialsFromConfig, githubSourceLayer, reconcileGitHubSource } from "./worker.ts"
