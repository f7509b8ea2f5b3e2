/**
 * What an agent types as `repo` → the form App.spec.repo stores (schemas/repo-source.ts). GitHub
 * references keep their "owner/name" form (webhooks match on it); other https:// hosts keep the
 * URL; local paths become file:/// URLs and are allowed only where LOCAL_REPOS lets this server
 * read its own disk. Credentials are refused rather than silently dropped: a URL with a token in
 * it would be stored and shown to every reader of the spec.
 */
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Result, Schema } from "effect"
import { MAX_REPO_LENGTH } from "../../schemas/repo-source.ts"
import { normalizeRepoRef } from "../providers/github/repo-ref.ts"

export class InvalidRepoInput extends Schema.TaggedError<InvalidRepoInput>()("InvalidRepoInput", {
  message: Schema.String
}) {}

export interface RepoInputOptions {
  /** The owner a bare name means (the caller's GitHub login). */
  readonly login: string
  /** The host GitHub repositories live on (GITHUB_URL's). */
  readonly githubHost: string
  /** localReposAllowed(config). */
  readonly localAllowed: boolean
}

const FORMS = "Give a GitHub repository (\"my-app\", \"owner/my-app\" or its github.com URL), a public https:// git URL, or omit repo and push the code with git push."
const LOCAL_REFUSED =
  "local paths need LOCAL_REPOS=on on the server (it is off: by default only a server listening on loopback alone may read its own disk). Push the code with git push instead (omit repo), or give a repository URL."

const fail = (message: string): Result.Result<never, InvalidRepoInput> => Result.fail(new InvalidRepoInput({ message: `repo: ${message}` }))

const SCHEME = /^([a-z][a-z0-9+.-]*):/i

/** A bare repository name means one of the caller's GitHub repositories, so its login is needed. */
export const isBareRepoName = (input: string): boolean => {
  const text = input.trim()
  return text !== "" && !text.includes("/") && !text.includes(":")
}

const localPath = (text: string, options: RepoInputOptions): Result.Result<string, InvalidRepoInput> => {
  if (!options.localAllowed) return fail(`"${text}" is a local path, but ${LOCAL_REFUSED}`)
  if (text.includes("\0")) return fail("a path cannot contain NUL characters.")
  let absolute: string
  if (text.startsWith("/")) absolute = text
  else {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return fail(`"${text}" is not a valid file:// URL; write it as file:///absolute/path.`)
    }
    if (url.search !== "" || url.hash !== "") return fail(`"${text}" has a query or fragment; give the plain file:///absolute/path.`)
    if (url.hostname !== "" && url.hostname !== "localhost") return fail(`"${text}" names the host ${url.hostname}; only this machine's paths work: file:///absolute/path.`)
    absolute = fileURLToPath(url)
  }
  return Result.succeed(pathToFileURL(path.resolve(absolute)).href)
}

const gitUrl = (text: string, url: URL): Result.Result<string, InvalidRepoInput> => {
  if (url.protocol !== "https:") return fail(`"${text}" uses ${url.protocol.slice(0, -1)}://; only https:// git URLs can be cloned. ${FORMS}`)
  if (url.search !== "" || url.hash !== "") return fail(`"${text}" has a query or fragment; give the plain repository URL.`)
  const pathname = url.pathname.replace(/\/+$/, "")
  if (pathname === "") return fail(`"${text}" names a host but no repository; give the repository's URL, e.g. https://gitlab.com/owner/app.git.`)
  return Result.succeed(`${url.origin}${pathname}`)
}

export const normalizeRepoInput = (input: string, options: RepoInputOptions): Result.Result<string, InvalidRepoInput> => {
  if (input.length > MAX_REPO_LENGTH) return fail(`is ${input.length} characters long; at most ${MAX_REPO_LENGTH}.`)
  const text = input.trim()
  if (text === "") return fail(`is empty. ${FORMS}`)
  if (text.startsWith("/") || /^file:/i.test(text)) return localPath(text, options)
  const githubHost = options.githubHost.toLowerCase()
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase()
  if (scheme === "http" || scheme === "https") {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return fail(`"${text}" is not a valid URL. ${FORMS}`)
    }
    if (url.username !== "" || url.password !== "") {
      return fail(
        "the URL contains credentials (user:password@); they would be stored in the app's settings for anyone to read. Give the URL without them: only public repositories can be cloned by URL. For a private GitHub repository install the Deploy MCP GitHub App on it; otherwise omit repo and push the code with git push."
      )
    }
    if (url.hostname.toLowerCase().replace(/^www\./, "") !== githubHost) return gitUrl(text, url)
  }
  if (scheme !== undefined && scheme !== "http" && scheme !== "https" && scheme !== "ssh" && !/^git@/i.test(text)) {
    return fail(`"${text}" uses ${scheme}:, which is not supported. ${FORMS}`)
  }
  const ssh = /^(?:ssh:\/\/)?(?:[^@/]+@)?([^:/]+)[:/]/i.exec(text)
  if ((scheme === "ssh" || /^git@/i.test(text)) && ssh?.[1]?.toLowerCase() !== githubHost) {
    return fail(`"${text}" is an ssh address; only GitHub's can be used as such. Give the repository's https:// URL instead.`)
  }
  const github = normalizeRepoRef(text, options.login, { host: githubHost })
  return Result.isFailure(github) ? fail(github.failure.message) : Result.succeed(github.success.fullName)
}
