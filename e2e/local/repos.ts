/** Real git repositories for the local runtime's tests: the git CLI with no user or system configuration. */
import { execFile } from "node:child_process"
import { mkdir, writeFile } from "node:fs/promises"
import path from "node:path"

/** Runs git in `cwd` and resolves its trimmed stdout; rejects with git's stderr. */
export const gitIn = (cwd: string, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(
      "git",
      ["-c", "credential.helper=", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args],
      { cwd, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" } },
      (error, stdout, stderr) => (error ? reject(new Error(`git ${args.join(" ")} failed: ${String(stderr)}`)) : resolve(String(stdout).trim()))
    )
  })

/** A repository at `dir` on branch main with one commit of `files`; returns its path. */
export const makeRepo = async (dir: string, files: Readonly<Record<string, string>>): Promise<string> => {
  await mkdir(dir, { recursive: true })
  await gitIn(dir, ["init", "--quiet"])
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true })
    await writeFile(path.join(dir, name), content)
  }
  await gitIn(dir, ["add", "."])
  await gitIn(dir, ["commit", "--quiet", "-m", "first"])
  return dir
}
