/**
 * Normalises the ways people (and agents) name a GitHub repository to
 * "owner/name": a bare name means one of the signed-in user's repositories,
 * and URLs or clone addresses are reduced to their owner and name.
 */
import { Result, Schema } from "effect";

export interface RepoRef {
  readonly owner: string;
  readonly name: string;
  /** "owner/name". */
  readonly fullName: string;
}

export class InvalidRepoRef extends Schema.TaggedError<InvalidRepoRef>()("InvalidRepoRef", {
  input: Schema.String,
  message: Schema.String,
}) {}

/** GitHub logins: 1–39 letters, digits or single inner hyphens. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** GitHub repository names: up to 100 letters, digits, ".", "_" or "-" (but not "." or ".."). */
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

const EXAMPLES = `Use a repository name ("my-app", one of yours), "owner/my-app", or "https://github.com/owner/my-app".`;

export interface RepoRefOptions {
  /** The web host repositories live on; default "github.com". */
  readonly host?: string;
}

const invalid = (input: string, why: string): Result.Result<never, InvalidRepoRef> =>
  Result.fail(new InvalidRepoRef({ input, message: `"${input}" ${why} ${EXAMPLES}` }));

const build = (input: string, owner: string, rawName: string): Result.Result<RepoRef, InvalidRepoRef> => {
  const name = rawName.replace(/\.git$/i, "");
  if (!OWNER.test(owner)) return invalid(input, `has "${owner}" as its owner, which is not a valid GitHub account name.`);
  if (!NAME.test(name) || name === "." || name === "..") {
    return invalid(input, `has "${name}" as its repository name; names use only letters, digits, ".", "_" and "-" (at most 100).`);
  }
  return Result.succeed({ owner, name, fullName: `${owner}/${name}` });
};

/** Owner and name from the path of a repository URL ("/owner/name(.git)(/)"). */
const fromPath = (input: string, path: string): Result.Result<RepoRef, InvalidRepoRef> => {
  const segments = path.split("/").filter((segment) => segment !== "");
  const [owner, name, ...rest] = segments;
  if (owner === undefined || name === undefined) return invalid(input, "does not name a repository (it needs an owner and a name).");
  if (rest.length > 0) {
    return invalid(input, `points inside a repository; use https://github.com/${owner}/${name.replace(/\.git$/i, "")} (set the branch separately).`);
  }
  return build(input, owner, name);
};

/**
 * Normalises `input` to "owner/name". `login` is the signed-in user's GitHub
 * login, the owner of a bare name. Fails with a message that shows the
 * accepted forms.
 */
export const normalizeRepoRef = (input: string, login: string, options: RepoRefOptions = {}): Result.Result<RepoRef, InvalidRepoRef> => {
  const host = (options.host ?? "github.com").toLowerCase();
  const text = input.trim();
  if (text === "") return invalid(input, "is empty.");

  const ssh = /^(?:ssh:\/\/)?git@([^:/]+)[:/](.+)$/i.exec(text);
  if (ssh) {
    const [, sshHost = "", path = ""] = ssh;
    if (sshHost.toLowerCase() !== host) return invalid(input, `is on ${sshHost}; only repositories on ${host} are supported.`);
    return fromPath(input, path);
  }

  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.toLowerCase().startsWith(`${host}/`) || text.toLowerCase().startsWith(`www.${host}/`)) {
    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
    } catch {
      return invalid(input, "is not a valid URL.");
    }
    const urlHost = url.hostname.toLowerCase().replace(/^www\./, "");
    if (url.protocol !== "https:" && url.protocol !== "http:") return invalid(input, `uses ${url.protocol.slice(0, -1)}://, not https://.`);
    if (urlHost !== host) return invalid(input, `is on ${url.hostname}; only repositories on ${host} are supported.`);
    if (url.search !== "" || url.hash !== "") return invalid(input, "has a query or fragment; give the plain repository URL.");
    return fromPath(input, url.pathname);
  }

  const parts = text.split("/");
  if (parts.length === 1) return build(input, login, text);
  if (parts.length === 2) return build(input, parts[0] ?? "", parts[1] ?? "");
  return invalid(input, "has more than one \"/\".");
};
