/**
 * A fake GitHub for tests: github.com's OAuth and App-install pages on one
 * port (`url`), the REST API on another (`apiUrl`), sharing one state.
 *
 * Every API request and response is checked against GitHub's OpenAPI
 * description. A request that does not fit gets GitHub's 422; a response the
 * fake builds that does not fit is a bug in the fake and becomes a 500. Both
 * land in `violations`, which tests should expect to be empty.
 *
 * Where GitHub differs from its description the fake follows GitHub: errors
 * such as 401 on `/app/...` endpoints are not documented for every operation,
 * so undocumented error statuses are checked against GitHub's error shape
 * (`{message, documentation_url}`) instead.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isJsonObject } from "../../../src/providers/openapi/index.ts";
import type { MatchedOperation } from "../../../src/providers/openapi/index.ts";
import { GENERAL_DOCS_URL, errorResult, handlers } from "./api.ts";
import type { ApiContext, ApiResult, Caller } from "./api.ts";
import { appKeyPair, verifyAppJwt } from "./app-jwt.ts";
import { gitDirIn, handleGit, isGitPath } from "./git.ts";
import type { FakeGitCall } from "./git.ts";
import { closeServer, listen, readBody, sendJson } from "./http.ts";
import { gitHubOpenApi } from "./openapi.ts";
import { GitHubFakeState } from "./state.ts";
import type { FakeInstallation, FakeRepo, Permissions } from "./state.ts";
import { handleWeb } from "./web.ts";
import type { WebContext } from "./web.ts";
import { installationEvent, sendWebhook } from "./webhooks.ts";
import type { WebhookDelivery } from "./webhooks.ts";

export interface GitHubFakeOptions {
  readonly appId?: number;
  readonly appSlug?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The App's private key (PEM); a fresh RSA key is generated when omitted. */
  readonly appPrivateKey?: string;
  /** Registered OAuth callback URL; when set, redirect_uri must lie under it. */
  readonly callbackUrl?: string;
  /** The App's "Setup URL", where the install page redirects with installation_id. */
  readonly setupUrl?: string;
  /** Permissions new installations grant (default: contents write, metadata read). */
  readonly installPermissions?: Permissions;
  /** Users to create; default one user, "octocat". */
  readonly users?: ReadonlyArray<{ readonly login: string; readonly name?: string; readonly email?: string }>;
  readonly repos?: ReadonlyArray<{ readonly fullName: string; readonly private?: boolean; readonly defaultBranch?: string }>;
  /** The user "signed in" on the web pages: OAuth and install pages then act at once without a form. */
  readonly signedInAs?: string;
  /** Where to deliver `installation` webhooks when the App is installed or uninstalled. */
  readonly webhook?: { readonly url: string; readonly secret: string };
}

export interface FakeCall {
  readonly server: "web" | "api";
  readonly method: string;
  /** URL pathname. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly operationId: string | undefined;
  readonly caller: Caller["kind"] | "rejected" | undefined;
  readonly status: number;
}

export interface FakeViolation {
  readonly kind: "request" | "response" | "unimplemented";
  readonly method: string;
  readonly path: string;
  readonly details: string;
}

export interface GitHubFake {
  /** Web base URL (stands for https://github.com). */
  readonly url: string;
  /** REST API base URL (stands for https://api.github.com). */
  readonly apiUrl: string;
  readonly appId: number;
  readonly appSlug: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** PKCS#1 PEM, what GitHub hands out; use as GITHUB_APP_PRIVATE_KEY. */
  readonly appPrivateKey: string;
  readonly state: GitHubFakeState;
  readonly calls: ReadonlyArray<FakeCall>;
  readonly violations: ReadonlyArray<FakeViolation>;
  /** Webhooks the fake delivered itself (installation created/deleted). */
  readonly deliveries: ReadonlyArray<{ readonly event: string; readonly action: string } & WebhookDelivery>;
  /** Sets who is signed in on the web pages (undefined: pages show a sign-in form). */
  signIn(login: string | undefined): void;
  /** Late settings, for URLs known only once the server under test listens. */
  configure(settings: { readonly callbackUrl?: string; readonly setupUrl?: string; readonly webhook?: { readonly url: string; readonly secret: string } | null }): void;
  addUser(login: string, details?: { readonly name?: string; readonly email?: string }): void;
  addOrg(login: string, members: ReadonlyArray<string>): void;
  addRepo(fullName: string, details?: { readonly private?: boolean; readonly defaultBranch?: string }): FakeRepo;
  /** A user token without the OAuth dance; `scopes` as granted by GitHub. */
  issueUserToken(login: string, scopes?: ReadonlyArray<string>): string;
  /** Revoking makes every API call with the token answer 401 Bad credentials. */
  revokeUserToken(token: string): void;
  /** Installs the App on an account without the web page (delivers the webhook if configured). */
  install(account: string, repositories?: "all" | ReadonlyArray<string>): Promise<FakeInstallation>;
  /** Uninstalls (delivers the `installation.deleted` webhook if configured). */
  uninstall(installationId: number): Promise<void>;
  /** Waits for webhook deliveries the fake has started. */
  settled(): Promise<void>;
  /** Clones and fetches over git's smart HTTP, with how each authenticated (git.ts). */
  readonly gitCalls: ReadonlyArray<FakeGitCall>;
  /** The bare repository served at `<url>/<fullName>.git` (created empty): push commits to it by path. */
  gitDir(fullName: string): string;
  close(): Promise<void>;
}

const DEFAULT_PERMISSIONS: Permissions = { contents: "write", metadata: "read" };

/** Parses `Authorization: token X` / `Bearer X`. */
const credentialOf = (req: IncomingMessage): string | undefined => {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
  return match?.[1] ?? "";
};

export const startGitHubFake = async (options: GitHubFakeOptions = {}): Promise<GitHubFake> => {
  const openapi = gitHubOpenApi();
  const keys = appKeyPair(options.appPrivateKey);
  const appId = options.appId ?? 424242;
  const appSlug = options.appSlug ?? "deploy-mcp-test";
  const clientId = options.clientId ?? "Iv1.fakeclient00000";
  const clientSecret = options.clientSecret ?? "fake-client-secret";
  const state = new GitHubFakeState();
  for (const user of options.users ?? [{ login: "octocat" }]) state.addUser(user);
  for (const repo of options.repos ?? []) state.addRepo(repo);
  state.signedInAs = options.signedInAs;

  let callbackUrl = options.callbackUrl;
  let setupUrl = options.setupUrl;
  let webhook = options.webhook;
  const calls: Array<FakeCall> = [];
  const violations: Array<FakeViolation> = [];
  const deliveries: Array<{ event: string; action: string } & WebhookDelivery> = [];
  const inFlight = new Set<Promise<void>>();

  const deliverInstallationEvent = (action: "created" | "deleted", installation: FakeInstallation): Promise<void> => {
    const target = webhook;
    if (!target) return Promise.resolve();
    const account = state.account(installation.accountLogin);
    const repos = state.reposOf(installation.accountLogin).filter((repo) => state.installationCovers(installation, repo));
    const payload = installationEvent(action, {
      installationId: installation.id,
      account: installation.accountLogin,
      ...(account ? { accountId: account.id } : {}),
      appId,
      appSlug,
      repositories: repos.map((repo) => ({ fullName: `${repo.ownerLogin}/${repo.name}`, id: repo.id, private: repo.private })),
    });
    const delivery = sendWebhook({ url: target.url, secret: target.secret, event: "installation", payload, appId }).then(
      (result) => void deliveries.push({ event: "installation", action, ...result }),
      (error: unknown) => void deliveries.push({ event: "installation", action, deliveryId: "", status: 0, body: String(error) }),
    );
    inFlight.add(delivery);
    return delivery.finally(() => inFlight.delete(delivery));
  };

  // ---- web (github.com) -------------------------------------------------
  const webContext: WebContext = {
    state,
    appSlug,
    clientId,
    clientSecret,
    callbackUrl: () => callbackUrl,
    setupUrl: () => setupUrl,
    installPermissions: options.installPermissions ?? DEFAULT_PERMISSIONS,
    onInstalled: (installation) => void deliverInstallationEvent("created", installation),
  };

  const gitRoot = mkdtempSync(path.join(os.tmpdir(), "github-fake-git-"));
  const gitCalls: Array<FakeGitCall> = [];
  const web = await listen((req, res) => {
    // git's bodies are packfile requests: they stream into git http-backend, never parsed here.
    if (isGitPath(new URL(req.url ?? "/", "http://fake").pathname)) {
      void handleGit(state, gitRoot, gitCalls, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(`GitHub fake git failed: ${String(error)}`);
      });
      return;
    }
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? "/", "http://fake");
      res.once("finish", () =>
        calls.push({ server: "web", method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), operationId: undefined, caller: undefined, status: res.statusCode }),
      );
      handleWeb(webContext, req, res, body);
    })().catch((error: unknown) => sendJson(res, 500, { message: String(error) }));
  });

  // ---- API (api.github.com) ---------------------------------------------
  let apiContext: ApiContext | undefined;

  const resolveCaller = async (req: IncomingMessage): Promise<Caller | { readonly kind: "rejected"; readonly message: string }> => {
    const credential = credentialOf(req);
    if (credential === undefined) return { kind: "anonymous" };
    const userToken = state.userTokens.get(credential);
    if (userToken) {
      const account = state.account(userToken.login);
      return userToken.revoked || !account ? { kind: "rejected", message: "Bad credentials" } : { kind: "user", token: userToken, account };
    }
    const installationToken = state.installationTokens.get(credential);
    if (installationToken) {
      const installation = state.installations.get(installationToken.installationId);
      return installationToken.expiresAt.getTime() <= Date.now() || !installation
        ? { kind: "rejected", message: "Bad credentials" }
        : { kind: "installation", token: installationToken, installation };
    }
    if (credential.startsWith("eyJ")) {
      const check = await verifyAppJwt(credential, keys.publicKey, { appId, clientId });
      return check.ok ? { kind: "app" } : { kind: "rejected", message: check.message };
    }
    return { kind: "rejected", message: "Bad credentials" };
  };

  const docsUrlOf = (operation: MatchedOperation): string => {
    const item = openapi.document["paths"];
    const op = isJsonObject(item) && isJsonObject(item[operation.pathTemplate]) ? (item[operation.pathTemplate] as Record<string, unknown>)[operation.method] : undefined;
    const docs = isJsonObject(op) && isJsonObject(op["externalDocs"]) ? op["externalDocs"]["url"] : undefined;
    return typeof docs === "string" ? docs : GENERAL_DOCS_URL;
  };

  /** Checks a response against the description; undocumented error statuses against GitHub's error shape. */
  const responseIssues = (operation: MatchedOperation, result: ApiResult): ReadonlyArray<string> => {
    const issues = openapi.validateResponse(operation, result.status, result.body);
    const onlyUndocumentedStatus = issues.length > 0 && issues.every((issue) => issue.keyword === "status");
    if (onlyUndocumentedStatus && result.status >= 400) {
      const body = result.body;
      return isJsonObject(body) && typeof body["message"] === "string" && typeof body["documentation_url"] === "string"
        ? []
        : ["error body is not GitHub's {message, documentation_url}"];
    }
    return issues.map((issue) => `${issue.field || "(body)"} ${issue.message}`);
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const ctx = apiContext;
    if (!ctx) throw new Error("GitHub fake: API context not ready");
    const parsed = await readBody(req);
    const caller = await resolveCaller(req);
    const record = (status: number, operationId: string | undefined): void =>
      void calls.push({ server: "api", method, path: url.pathname, query: Object.fromEntries(url.searchParams), operationId, caller: caller.kind, status });
    const send = (result: ApiResult, operationId: string | undefined): void => {
      const scopeHeader: Record<string, string> = caller.kind === "user" ? { "x-oauth-scopes": caller.token.scopes.join(", ") } : {};
      sendJson(res, result.status, result.body, { "x-github-media-type": "github.v3; format=json", ...scopeHeader, ...result.headers });
      record(result.status, operationId);
    };

    if (caller.kind === "rejected") return send(errorResult(401, caller.message, GENERAL_DOCS_URL), undefined);
    if (parsed.kind === "invalid") return send(errorResult(400, "Problems parsing JSON", GENERAL_DOCS_URL), undefined);

    const validation = openapi.validateRequest({ method, path: url.pathname, query: url.searchParams, body: parsed.value });
    if (!validation) return send(errorResult(404, "Not Found", GENERAL_DOCS_URL), undefined);
    const { operation } = validation;
    const docsUrl = docsUrlOf(operation);
    if (validation.errors.length > 0) {
      const details = validation.errors.map((issue) => `For '${issue.location}${issue.field ? `/${issue.field}` : ""}', ${issue.message}.`).join("\n");
      violations.push({ kind: "request", method, path: url.pathname, details });
      return send(errorResult(422, `Invalid request.\n\n${details}`, docsUrl), operation.operationId);
    }
    const handler = operation.operationId === undefined ? undefined : handlers[operation.operationId];
    if (!handler) {
      const details = `the fake does not implement ${operation.operationId ?? `${method} ${operation.pathTemplate}`}`;
      violations.push({ kind: "unimplemented", method, path: url.pathname, details });
      return send(errorResult(501, `GitHub fake: ${details}`, docsUrl), operation.operationId);
    }
    const result = handler(ctx, { caller, pathParams: validation.pathParams, query: validation.query, body: parsed.value, docsUrl });
    const issues = responseIssues(operation, result);
    if (issues.length > 0) {
      const details = issues.join("; ");
      violations.push({ kind: "response", method, path: url.pathname, details });
      return send(errorResult(500, `GitHub fake: response does not match GitHub's OpenAPI description: ${details}`, docsUrl), operation.operationId);
    }
    send(result, operation.operationId);
  };

  const api = await listen((req, res) => {
    handleApi(req, res).catch((error: unknown) => {
      violations.push({ kind: "response", method: req.method ?? "GET", path: req.url ?? "", details: String(error) });
      if (!res.headersSent) sendJson(res, 500, { message: `GitHub fake crashed: ${String(error)}`, documentation_url: GENERAL_DOCS_URL });
    });
  });

  apiContext = { urls: { web: web.url, api: api.url }, state, app: { appId, appSlug } };

  return {
    url: web.url,
    apiUrl: api.url,
    appId,
    appSlug,
    clientId,
    clientSecret,
    appPrivateKey: keys.privateKeyPem,
    state,
    calls,
    gitCalls,
    gitDir: (fullName) => gitDirIn(gitRoot, fullName),
    violations,
    deliveries,
    signIn: (login) => {
      state.signedInAs = login;
    },
    configure: (settings) => {
      if (settings.callbackUrl !== undefined) callbackUrl = settings.callbackUrl;
      if (settings.setupUrl !== undefined) setupUrl = settings.setupUrl;
      if (settings.webhook !== undefined) webhook = settings.webhook ?? undefined;
    },
    addUser: (login, details) => void state.addUser({ login, ...details }),
    addOrg: (login, members) => void state.addOrg({ login, members }),
    addRepo: (fullName, details) => state.addRepo({ fullName, ...details }),
    issueUserToken: (login, scopes = []) => state.issueUserToken(login, scopes).token,
    revokeUserToken: (token) => {
      const found = state.userTokens.get(token);
      if (!found) throw new Error("GitHub fake: no such user token");
      found.revoked = true;
    },
    install: async (account, repositories = "all") => {
      const installation = state.install({ account, repositories, permissions: webContext.installPermissions });
      await deliverInstallationEvent("created", installation);
      return installation;
    },
    uninstall: async (installationId) => {
      const installation = state.installations.get(installationId);
      if (!installation) throw new Error(`GitHub fake: no installation ${installationId}`);
      // GitHub delivers the event with the installation's last state, then forgets it.
      const delivery = deliverInstallationEvent("deleted", installation);
      state.uninstall(installationId);
      await delivery;
    },
    settled: async () => {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    close: async () => {
      await Promise.all([closeServer(web.server), closeServer(api.server)]);
      await rm(gitRoot, { recursive: true, force: true });
    },
  };
};
