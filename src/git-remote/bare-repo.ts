/**
 * The bare repository behind an app's built-in remote (pushRemoteDir). Made on first use, in a
 * temporary folder renamed into place, so two first pushes at once cannot both half-make it.
 * Its config holds only what `git init` writes: credentials never reach it.
 */
import { execFile } from "node:child_process"
import { mkdir, readFile, rename, rm } from "node:fs/promises"
import path from "node:path"
import { randomUUID } from "node:crypto"

const GIT_TIMEOUT_MS = 30_000

const git = (args: ReadonlyArray<string>) =>
  new Promise<{ readonly ok: boolean; readonly stdout: string; readonly stderr: string }>((resolve) => {
    execFile("git", [...args], { timeout: GIT_TIMEOUT_MS, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1" } }, (error, stdout, stderr) =>
      resolve({ ok: error === null, stdout: String(stdout), stderr: String(stderr) })
    )
  })

const exists = (file: string) => readFile(file).then(() => true, () => false)

/** Create the bare repository if it is not there; its HEAD names `branch`, so a clone checks that out. */
export const ensureBareRepo = async (dir: string, branch: string): Promise<void> => {
  if (await exists(path.join(dir, "HEAD"))) return
  await mkdir(path.dirname(dir), { recursive: true })
  const staging = `${dir}.init-${randomUUID()}`
  const made = await git(["init", "--quiet", "--bare", staging])
  if (!made.ok) throw new Error(`git init --bare failed: ${made.stderr.trim()}`)
  // An invalid ref name keeps git's default HEAD: pushes to the branch still deploy.
  await git(["--git-dir", staging, "symbolic-ref", "HEAD", `refs/heads/${branch}`])
  try {
    await rename(staging, dir)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    // Another request made it first: theirs is as good as ours.
    if (!(await exists(path.join(dir, "HEAD")))) throw error
  }
}

/** The commit `refs/heads/<branch>` points at, or undefined when the branch was never pushed. */
export const branchHead = async (dir: string, branch: string): Promise<string | undefined> => {
  const answer = await git(["--git-dir", dir, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`])
  const sha = answer.stdout.trim()
  return answer.ok && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined
}
