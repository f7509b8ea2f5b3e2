/** Where an app's built-in git remote is: PUBLIC_URL/git/<project>/<app>.git (the routes and the tools agree here). */
export const GIT_REMOTE_PREFIX = "/git"

export const gitRemoteUrl = (publicUrl: string, project: string, app: string): string =>
  `${publicUrl.replace(/\/+$/, "")}${GIT_REMOTE_PREFIX}/${project}/${app}.git`

/** The commands that deploy pushed code; the URL carries no key (git asks for it as the password). */
export const pushCommands = (remoteUrl: string, branch: string): ReadonlyArray<string> => [
  `git remote add deploy ${remoteUrl}`,
  `git push deploy ${branch}`
]
