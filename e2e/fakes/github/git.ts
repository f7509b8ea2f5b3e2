/**
 * github.com's git smart-HTTP endpoints for cloning (`/<owner>/<repo>.git/info/refs`,
 * `/git-upload-pack`), served by the real `git http-backend` from bare repositories the test fills
 * (`fake.gitDir("alice/site")` → push to it by path). Authentication follows GitHub's answers:
 * public repositories clone anonymously; a private one asks for Basic credentials (401 with a
 * `WWW-Authenticate: Basic` challenge), takes an installation token (`x-access-token:<ghs_…>`, the
 * token's repository restriction and `contents` permission apply) or a user token that may see the
 * repository, answers 401 "Invalid username or token" for an unknown or expired one and 404
 * "Repository not found." for a valid one without access, as GitHub does so as not to reveal it.
 * Pushes are not served (403): nothing here needs them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { runHttpBackend } from "../../../src/git-remote/http-backend.ts";
import type { FakeRepo, GitHubFakeState } from "./state.ts";

const GIT_PATH = /^\/([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})\.git(\/info\/refs|\/git-upload-pack|\/git-receive-pack)$/;

/** One git request as the fake saw it, for assertions on how a client authenticated. */
export interface FakeGitCall {
  readonly repo: string;
  readonly service: string;
  /** "anonymous", "installation", "user" or "rejected". */
  readonly credential: string;
  /** The installation token's `contents` permission and repository restriction, when one was used. */
  readonly token?: { readonly contents: string | undefined; readonly repositories: "all" | ReadonlyArray<string> };
  readonly status: number;
}

export const isGitPath = (pathname: string): boolean => GIT_PATH.test(pathname);

/** The bare repository backing `owner/name`, created empty on first use. */
export const gitDirIn = (root: string, fullName: string): string => {
  const dir = path.join(root, `${fullName.toLowerCase()}.git`);
  if (!existsSync(dir)) {
    mkdirSync(path.dirname(dir), { recursive: true });
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", dir]);
  }
  return dir;
};

const basicPassword = (req: IncomingMessage): string | undefined => {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]{1,8192})$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? "" : decoded.slice(colon + 1);
};

type Access =
  | { readonly ok: true; readonly credential: string; readonly token?: FakeGitCall["token"] }
  | { readonly ok: false; readonly credential: string; readonly status: 401 | 404; readonly text: string; readonly token?: FakeGitCall["token"] };

const accessTo = (state: GitHubFakeState, repo: FakeRepo, password: string | undefined): Access => {
  if (password === undefined) {
    return repo.private ? { ok: false, credential: "anonymous", status: 401, text: "" } : { ok: true, credential: "anonymous" };
  }
  const invalid: Access = { ok: false, credential: "rejected", status: 401, text: "remote: Invalid username or token. Password authentication is not supported for Git operations.\n" };
  const notFound = (credential: string, token?: FakeGitCall["token"]): Access => ({ ok: false, credential, status: 404, text: "Repository not found.\n", ...(token ? { token } : {}) });
  const minted = state.installationTokens.get(password);
  if (minted) {
    if (minted.expiresAt.getTime() <= Date.now() || !state.installations.has(minted.installationId)) return invalid;
    const token = { contents: minted.permissions["contents"], repositories: minted.repositoryNames };
    const covered = state.reposForInstallationToken(minted).some((candidate) => candidate.id === repo.id);
    return covered && token.contents !== undefined ? { ok: true, credential: "installation", token } : notFound("installation", token);
  }
  const userToken = state.userTokens.get(password);
  if (userToken && !userToken.revoked) {
    const mayRead = !repo.private || (userToken.scopes.includes("repo") && repo.ownerLogin.toLowerCase() === userToken.login.toLowerCase());
    return mayRead ? { ok: true, credential: "user" } : notFound("user");
  }
  return invalid;
};

export const handleGit = async (state: GitHubFakeState, root: string, calls: Array<FakeGitCall>, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const url = new URL(req.url ?? "/", "http://fake");
  const [, owner = "", name = "", rest = ""] = GIT_PATH.exec(url.pathname) ?? [];
  const service = rest === "/info/refs" ? (url.searchParams.get("service") ?? "dumb") : rest.slice(1);
  const record = (credential: string, status: number, token?: FakeGitCall["token"]) =>
    calls.push({ repo: `${owner}/${name}`, service, credential, status, ...(token ? { token } : {}) });
  const answer = (status: number, text: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(text);
  };

  const repo = state.repo(owner, name);
  const access = repo === undefined ? ({ ok: false, credential: "anonymous", status: 404, text: "Repository not found.\n" } as const) : accessTo(state, repo, basicPassword(req));
  if (!access.ok) {
    record(access.credential, access.status, access.token);
    return answer(access.status, access.text, access.status === 401 ? { "www-authenticate": 'Basic realm="GitHub"' } : {});
  }
  if (service !== "git-upload-pack") {
    record(access.credential, 403, access.token);
    return answer(403, "The GitHub fake serves clones and fetches only.\n");
  }
  const dir = gitDirIn(root, `${owner}/${name}`);
  const outcome = await runHttpBackend(
    {
      projectRoot: path.dirname(dir),
      pathInfo: `/${path.basename(dir)}${rest}`,
      method: req.method ?? "GET",
      queryString: url.search.slice(1),
      remoteUser: "",
      remoteAddr: req.socket.remoteAddress ?? "127.0.0.1",
    },
    req,
    res,
  );
  record(access.credential, outcome.status, access.token);
  res.end();
};
