/**
 * A local repository must be there when the app is created: an agent that mistyped a path hears
 * it now, not as a failed build later. Asked the way a fetch will ask — `git ls-remote` on the
 * file:// URL — so a path git cannot fetch from (a subfolder of a work tree, a repository git
 * distrusts) is refused too, with git's own words.
 */
import { execFile } from "node:child_process"
import { stat } from "node:fs/promises"
import { pathToFileURL } from "node:url"
import { Effect } from "effect"
import { InvalidRepoInput } from "./normalize.ts"

const CHECK_TIMEOUT_MS = 15_000

const lsRemote = (url: string) =>
  new Promise<{ readonly ok: boolean; readonly stderr: string }>((resolve) => {
    execFile(
      "git",
      ["-c", "protocol.file.allow=always", "ls-remote", "--", url, "HEAD"],
      { timeout: CHECK_TIMEOUT_MS, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", GIT_TERMINAL_PROMPT: "0" } },
      (error, _stdout, stderr) => resolve({ ok: error === null, stderr: String(stderr) })
    )
  })

export const checkLocalRepository = (repoPath: string) =>
  Effect.gen(function*() {
    const found = yield* Effect.promise(() => stat(repoPath).then((info) => info.isDirectory(), () => undefined))
    if (found === undefined) {
      return yield* new InvalidRepoInput({ message: `repo: ${repoPath} does not exist on the server's machine. Give the absolute path of a git repository there.` })
    }
    if (!found) return yield* new InvalidRepoInput({ message: `repo: ${repoPath} is a file, not a folder. Give the top folder of a git repository.` })
    const answer = yield* Effect.promise(() => lsRemote(pathToFileURL(repoPath).href))
    if (!answer.ok) {
      const said = answer.stderr.trim().split("\n").slice(-2).join(" ").slice(0, 300)
      return yield* new InvalidRepoInput({
        message: `repo: ${repoPath} is not a git repository git can fetch from${said ? ` (git says: ${said})` : ""}. Give the repository's top folder, or run \`git init\` and commit there first.`
      })
    }
  })
