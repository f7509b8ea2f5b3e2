/**
 * Apps without a repo get their code by `git push` to the built-in remote. Until the first push
 * reaches the app's branch there is nothing to build: the app waits, and its condition carries the
 * exact commands (the remote's URL only; the password is an API key, never shown).
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import type { AppConfigValues } from "../../../src/config/config.ts"
import { gitRemoteUrl, pushCommands as commandsFor } from "../../../src/git-remote/urls.ts"
import { publicUrlOf } from "../../../src/github/repo-tools.ts"
import type { StoredObject } from "../../../src/store/objects.ts"

/** Whether the bare repository has the branch (a push reached it). */
export const remoteHasBranch = (remote: string, branch: string): Promise<boolean> =>
  existsSync(remote)
    ? new Promise((resolve) => {
        execFile("git", ["--git-dir", remote, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], { timeout: 10_000 }, (error) => resolve(error === null))
      })
    : Promise.resolve(false)

export const pushCommands = (config: AppConfigValues, app: StoredObject<"App">): string =>
  `Push the code: ${commandsFor(gitRemoteUrl(publicUrlOf(config), app.metadata.project, app.metadata.name), app.spec.branch).join(" && ")} (when git asks for a password, give an API key; any user name).`
