/**
 * Everything the product asks of GitHub: OAuth sign-in (with PKCE), reading the
 * signed-in user, the GitHub App's installations, repositories, creating a
 * repository for the user, and minting a push token for exactly one repository.
 *
 * App calls go through `@octokit/app` (RS256 JWT, installation tokens); user
 * calls through a plain Octokit with the user's token. Both point at `apiUrl`,
 * so tests aim the service at the fake in `e2e/fakes/github`.
 */
import { createPrivateKey } from "node:crypto";
import { App } from "@octokit/app";
import { Octokit as OctokitCore } from "@octokit/core";
import { Context, Effect, Layer, Option } from "effect";
import { AppConfig, ConfigError } from "../../config/config.ts";
import { GitHubAppNotInstalled, GitHubForbidden, GitHubNotFound, GitHubRepoAlreadyExists, GitHubScopeMissing, GitHubUnauthorized } from "./errors.ts";
import type { GitHubError, GitHubOAuthRejected } from "./errors.ts";
import { authorizeUrl, parseScopes, readTokenAnswer } from "./oauth.ts";
import type { AuthorizeUrlInput, ExchangedToken } from "./oauth.ts";
import { makeGitHubRequester } from "./request.ts";
import type { GitHubFailure } from "./request.ts";

export interface GitHubApiConfig {
  /** Default https://github.com (OAuth and install pages). */
  readonly webUrl?: string;
  /** Default https://api.github.com. */
  readonly apiUrl?: string;
  readonly appId: number | string;
  /** The App's PEM private key; escaped newlines ("\n" as two characters) are accepted. */
  readonly appPrivateKey: string;
  /** The App's URL name; needed to point people at the install page. */
  readonly appSlug?: string;
  /** The App's OAuth client id and secret (GitHub App settings → "Client ID"). */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Per attempt; default 10 s. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt for calls that are safe to repeat; default 3. */
  readonly retries?: number;
  /** First backoff delay, doubled each retry (with jitter, capped at 5 s); default 250 ms. */
  readonly retryBaseDelayMs?: number;
}

export interface GitHubUser {
  readonly id: number;
  readonly login: string;
}

export interface GitHubInstallation {
  readonly id: number;
  readonly account: { readonly id: number; readonly login: string; readonly type: string };
  /** "all" covers every repository of the account, including future ones. */
  readonly repositorySelection: "all" | "selected";
  readonly permissions: Readonly<Record<string, string>>;
  readonly suspended: boolean;
}

export interface GitHubRepo {
  /** "owner/name", as GitHub spells it. */
  readonly fullName: string;
  readonly private: boolean;
  readonly defaultBranch: string;
}

export type UserTokenStatus =
  | { readonly _tag: "Valid"; readonly login: string; readonly scopes: ReadonlyArray<string> }
  | { readonly _tag: "Revoked" };

export interface RepoPushToken {
  /** An installation token (`ghs_…`) for exactly one repository (push or read, as minted). */
  readonly token: string;
  /** ISO 8601; GitHub's installation tokens live one hour. */
  readonly expiresAt: string;
}

export interface CreateRepoInput {
  readonly name: string;
  readonly description?: string;
  readonly private: boolean;
}

export class GitHubApi extends Context.Service<
  GitHubApi,
  {
    /** Where to send the browser to sign in; PKCE S256 is always used. */
    readonly oauthAuthorizeUrl: (input: AuthorizeUrlInput) => string;
    /** The App's install page (`state` is passed back to the setup URL); None without an App slug. */
    readonly installUrl: (state?: string) => Option.Option<string>;
    readonly exchangeOAuthCode: (input: {
      readonly code: string;
      readonly codeVerifier: string;
      readonly redirectUri: string;
    }) => Effect.Effect<ExchangedToken, GitHubOAuthRejected | GitHubError>;
    readonly getAuthenticatedUser: (userToken: string) => Effect.Effect<GitHubUser, GitHubError>;
    /** Revoked (or expired) tokens are a status here, not an error. */
    readonly checkUserToken: (userToken: string) => Effect.Effect<UserTokenStatus, GitHubError>;
    /** Installations of this App the user can access (their account, their organizations). */
    readonly listUserInstallations: (userToken: string) => Effect.Effect<ReadonlyArray<GitHubInstallation>, GitHubError>;
    /** Asks GitHub (as the App) whether an installation exists: GitHubNotFound when it does not. */
    readonly getInstallation: (installationId: number) => Effect.Effect<GitHubInstallation, GitHubError>;
    /** The installation of this App that covers a repository, if any. */
    readonly getRepoInstallation: (owner: string, repo: string) => Effect.Effect<Option.Option<number>, GitHubError>;
    /** None when the repository does not exist or the token (anonymous when omitted) may not see it. */
    readonly getRepo: (owner: string, repo: string, token?: string) => Effect.Effect<Option.Option<GitHubRepo>, GitHubError>;
    /** Creates a repository on the user's account; needs the `repo` scope (or `public_repo` for a public one). */
    readonly createRepo: (
      userToken: string,
      input: CreateRepoInput,
    ) => Effect.Effect<GitHubRepo, GitHubError | GitHubScopeMissing | GitHubRepoAlreadyExists>;
    /** A one-hour token restricted to one repository of the installation with contents: write. */
    readonly createRepoPushToken: (installationId: number, repoName: string) => Effect.Effect<RepoPushToken, GitHubError | GitHubAppNotInstalled>;
    /** A one-hour token restricted to one repository of the installation with contents: read (to clone it). */
    readonly createRepoReadToken: (installationId: number, repoName: string) => Effect.Effect<RepoPushToken, GitHubError | GitHubAppNotInstalled>;
  }
>()("deploy-mcp/providers/github/GitHubApi") {
  /** Fails with ConfigError when the App's private key cannot be read. */
  static readonly layer = (config: GitHubApiConfig): Layer.Layer<GitHubApi, ConfigError> => Layer.effect(GitHubApi, makeGitHubApi(config));

  /** Built from the server's environment (GITHUB_* variables). */
  static readonly layerFromAppConfig: Layer.Layer<GitHubApi, ConfigError, AppConfig> = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig;
      const required = (name: "GITHUB_APP_ID" | "GITHUB_APP_PRIVATE_KEY" | "GITHUB_CLIENT_ID" | "GITHUB_CLIENT_SECRET") => {
        const value = config[name];
        return value === undefined
          ? Effect.fail(new ConfigError({ variable: name, message: `${name} is not set: GitHub sign-in and the GitHub App need it (GitHub → Settings → Developer settings → GitHub Apps).` }))
          : Effect.succeed(value);
      };
      return GitHubApi.layer({
        webUrl: config.GITHUB_URL,
        apiUrl: config.GITHUB_API_URL,
        appId: yield* required("GITHUB_APP_ID"),
        appPrivateKey: yield* required("GITHUB_APP_PRIVATE_KEY"),
        clientId: yield* required("GITHUB_CLIENT_ID"),
        clientSecret: yield* required("GITHUB_CLIENT_SECRET"),
        ...(config.GITHUB_APP_SLUG === undefined ? {} : { appSlug: config.GITHUB_APP_SLUG }),
      });
    }),
  );
}

const trimSlash = (url: string): string => url.replace(/\/+$/, "");

const readPrivateKey = (pem: string): Effect.Effect<string, ConfigError> => {
  const key = pem.replace(/\\n/g, "\n");
  return Effect.try({
    try: () => {
      createPrivateKey(key);
      return key;
    },
    catch: (cause) =>
      new ConfigError({
        variable: "GITHUB_APP_PRIVATE_KEY",
        message: `GITHUB_APP_PRIVATE_KEY is not a PEM private key (${cause instanceof Error ? cause.message : String(cause)}). Paste the .pem file GitHub generated for the App.`,
      }),
  });
};

/** The shape of an installation in GitHub's answers, as far as we read it. */
interface InstallationData {
  readonly id: number;
  // Octokit's types allow bigint ids; GitHub's fit in a double.
  readonly account: { readonly id: number | bigint; readonly login?: string; readonly slug?: string; readonly type?: string } | null;
  readonly repository_selection: "all" | "selected";
  readonly permissions: Readonly<Record<string, string | undefined>>;
  readonly suspended_at: string | null;
}

const toInstallation = (data: InstallationData): GitHubInstallation => ({
  id: data.id,
  account: {
    id: Number(data.account?.id ?? 0),
    // Enterprise accounts have a slug instead of a login.
    login: data.account?.login ?? data.account?.slug ?? "",
    type: data.account?.type ?? "Enterprise",
  },
  repositorySelection: data.repository_selection,
  permissions: Object.fromEntries(Object.entries(data.permissions).flatMap(([name, level]) => (level === undefined ? [] : [[name, level]]))),
  suspended: data.suspended_at !== null,
});

const toRepo = (data: { readonly full_name: string; readonly private: boolean; readonly default_branch: string }): GitHubRepo => ({
  fullName: data.full_name,
  private: data.private,
  defaultBranch: data.default_branch,
});

const headerScopes = (value: string | number | undefined): ReadonlyArray<string> => parseScopes(value === undefined ? undefined : String(value));

export const makeGitHubApi = Effect.fnUntraced(function* (config: GitHubApiConfig) {
  const webUrl = trimSlash(config.webUrl ?? "https://github.com");
  const apiUrl = trimSlash(config.apiUrl ?? "https://api.github.com");
  const privateKey = yield* readPrivateKey(config.appPrivateKey);
  const Octokit = OctokitCore.defaults({ baseUrl: apiUrl, userAgent: "deploy-mcp" });
  const app = new App({ appId: config.appId, privateKey, Octokit, log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } });
  const web = new OctokitCore({ baseUrl: webUrl, userAgent: "deploy-mcp" });
  const anonymous = new Octokit();
  const asUser = (token: string) => new Octokit({ auth: token });
  const request = makeGitHubRequester({
    timeoutMs: config.timeoutMs ?? 10_000,
    retries: config.retries ?? 3,
    retryBaseDelayMs: config.retryBaseDelayMs ?? 250,
  });

  const installUrl = (state?: string): Option.Option<string> =>
    config.appSlug === undefined
      ? Option.none()
      : Option.some(`${webUrl}/apps/${encodeURIComponent(config.appSlug)}/installations/new${state === undefined ? "" : `?state=${encodeURIComponent(state)}`}`);

  const installAdvice = (target: string): string =>
    Option.match(installUrl(), {
      onNone: () => `Install the GitHub App on ${target} (dashboard → Install GitHub App), then try again.`,
      onSome: (url) => `Install the GitHub App at ${url} and give it access to ${target}, then try again.`,
    });

  /** A 401 on an App call means our App credentials are wrong, not the user's. */
  const appCredentialsRefused = (operation: string) => (failure: GitHubFailure) =>
    failure.status === 401
      ? new GitHubUnauthorized({
          operation,
          message: `GitHub rejected the App's credentials (${failure.detail}): check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY.`,
        })
      : undefined;

  const exchangeOAuthCode = Effect.fn("GitHubApi.exchangeOAuthCode")(function* (input: { readonly code: string; readonly codeVerifier: string; readonly redirectUri: string }) {
    const body = yield* request({
      operation: "oauth/access-token",
      action: "exchange the sign-in code for a token",
      // Codes are single-use: repeating a lost exchange could only fail.
      retry: "once",
      run: async (signal): Promise<unknown> => {
        const response = await web.request("POST /login/oauth/access_token", {
          client_id: config.clientId,
          client_secret: config.clientSecret,
          code: input.code,
          code_verifier: input.codeVerifier,
          redirect_uri: input.redirectUri,
          headers: { accept: "application/json" },
          request: { signal },
        });
        return response.data as unknown;
      },
    });
    return yield* readTokenAnswer(body);
  });

  const getAuthenticatedUser = (userToken: string): Effect.Effect<GitHubUser, GitHubError> =>
    request({
      operation: "users/get-authenticated",
      action: "read the signed-in GitHub user",
      retry: "idempotent",
      run: async (signal) => {
        const { data } = await asUser(userToken).request("GET /user", { request: { signal } });
        return { id: Number(data.id), login: data.login };
      },
    });

  const checkUserToken = (userToken: string): Effect.Effect<UserTokenStatus, GitHubError> =>
    request({
      operation: "users/get-authenticated",
      action: "check the GitHub sign-in",
      retry: "idempotent",
      run: async (signal): Promise<UserTokenStatus> => {
        const { data, headers } = await asUser(userToken).request("GET /user", { request: { signal } });
        return { _tag: "Valid", login: data.login, scopes: headerScopes(headers["x-oauth-scopes"]) };
      },
    }).pipe(Effect.catchTag("GitHubUnauthorized", () => Effect.succeed<UserTokenStatus>({ _tag: "Revoked" })));

  const listUserInstallations = Effect.fn("GitHubApi.listUserInstallations")(function* (userToken: string) {
    const octokit = asUser(userToken);
    const installations: Array<GitHubInstallation> = [];
    for (let page = 1; ; page++) {
      const { total, items } = yield* request({
        operation: "apps/list-installations-for-authenticated-user",
        action: "list your GitHub App installations",
        retry: "idempotent",
        run: async (signal) => {
          const { data } = await octokit.request("GET /user/installations", { per_page: 100, page, request: { signal } });
          return { total: data.total_count, items: data.installations.map(toInstallation) };
        },
      });
      installations.push(...items);
      if (items.length === 0 || installations.length >= total) return installations as ReadonlyArray<GitHubInstallation>;
    }
  });

  const getInstallation = (installationId: number): Effect.Effect<GitHubInstallation, GitHubError> =>
    request({
      operation: "apps/get-installation",
      action: `read GitHub App installation ${installationId}`,
      retry: "idempotent",
      run: async (signal) => {
        const { data } = await app.octokit.request("GET /app/installations/{installation_id}", { installation_id: installationId, request: { signal } });
        return toInstallation(data);
      },
      refine: (failure) =>
        failure.status === 404
          ? new GitHubNotFound({
              operation: "apps/get-installation",
              message: `GitHub App installation ${installationId} does not exist: it was never created, or it has been uninstalled.`,
            })
          : appCredentialsRefused("apps/get-installation")(failure),
    });

  const getRepoInstallation = (owner: string, repo: string): Effect.Effect<Option.Option<number>, GitHubError> =>
    request({
      operation: "apps/get-repo-installation",
      action: `find the GitHub App installation for ${owner}/${repo}`,
      retry: "idempotent",
      run: async (signal) => {
        const { data } = await app.octokit.request("GET /repos/{owner}/{repo}/installation", { owner, repo, request: { signal } });
        return Option.some(data.id);
      },
      refine: appCredentialsRefused("apps/get-repo-installation"),
    }).pipe(Effect.catchTag("GitHubNotFound", () => Effect.succeed(Option.none<number>())));

  const getRepo = (owner: string, repo: string, token?: string): Effect.Effect<Option.Option<GitHubRepo>, GitHubError> =>
    request({
      operation: "repos/get",
      action: `read repository ${owner}/${repo}`,
      retry: "idempotent",
      run: async (signal) => {
        const { data } = await (token === undefined ? anonymous : asUser(token)).request("GET /repos/{owner}/{repo}", { owner, repo, request: { signal } });
        return Option.some(toRepo(data));
      },
    }).pipe(Effect.catchTag("GitHubNotFound", () => Effect.succeed(Option.none<GitHubRepo>())));

  const createRepo = (userToken: string, input: CreateRepoInput): Effect.Effect<GitHubRepo, GitHubError | GitHubScopeMissing | GitHubRepoAlreadyExists> => {
    const operation = "repos/create-for-authenticated-user";
    const required = input.private ? ["repo"] : ["public_repo", "repo"];
    return request({
      operation,
      action: `create repository ${input.name}`,
      retry: "once",
      run: async (signal) => {
        const { data } = await asUser(userToken).request("POST /user/repos", {
          name: input.name,
          private: input.private,
          ...(input.description === undefined ? {} : { description: input.description }),
          request: { signal },
        });
        return toRepo(data);
      },
      refine: (failure): GitHubScopeMissing | GitHubRepoAlreadyExists | undefined => {
        const granted = failure.headers["x-oauth-scopes"] === undefined ? undefined : headerScopes(failure.headers["x-oauth-scopes"]);
        // GitHub hides the endpoint (404, sometimes 403) from tokens without the scope; its scope headers tell the two apart.
        if ((failure.status === 404 || failure.status === 403) && granted !== undefined && !required.some((scope) => granted.includes(scope))) {
          return new GitHubScopeMissing({
            operation,
            requiredScopes: ["repo"],
            grantedScopes: [...granted],
            message: `GitHub did not let us create repository ${input.name}: your sign-in did not grant the "repo" scope (granted: ${granted.length > 0 ? granted.join(", ") : "none"}). Sign in again at /auth/github?scope=repo to grant it.`,
          });
        }
        if (failure.status === 422 && failure.errors.some((message) => /already exists/i.test(message))) {
          return new GitHubRepoAlreadyExists({
            operation,
            repoName: input.name,
            message: `You already have a repository named ${input.name} on GitHub: use it, or choose another name.`,
          });
        }
        return undefined;
      },
    });
  };

  /** Installation tokens are always narrowed to one repository and one permission: least privilege per use. */
  const createRepoToken = (access: "read" | "write") => (installationId: number, repoName: string): Effect.Effect<RepoPushToken, GitHubError | GitHubAppNotInstalled> => {
    const operation = "apps/create-installation-access-token";
    const purpose = access === "write" ? "push to" : "clone";
    // Token restrictions take repository names without the owner.
    const name = repoName.includes("/") ? repoName.slice(repoName.indexOf("/") + 1) : repoName;
    return request({
      operation,
      action: `create a token to ${purpose} ${name}`,
      retry: "idempotent",
      run: async (signal) => {
        const { data } = await app.octokit.request("POST /app/installations/{installation_id}/access_tokens", {
          installation_id: installationId,
          repositories: [name],
          permissions: { contents: access },
          request: { signal },
        });
        return { token: data.token, expiresAt: data.expires_at };
      },
      refine: (failure): GitHubAppNotInstalled | GitHubForbidden | GitHubUnauthorized | undefined => {
        if (failure.status === 404) {
          return new GitHubAppNotInstalled({
            operation,
            target: `installation ${installationId}`,
            ...Option.match(installUrl(), { onNone: () => ({}), onSome: (url) => ({ installUrl: url }) }),
            message: `The GitHub App installation ${installationId} no longer exists. ${installAdvice(repoName)}`,
          });
        }
        if (failure.status === 422 && /permissions/i.test(failure.detail)) {
          return new GitHubForbidden({
            operation,
            message: `The GitHub App installation does not grant "contents: ${access}", so it cannot ${purpose} ${repoName}. Accept the App's requested permissions in the installation settings on GitHub, then try again.`,
          });
        }
        if (failure.status === 422) {
          return new GitHubAppNotInstalled({
            operation,
            target: repoName,
            ...Option.match(installUrl(), { onNone: () => ({}), onSome: (url) => ({ installUrl: url }) }),
            message: `The GitHub App installation does not include ${repoName}. ${installAdvice(repoName)}`,
          });
        }
        return appCredentialsRefused(operation)(failure);
      },
    });
  };

  return GitHubApi.of({
    oauthAuthorizeUrl: (input) => authorizeUrl(webUrl, config.clientId, input),
    installUrl,
    exchangeOAuthCode,
    getAuthenticatedUser,
    checkUserToken,
    listUserInstallations,
    getInstallation,
    getRepoInstallation,
    getRepo,
    createRepo,
    createRepoPushToken: createRepoToken("write"),
    createRepoReadToken: createRepoToken("read"),
  });
});
