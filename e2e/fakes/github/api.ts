/**
 * The REST API operations the fake serves, keyed by GitHub's operationId.
 *
 * Requests reach a handler already matched and validated against GitHub's
 * OpenAPI description, with the caller's credentials resolved. Handlers decide
 * who may see what the way GitHub does (private repositories are 404 to
 * outsiders, missing OAuth scopes are 404 on `POST /user/repos`, app endpoints
 * need the App's JWT) and return GitHub's error bodies.
 */
import { isJsonObject } from "../../../src/providers/openapi/index.ts";
import type { JsonObject } from "../../../src/providers/openapi/index.ts";
import { fullRepository, installation, installationToken, privateUser, repository } from "./representations.ts";
import type { AppIdentity, FakeUrls } from "./representations.ts";
import { hasScope } from "./state.ts";
import type { FakeAccount, FakeInstallation, FakeInstallationToken, FakeRepo, FakeUserToken, GitHubFakeState, Permission } from "./state.ts";

export type Caller =
  | { readonly kind: "anonymous" }
  | { readonly kind: "user"; readonly token: FakeUserToken; readonly account: FakeAccount }
  | { readonly kind: "installation"; readonly token: FakeInstallationToken; readonly installation: FakeInstallation }
  | { readonly kind: "app" };

export interface ApiContext {
  readonly urls: FakeUrls;
  readonly state: GitHubFakeState;
  readonly app: AppIdentity;
}

export interface ApiCall {
  readonly caller: Caller;
  readonly pathParams: Readonly<Record<string, unknown>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  /** The operation's documentation URL, which GitHub puts in its error bodies. */
  readonly docsUrl: string;
}

export interface ApiResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (ctx: ApiContext, call: ApiCall) => ApiResult;

export const GENERAL_DOCS_URL = "https://docs.github.com/rest";

export const errorResult = (status: number, message: string, docsUrl: string, extra: JsonObject = {}): ApiResult => ({
  status,
  body: { message, ...extra, documentation_url: docsUrl, status: String(status) },
});

const notFound = (call: ApiCall): ApiResult => errorResult(404, "Not Found", call.docsUrl);
const requiresAuthentication = (call: ApiCall): ApiResult => errorResult(401, "Requires authentication", call.docsUrl);
const notForIntegrations = (call: ApiCall): ApiResult => errorResult(403, "Resource not accessible by integration", call.docsUrl);
/** What GitHub answers on an `/app/...` endpoint without a valid app JWT. */
const jwtRequired = (): ApiResult => errorResult(401, "A JSON web token could not be decoded", GENERAL_DOCS_URL);

const withHeaders = (result: ApiResult, headers: Record<string, string>): ApiResult => ({ ...result, headers: { ...result.headers, ...headers } });

/** GitHub reports the scopes an endpoint accepts, which is how clients tell a missing scope from a missing object. */
const acceptedScopes = (result: ApiResult, scopes: string): ApiResult => withHeaders(result, { "x-accepted-oauth-scopes": scopes });

const page = <T>(items: ReadonlyArray<T>, query: Readonly<Record<string, unknown>>): ReadonlyArray<T> => {
  const perPage = Math.min(typeof query["per_page"] === "number" ? query["per_page"] : 30, 100);
  const pageNumber = typeof query["page"] === "number" && query["page"] > 0 ? query["page"] : 1;
  return items.slice((pageNumber - 1) * perPage, pageNumber * perPage);
};

/** Whether a caller may read a repository; GitHub answers 404 (not 403) when it may not. */
const canRead = (ctx: ApiContext, caller: Caller, repo: FakeRepo): boolean => {
  if (!repo.private) return true;
  switch (caller.kind) {
    case "user":
      return hasScope(caller.token.scopes, "repo") && ctx.state.belongsTo(caller.account.login, repo.ownerLogin);
    case "installation":
      return ctx.state.reposForInstallationToken(caller.token).includes(repo);
    default:
      return false;
  }
};

const PERMISSION_RANK: Readonly<Record<Permission, number>> = { read: 1, write: 2 };

/** GitHub sanitises repository names: anything outside [A-Za-z0-9._-] becomes "-". */
const sanitizeRepoName = (name: string): string => name.replace(/[^A-Za-z0-9._-]/g, "-");

const stringParam = (params: Readonly<Record<string, unknown>>, name: string): string => String(params[name] ?? "");

export const handlers: Readonly<Record<string, Handler>> = {
  "users/get-authenticated": (ctx, call) => {
    if (call.caller.kind === "anonymous") return requiresAuthentication(call);
    if (call.caller.kind !== "user") return notForIntegrations(call);
    return { status: 200, body: privateUser(ctx.urls, ctx.state, call.caller.account) };
  },

  "apps/list-installations-for-authenticated-user": (ctx, call) => {
    if (call.caller.kind === "anonymous") return requiresAuthentication(call);
    if (call.caller.kind !== "user") return notForIntegrations(call);
    const login = call.caller.account.login;
    const accessible = [...ctx.state.installations.values()].filter((value) => ctx.state.belongsTo(login, value.accountLogin));
    return {
      status: 200,
      body: {
        total_count: accessible.length,
        installations: page(accessible, call.query).map((value) => installation(ctx.urls, ctx.state, ctx.app, value)),
      },
    };
  },

  "apps/get-installation": (ctx, call) => {
    if (call.caller.kind !== "app") return jwtRequired();
    const found = ctx.state.installations.get(Number(call.pathParams["installation_id"]));
    return found ? { status: 200, body: installation(ctx.urls, ctx.state, ctx.app, found) } : notFound(call);
  },

  "apps/create-installation-access-token": (ctx, call) => {
    if (call.caller.kind !== "app") return jwtRequired();
    const found = ctx.state.installations.get(Number(call.pathParams["installation_id"]));
    if (!found) return notFound(call);
    const body = isJsonObject(call.body) ? call.body : {};
    const covered = ctx.state.reposOf(found.accountLogin).filter((repo) => ctx.state.installationCovers(found, repo));
    const requestedNames = Array.isArray(body["repositories"]) ? body["repositories"].map(String) : [];
    const requestedIds = Array.isArray(body["repository_ids"]) ? body["repository_ids"].map(Number) : [];
    const restricted: Array<string> = [];
    for (const name of requestedNames) {
      const repo = covered.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
      if (!repo) return errorResult(422, "There is at least one repository that does not exist or is not accessible to the parent installation.", call.docsUrl);
      restricted.push(repo.name.toLowerCase());
    }
    for (const id of requestedIds) {
      const repo = covered.find((candidate) => candidate.id === id);
      if (!repo) return errorResult(422, "There is at least one repository that does not exist or is not accessible to the parent installation.", call.docsUrl);
      restricted.push(repo.name.toLowerCase());
    }
    const requestedPermissions = isJsonObject(body["permissions"]) ? body["permissions"] : undefined;
    const permissions: Record<string, Permission> = {};
    if (requestedPermissions) {
      for (const [name, level] of Object.entries(requestedPermissions)) {
        const granted = found.permissions[name];
        if ((level !== "read" && level !== "write") || granted === undefined || PERMISSION_RANK[granted] < PERMISSION_RANK[level]) {
          return errorResult(422, "The permissions requested are not granted to this installation.", call.docsUrl);
        }
        permissions[name] = level;
      }
    }
    const token = ctx.state.issueInstallationToken({
      installationId: found.id,
      repositoryNames: restricted.length > 0 ? [...new Set(restricted)] : "all",
      permissions: requestedPermissions ? permissions : found.permissions,
      expiresAt: new Date(Date.now() + 60 * 60 * 1000),
    });
    return { status: 201, body: installationToken(ctx.urls, ctx.state, token, found) };
  },

  "apps/list-repos-accessible-to-installation": (ctx, call) => {
    if (call.caller.kind === "anonymous") return requiresAuthentication(call);
    if (call.caller.kind !== "installation") {
      return errorResult(403, "You must authenticate with an installation access token in order to list repositories for an installation.", call.docsUrl);
    }
    const repos = ctx.state.reposForInstallationToken(call.caller.token);
    return {
      status: 200,
      body: {
        total_count: repos.length,
        repositories: page(repos, call.query).map((repo) => repository(ctx.urls, ctx.state, repo)),
        repository_selection: call.caller.installation.repositorySelection,
      },
    };
  },

  "repos/get": (ctx, call) => {
    if (call.caller.kind === "app") return notForIntegrations(call);
    const repo = ctx.state.repo(stringParam(call.pathParams, "owner"), stringParam(call.pathParams, "repo"));
    const result = repo && canRead(ctx, call.caller, repo) ? { status: 200, body: fullRepository(ctx.urls, ctx.state, repo) } : notFound(call);
    return acceptedScopes(result, "repo");
  },

  "apps/get-repo-installation": (ctx, call) => {
    if (call.caller.kind !== "app") return jwtRequired();
    const repo = ctx.state.repo(stringParam(call.pathParams, "owner"), stringParam(call.pathParams, "repo"));
    const found = repo ? ctx.state.installationOn(repo.ownerLogin) : undefined;
    return repo && found && ctx.state.installationCovers(found, repo)
      ? { status: 200, body: installation(ctx.urls, ctx.state, ctx.app, found) }
      : notFound(call);
  },

  "repos/create-for-authenticated-user": (ctx, call) => {
    if (call.caller.kind === "anonymous") return requiresAuthentication(call);
    if (call.caller.kind !== "user") return notForIntegrations(call);
    const body = isJsonObject(call.body) ? call.body : {};
    const isPrivate = body["private"] === true;
    // Without the scope GitHub hides the endpoint: 404, with the accepted scopes in a header.
    if (!hasScope(call.caller.token.scopes, isPrivate ? "repo" : "public_repo")) return acceptedScopes(notFound(call), "public_repo, repo");
    const name = sanitizeRepoName(String(body["name"] ?? ""));
    const owner = call.caller.account.login;
    if (ctx.state.repo(owner, name)) {
      return errorResult(422, "Repository creation failed.", call.docsUrl, {
        errors: [{ resource: "Repository", code: "custom", field: "name", message: "name already exists on this account" }],
      });
    }
    const repo = ctx.state.addRepo({
      fullName: `${owner}/${name}`,
      private: isPrivate,
      description: typeof body["description"] === "string" ? body["description"] : null,
    });
    return acceptedScopes(
      { status: 201, body: fullRepository(ctx.urls, ctx.state, repo), headers: { location: `${ctx.urls.api}/repos/${owner}/${name}` } },
      "public_repo, repo",
    );
  },
};
