/**
 * The browser-facing pages of github.com the product uses: the OAuth web flow
 * (authorize page and code exchange) and the GitHub App install page.
 *
 * These endpoints are not in the REST OpenAPI description; their parameters and
 * answers follow GitHub's docs ("Authorizing OAuth apps", "Troubleshooting
 * OAuth app access token request errors", "Installing GitHub Apps"):
 * - unknown client_id → a 404 page; a redirect_uri outside the registered
 *   callback URL → redirect to the callback with error=redirect_uri_mismatch;
 * - PKCE: code_challenge_method must be S256; the exchange must present the
 *   matching code_verifier;
 * - codes are single-use and expire after ten minutes;
 * - the token endpoint answers 200 even for errors ({error, error_description,
 *   error_uri}), as JSON only when asked with Accept: application/json.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isJsonObject } from "../../../src/providers/openapi/index.ts";
import { escapeHtml, redirect, sendHtml } from "./http.ts";
import type { ParsedBody } from "./http.ts";
import { parseScopes } from "./state.ts";
import type { FakeAccount, FakeInstallation, GitHubFakeState, Permissions } from "./state.ts";

export interface WebContext {
  readonly state: GitHubFakeState;
  readonly appSlug: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The OAuth callback URL registered for the client; redirect_uri must lie under it. */
  readonly callbackUrl: () => string | undefined;
  /** Where the install page sends the user afterwards (the App's "Setup URL"). */
  readonly setupUrl: () => string | undefined;
  readonly installPermissions: Permissions;
  readonly onInstalled: (installation: FakeInstallation) => void;
}

const CODE_LIFETIME_MS = 10 * 60 * 1000;
const ERROR_DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";

type Params = Readonly<Record<string, string>>;

const paramsOf = (url: URL, body: ParsedBody): Params => {
  const params: Record<string, string> = Object.fromEntries(url.searchParams);
  if (isJsonObject(body.value)) {
    for (const [name, value] of Object.entries(body.value)) if (typeof value === "string") params[name] = value;
  }
  return params;
};

const page = (title: string, content: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body><main><h1>${escapeHtml(title)}</h1>${content}</main></body></html>`;

const notFoundPage = (res: ServerResponse): void => sendHtml(res, 404, page("Page not found", "<p>This is not the web page you are looking for.</p>"));
const badRequestPage = (res: ServerResponse, message: string): void => sendHtml(res, 400, page("Bad request", `<p role="alert">${escapeHtml(message)}</p>`));

const hiddenInputs = (params: Params): string =>
  Object.entries(params)
    .filter(([name]) => name !== "login")
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");

/** A form that signs in as a login and continues; browser tests fill "login" and click the button. */
const signInForm = (res: ServerResponse, options: { title: string; action: string; params: Params; button: string; login: string; error?: string }): void =>
  sendHtml(
    res,
    200,
    page(
      options.title,
      (options.error ? `<p role="alert">${escapeHtml(options.error)}</p>` : "") +
        `<form method="post" action="${escapeHtml(options.action)}">${hiddenInputs(options.params)}` +
        `<label>Username <input name="login" value="${escapeHtml(options.login)}" autocomplete="username"></label>` +
        `<button type="submit" name="authorize" value="1">${escapeHtml(options.button)}</button></form>`,
    ),
  );

/** The user acting on a page: the one submitted in the form, or the one signed in. */
const actingUser = (ctx: WebContext, req: IncomingMessage, params: Params): FakeAccount | "unknown" | undefined => {
  const login = req.method === "POST" ? params["login"] : ctx.state.signedInAs;
  if (login === undefined || login === "") return undefined;
  const account = ctx.state.account(login);
  return account && account.type === "User" ? account : "unknown";
};

const withQuery = (base: string, query: Readonly<Record<string, string | undefined>>): string => {
  const url = new URL(base);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
};

/** GitHub: same host and port as the callback URL, and a path at or below its path. */
const isUnderCallback = (redirectUri: string, callbackUrl: string): boolean => {
  try {
    const target = new URL(redirectUri);
    const callback = new URL(callbackUrl);
    const base = callback.pathname.replace(/\/+$/, "");
    return target.host === callback.host && target.protocol === callback.protocol && (target.pathname === callback.pathname || target.pathname.startsWith(`${base}/`));
  } catch {
    return false;
  }
};

const authorize = (ctx: WebContext, req: IncomingMessage, res: ServerResponse, params: Params): void => {
  if (params["client_id"] !== ctx.clientId) return notFoundPage(res);
  const callbackUrl = ctx.callbackUrl();
  const requested = params["redirect_uri"];
  const redirectUri = requested ?? callbackUrl;
  if (redirectUri === undefined) return badRequestPage(res, "redirect_uri is required: the fake has no registered callback URL.");
  if (callbackUrl !== undefined && requested !== undefined && !isUnderCallback(requested, callbackUrl)) {
    return redirect(
      res,
      withQuery(callbackUrl, {
        error: "redirect_uri_mismatch",
        error_description: "The redirect_uri MUST match the registered callback URL for this application.",
        error_uri: "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch",
        state: params["state"],
      }),
    );
  }
  const challenge = params["code_challenge"];
  const method = params["code_challenge_method"];
  if (method !== undefined && method !== "S256") return badRequestPage(res, "code_challenge_method must be S256; the plain method is not supported.");
  if (method !== undefined && challenge === undefined) return badRequestPage(res, "code_challenge is required with code_challenge_method.");
  if (challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return badRequestPage(res, "code_challenge must be a 43 character base64url SHA-256 hash.");

  const user = actingUser(ctx, req, params);
  if (user === undefined || user === "unknown") {
    return signInForm(res, {
      title: "Authorize application",
      action: "/login/oauth/authorize",
      params,
      button: "Authorize",
      login: params["login"] ?? "",
      ...(user === "unknown" ? { error: "Incorrect username." } : {}),
    });
  }
  ctx.state.signedInAs = user.login;
  const code = ctx.state.issueAuthCode({
    login: user.login,
    redirectUri,
    scopes: parseScopes(params["scope"]),
    codeChallenge: challenge,
    expiresAt: new Date(Date.now() + CODE_LIFETIME_MS),
  });
  redirect(res, withQuery(redirectUri, { code: code.code, state: params["state"] }));
};

type TokenAnswer = Readonly<Record<string, string>>;

const tokenError = (error: string, description: string, anchor: string): TokenAnswer => ({
  error,
  error_description: description,
  error_uri: `${ERROR_DOCS}/#${anchor}`,
});

const exchange = (ctx: WebContext, params: Params): TokenAnswer => {
  if (params["client_id"] !== ctx.clientId || params["client_secret"] !== ctx.clientSecret) {
    return tokenError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", "incorrect-client-credentials");
  }
  const code = ctx.state.authCodes.get(params["code"] ?? "");
  if (!code || code.used || code.expiresAt.getTime() < Date.now()) {
    return tokenError("bad_verification_code", "The code passed is incorrect or expired.", "bad-verification-code");
  }
  if (params["redirect_uri"] !== undefined && params["redirect_uri"] !== code.redirectUri) {
    return tokenError("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.", "redirect-uri-mismatch");
  }
  if (code.codeChallenge !== undefined) {
    const verifier = params["code_verifier"] ?? "";
    const computed = createHash("sha256").update(verifier).digest("base64url");
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || computed !== code.codeChallenge) {
      // RFC 7636 §4.6: a verifier that does not match the challenge is an invalid grant.
      return tokenError("invalid_grant", "The code_verifier does not match the code_challenge.", "bad-verification-code");
    }
  }
  code.used = true;
  const token = ctx.state.issueUserToken(code.login, code.scopes);
  return { access_token: token.token, token_type: "bearer", scope: token.scopes.join(",") };
};

const sendTokenAnswer = (req: IncomingMessage, res: ServerResponse, answer: TokenAnswer): void => {
  const json = (req.headers.accept ?? "").includes("application/json");
  const text = json ? JSON.stringify(answer) : new URLSearchParams(answer).toString();
  res.writeHead(200, { "content-type": json ? "application/json; charset=utf-8" : "application/x-www-form-urlencoded; charset=utf-8" });
  res.end(text);
};

const install = (ctx: WebContext, req: IncomingMessage, res: ServerResponse, params: Params): void => {
  const user = actingUser(ctx, req, params);
  if (user === undefined || user === "unknown") {
    return signInForm(res, {
      title: `Install ${ctx.appSlug}`,
      action: `/apps/${ctx.appSlug}/installations/new`,
      params,
      button: "Install",
      login: params["login"] ?? "",
      ...(user === "unknown" ? { error: "Incorrect username." } : {}),
    });
  }
  ctx.state.signedInAs = user.login;
  const existing = ctx.state.installationOn(user.login);
  const installation = existing ?? ctx.state.install({ account: user.login, permissions: ctx.installPermissions });
  if (!existing) ctx.onInstalled(installation);
  const setupUrl = ctx.setupUrl();
  if (setupUrl === undefined) {
    return sendHtml(res, 200, page("Installed", `<p>${escapeHtml(ctx.appSlug)} is installed on ${escapeHtml(user.login)} (installation ${installation.id}).</p>`));
  }
  redirect(
    res,
    withQuery(setupUrl, { installation_id: String(installation.id), setup_action: existing ? "update" : "install", state: params["state"] }),
  );
};

/** Routes a request to the fake's github.com pages. */
export const handleWeb = (ctx: WebContext, req: IncomingMessage, res: ServerResponse, body: ParsedBody): void => {
  const url = new URL(req.url ?? "/", "http://fake");
  const params = paramsOf(url, body);
  const method = req.method ?? "GET";
  if (url.pathname === "/login/oauth/authorize" && (method === "GET" || method === "POST")) return authorize(ctx, req, res, params);
  if (url.pathname === "/login/oauth/access_token" && method === "POST") return sendTokenAnswer(req, res, exchange(ctx, params));
  if (url.pathname === `/apps/${ctx.appSlug}/installations/new` && (method === "GET" || method === "POST")) return install(ctx, req, res, params);
  notFoundPage(res);
};
