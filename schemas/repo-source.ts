/**
 * Where an App's code comes from, as App.spec.repo stores it: a GitHub "owner/name", an https://
 * git URL, a file:/// URL of a repository on the server's machine, or nothing at all — the code
 * then arrives by `git push` to the built-in remote. Tools normalise what agents type into one of
 * these forms (src/repos/normalize.ts); everything else reads them through `repoSource`.
 */
import { Schema } from "effect"
import { fileURLToPath } from "node:url"

export const MAX_REPO_LENGTH = 2048

/** The stored forms; the https authority holds no credentials ("@") and no URL has a query or fragment. */
const STORED = /^(?:[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}|https:\/\/[^\s/@?#]+\/[^\s?#]+|file:\/\/\/[^\0?#]*)$/u

export const RepoReference = Schema.String.check(
  Schema.isMaxLength(MAX_REPO_LENGTH, { message: `repo must be at most ${MAX_REPO_LENGTH} characters` }),
  Schema.isPattern(STORED, {
    message: "repo must be a GitHub repository as \"owner/name\", an https:// git URL without credentials, or file:///absolute/path"
  })
)

export type RepoSource =
  | { readonly _tag: "GitHub"; readonly fullName: string }
  | { readonly _tag: "Git"; readonly url: string }
  | { readonly _tag: "Local"; readonly path: string }
  /** No repo: the code is pushed to the built-in git remote. */
  | { readonly _tag: "Push" }

export const repoSource = (repo: string | undefined): RepoSource => {
  if (repo === undefined) return { _tag: "Push" }
  if (repo.startsWith("file://")) return { _tag: "Local", path: fileURLToPath(repo) }
  if (repo.startsWith("https://")) return { _tag: "Git", url: repo }
  return { _tag: "GitHub", fullName: repo }
}

/** One short phrase for tables and summaries: "octocat/site", the URL, the path, or "git push". */
export const repoLabel = (repo: string | undefined): string => {
  const source = repoSource(repo)
  switch (source._tag) {
    case "GitHub":
      return source.fullName
    case "Git":
      return source.url
    case "Local":
      return source.path
    case "Push":
      return "git push"
  }
}
