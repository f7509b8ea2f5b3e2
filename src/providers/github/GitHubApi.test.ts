/**
 * GitHubApi against the GitHub fake: real HTTP on 127.0.0.1, every API
 * request and answer checked against GitHub's OpenAPI description by the fake.
 */
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { Effect, Layer, Option, Result } from "effect";
import { startGitHubFake } from "../../../e2e/fakes/github/index.ts";
import type { GitHubFake } from "../../../e2e/fakes/github/index.ts";
import { AppConfig, decodeConfig } from "../../config/config.ts";
import { GitHubApi } from "./index.ts";
import type { GitHubApiConfig } from "./index.ts";

type Api = GitHubApi["Service"];

/** Asserts an error's tag and narrows it, so tests read its fields with their types. */
const expectTag = <E extends { readonly _tag: string }, T extends E["_tag"]>(error: E, tag: T): Extract<E, { readonly _tag: T }> => {
  assert.equal(error._tag, tag, `expected ${tag}, got ${error._tag}: ${String(Reflect.get(error, "message"))}`);
  return error as Extract<E, { readonly _tag: T }>;
};

const pkce = () => {
  const codeVerifier = randomBytes(32).toString("base64url");
  return { codeVerifier, codeChallenge: createHash("sha256").update(codeVerifier).digest("base64url") };
};

describe("GitHubApi against the fake", () => {
  let fake: GitHubFake;
  const redirectUri = "http://127.0.0.1:9/auth/github/callback";

  before(async () => {
    fake = await startGitHubFake({
      users: [{ login: "alice" }, { login: "bob" }],
      repos: [{ fullName: "alice/site" }, { fullName: "alice/secret", private: true, defaultBranch: "trunk" }, { fullName: "bob/tools" }],
    });
  });
  after(() => fake.close());
  afterEach(async () => {
    assert.deepEqual(fake.violations, []);
    for (const id of [...fake.state.installations.keys()]) await fake.uninstall(id);
    fake.signIn(undefined);
  });

  const configFor = (overrides: Partial<GitHubApiConfig> = {}): GitHubApiConfig => ({
    webUrl: fake.url,
    apiUrl: fake.apiUrl,
    appId: fake.appId,
    appPrivateKey: fake.appPrivateKey,
    appSlug: fake.appSlug,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    timeoutMs: 5_000,
    retries: 2,
    retryBaseDelayMs: 1,
    ...overrides,
  });
  const run = <A, E>(use: (api: Api) => Effect.Effect<A, E>, overrides: Partial<GitHubApiConfig> = {}): Promise<A> =>
    Effect.runPromise(Effect.flatMap(Effect.service(GitHubApi), use).pipe(Effect.provide(GitHubApi.layer(configFor(overrides)))));
  const fail = <A, E>(use: (api: Api) => Effect.Effect<A, E>, overrides: Partial<GitHubApiConfig> = {}): Promise<E> =>
    run((api) => Effect.flip(use(api)), overrides);

  /** Follows the authorize URL as a signed-in browser would and returns the code GitHub redirects back with. */
  const authorize = async (url: string): Promise<string> => {
    const response = await fetch(url, { redirect: "manual" });
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get("location") ?? "");
    return location.searchParams.get("code") ?? "";
  };

  describe("OAuth sign-in", () => {
    test("the authorize URL carries client id, state, scopes and an S256 challenge; the code exchanges for a token", async () => {
      fake.signIn("alice");
      const { codeVerifier, codeChallenge } = pkce();
      const url = await run((api) => Effect.succeed(api.oauthAuthorizeUrl({ state: "st", codeChallenge, redirectUri, scopes: ["repo", "read:user"] })));
      const parsed = new URL(url);
      assert.equal(`${parsed.origin}${parsed.pathname}`, `${fake.url}/login/oauth/authorize`);
      assert.deepEqual(Object.fromEntries(parsed.searchParams), {
        client_id: fake.clientId,
        redirect_uri: redirectUri,
        state: "st",
        scope: "repo read:user",
        code_challenge: codeChallenge,
        code_challenge_method: "S256",
      });

      const code = await authorize(url);
      const token = await run((api) => api.exchangeOAuthCode({ code, codeVerifier, redirectUri }));
      assert.deepEqual(token.scopes, ["repo", "read:user"]);
      const user = await run((api) => api.getAuthenticatedUser(token.accessToken));
      assert.equal(user.login, "alice");
      assert.equal(user.id, fake.state.account("alice")?.id);

      const reused = expectTag(await fail((api) => api.exchangeOAuthCode({ code, codeVerifier, redirectUri })), "GitHubOAuthRejected");
      assert.equal(reused.error, "bad_verification_code");
    });

    test("a wrong code, code verifier or client secret is a GitHubOAuthRejected that says what to do", async () => {
      fake.signIn("alice");
      const { codeChallenge } = pkce();
      const url = await run((api) => Effect.succeed(api.oauthAuthorizeUrl({ state: "s", codeChallenge, redirectUri, scopes: [] })));

      const unknownCode = expectTag(await fail((api) => api.exchangeOAuthCode({ code: "nope", codeVerifier: pkce().codeVerifier, redirectUri })), "GitHubOAuthRejected");
      assert.equal(unknownCode.error, "bad_verification_code");
      assert.match(unknownCode.message, /Start the sign-in again at \/auth\/github/);

      const firstCode = await authorize(url);
      const wrongVerifier = expectTag(
        await fail((api) => api.exchangeOAuthCode({ code: firstCode, codeVerifier: pkce().codeVerifier, redirectUri })),
        "GitHubOAuthRejected",
      );
      assert.equal(wrongVerifier.error, "invalid_grant");

      const code = await authorize(url);
      const badSecret = expectTag(await fail((api) => api.exchangeOAuthCode({ code, codeVerifier: "x", redirectUri }), { clientSecret: "wrong" }), "GitHubOAuthRejected");
      assert.equal(badSecret.error, "incorrect_client_credentials");
      assert.match(badSecret.message, /GITHUB_CLIENT_SECRET/);
    });

    test("checkUserToken tells valid tokens (with their scopes) from revoked ones", async () => {
      const token = fake.issueUserToken("alice", ["repo"]);
      assert.deepEqual(await run((api) => api.checkUserToken(token)), { _tag: "Valid", login: "alice", scopes: ["repo"] });
      fake.revokeUserToken(token);
      assert.deepEqual(await run((api) => api.checkUserToken(token)), { _tag: "Revoked" });
      const error = expectTag(await fail((api) => api.getAuthenticatedUser(token)), "GitHubUnauthorized");
      assert.match(error.message, /Bad credentials/);
    });
  });

  describe("GitHub App", () => {
    test("listUserInstallations returns the user's installations across pages", async () => {
      const token = fake.issueUserToken("alice");
      assert.deepEqual(await run((api) => api.listUserInstallations(token)), []);
      const own = await fake.install("alice", ["secret"]);
      for (let i = 0; i < 101; i++) {
        fake.addOrg(`org-${i}-${own.id}`, ["alice"]);
        await fake.install(`org-${i}-${own.id}`);
      }
      await fake.install("bob");
      const installations = await run((api) => api.listUserInstallations(token));
      assert.equal(installations.length, 102);
      assert.deepEqual(installations[0], {
        id: own.id,
        account: { id: fake.state.account("alice")?.id, login: "alice", type: "User" },
        repositorySelection: "selected",
        permissions: { contents: "write", metadata: "read" },
        suspended: false,
      });
      assert.ok(!installations.some((installation) => installation.account.login === "bob"));
      const pages = fake.calls.filter((call) => call.operationId === "apps/list-installations-for-authenticated-user" && call.query["page"] !== "1");
      assert.ok(pages.length >= 1);
    });

    test("getInstallation verifies an installation exists, with the App's own credentials", async () => {
      const installation = await fake.install("bob");
      const found = await run((api) => api.getInstallation(installation.id));
      assert.equal(found.account.login, "bob");
      assert.equal(found.repositorySelection, "all");

      expectTag(await fail((api) => api.getInstallation(installation.id + 1000)), "GitHubNotFound");

      const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
      const forged = expectTag(await fail((api) => api.getInstallation(installation.id), { appPrivateKey: otherKey }), "GitHubUnauthorized");
      assert.match(forged.message, /GITHUB_APP_PRIVATE_KEY/);
    });

    test("getRepoInstallation finds the installation covering a repository, or none", async () => {
      const installation = await fake.install("alice", ["secret"]);
      assert.deepEqual(await run((api) => api.getRepoInstallation("alice", "secret")), Option.some(installation.id));
      assert.deepEqual(await run((api) => api.getRepoInstallation("alice", "site")), Option.none());
      assert.deepEqual(await run((api) => api.getRepoInstallation("bob", "tools")), Option.none());
    });

    test("createRepoPushToken mints a one-hour token for exactly one repository with contents: write", async () => {
      fake.addRepo("alice/other");
      const installation = await fake.install("alice");
      const { token, expiresAt } = await run((api) => api.createRepoPushToken(installation.id, "alice/secret"));
      assert.ok(Date.parse(expiresAt) > Date.now() + 59 * 60 * 1000);
      const minted = fake.state.installationTokens.get(token);
      assert.deepEqual(minted?.repositoryNames, ["secret"]);
      assert.deepEqual(minted?.permissions, { contents: "write" });

      const response = await fetch(`${fake.apiUrl}/installation/repositories`, { headers: { authorization: `token ${token}` } });
      const body = (await response.json()) as { repositories: Array<{ full_name: string }> };
      assert.deepEqual(body.repositories.map((repo) => repo.full_name), ["alice/secret"]);
    });

    test("createRepoPushToken says how to install the App when the installation lacks the repository or is gone", async () => {
      const installation = await fake.install("alice", ["site"]);
      const notIncluded = expectTag(await fail((api) => api.createRepoPushToken(installation.id, "secret")), "GitHubAppNotInstalled");
      assert.equal(notIncluded.target, "secret");
      assert.equal(notIncluded.installUrl, `${fake.url}/apps/${fake.appSlug}/installations/new`);
      assert.match(notIncluded.message, /does not include secret\. Install the GitHub App at http:\/\/127\.0\.0\.1:\d+\/apps\//);

      const gone = expectTag(await fail((api) => api.createRepoPushToken(installation.id + 1000, "site")), "GitHubAppNotInstalled");
      assert.equal(gone.target, `installation ${installation.id + 1000}`);

      const readOnly = fake.state.install({ account: "bob", permissions: { contents: "read", metadata: "read" } });
      const forbidden = expectTag(await fail((api) => api.createRepoPushToken(readOnly.id, "tools")), "GitHubForbidden");
      assert.match(forbidden.message, /contents: write/);

      const withoutSlug = expectTag(await fail((api) => api.createRepoPushToken(installation.id, "secret"), { appSlug: undefined }), "GitHubAppNotInstalled");
      assert.equal(withoutSlug.installUrl, undefined);
      assert.match(withoutSlug.message, /dashboard/);
    });

    test("installUrl points at the App's install page, passing state through", async () => {
      assert.deepEqual(await run((api) => Effect.succeed(api.installUrl("abc"))), Option.some(`${fake.url}/apps/${fake.appSlug}/installations/new?state=abc`));
      assert.deepEqual(await run((api) => Effect.succeed(api.installUrl()), { appSlug: undefined }), Option.none());
    });
  });

  describe("repositories", () => {
    test("getRepo sees public repositories anonymously and private ones with a token that may", async () => {
      assert.deepEqual(await run((api) => api.getRepo("alice", "site")), Option.some({ fullName: "alice/site", private: false, defaultBranch: "main" }));
      assert.deepEqual(await run((api) => api.getRepo("alice", "secret")), Option.none());
      const token = fake.issueUserToken("alice", ["repo"]);
      assert.deepEqual(await run((api) => api.getRepo("alice", "secret", token)), Option.some({ fullName: "alice/secret", private: true, defaultBranch: "trunk" }));
      assert.deepEqual(await run((api) => api.getRepo("alice", "nope", token)), Option.none());
      fake.revokeUserToken(token);
      expectTag(await fail((api) => api.getRepo("alice", "secret", token)), "GitHubUnauthorized");
    });

    test("createRepo needs the repo scope and says how to grant it; a taken name is GitHubRepoAlreadyExists", async () => {
      const scopeless = fake.issueUserToken("bob", ["read:user"]);
      const missing = expectTag(await fail((api) => api.createRepo(scopeless, { name: "shop", private: true })), "GitHubScopeMissing");
      assert.deepEqual(missing.grantedScopes, ["read:user"]);
      assert.deepEqual(missing.requiredScopes, ["repo"]);
      assert.match(missing.message, /Sign in again at \/auth\/github\?scope=repo/);

      const token = fake.issueUserToken("bob", ["repo"]);
      const created = await run((api) => api.createRepo(token, { name: "shop", description: "an online shop", private: true }));
      assert.deepEqual(created, { fullName: "bob/shop", private: true, defaultBranch: "main" });
      assert.equal(fake.state.repo("bob", "shop")?.description, "an online shop");

      const taken = expectTag(await fail((api) => api.createRepo(token, { name: "shop", private: true })), "GitHubRepoAlreadyExists");
      assert.equal(taken.repoName, "shop");
    });
  });
});

describe("GitHubApi when GitHub misbehaves", () => {
  let server: Server;
  let url: string;
  let requests = 0;
  let answer: (res: ServerResponse) => void = (res) => res.writeHead(503).end();
  const appPrivateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

  before(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const fail = <A, E>(use: (api: Api) => Effect.Effect<A, E>, overrides: Partial<GitHubApiConfig> = {}): Promise<E> =>
    Effect.runPromise(
      Effect.flatMap(Effect.service(GitHubApi), (api) => Effect.flip(use(api))).pipe(
        Effect.provide(
          GitHubApi.layer({ webUrl: url, apiUrl: url, appId: 1, appPrivateKey, clientId: "c", clientSecret: "s", retries: 2, retryBaseDelayMs: 1, timeoutMs: 2_000, ...overrides }),
        ),
      ),
    );

  test("5xx answers are retried for reads, then become GitHubUnavailable", async () => {
    requests = 0;
    answer = (res) => res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ message: "Service Unavailable" }));
    const error = expectTag(await fail((api) => api.getRepo("a", "b")), "GitHubUnavailable");
    assert.equal(error.status, 503);
    assert.equal(requests, 3);
  });

  test("creating a repository is not repeated after a 5xx: it may have happened", async () => {
    requests = 0;
    expectTag(await fail((api) => api.createRepo("gho_x", { name: "r", private: false })), "GitHubUnavailable");
    assert.equal(requests, 1);
  });

  test("a rate limit that resets later than we wait is GitHubUnavailable with retryAfterMs, without retrying", async () => {
    requests = 0;
    const reset = Math.floor(Date.now() / 1000) + 3600;
    answer = (res) =>
      res
        .writeHead(403, { "content-type": "application/json", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) })
        .end(JSON.stringify({ message: "API rate limit exceeded", documentation_url: "https://docs.github.com/rest" }));
    const error = expectTag(await fail((api) => api.getRepo("a", "b")), "GitHubUnavailable");
    assert.ok((error.retryAfterMs ?? 0) > 3_500_000);
    assert.equal(requests, 1);
  });

  test("an unanswered request times out as GitHubUnavailable", async () => {
    answer = () => {};
    const error = expectTag(await fail((api) => api.getRepo("a", "b"), { timeoutMs: 100, retries: 0 }), "GitHubUnavailable");
    assert.match(error.message, /did not answer within 100 ms/);
  });

  test("an unreachable GitHub is GitHubUnavailable", async () => {
    const error = expectTag(await fail((api) => api.getRepo("a", "b"), { apiUrl: "http://127.0.0.1:1", retries: 0 }), "GitHubUnavailable");
    assert.match(error.message, /Could not reach GitHub/);
  });
});

describe("GitHubApi configuration", () => {
  const build = (env: Record<string, string>) => {
    const decoded = decodeConfig(env);
    if (Result.isFailure(decoded)) assert.fail(decoded.failure.message);
    return Effect.runPromise(Effect.flip(Layer.build(GitHubApi.layerFromAppConfig.pipe(Layer.provide(AppConfig.layer(decoded.success)))).pipe(Effect.scoped)));
  };

  test("missing GitHub variables stop start-up with the variable's name", async () => {
    const error = await build({ GITHUB_CLIENT_ID: "Iv1.x", GITHUB_CLIENT_SECRET: "s", GITHUB_APP_PRIVATE_KEY: "k" });
    assert.equal(error.variable, "GITHUB_APP_ID");
  });

  test("an unreadable private key stops start-up", async () => {
    const error = await build({ GITHUB_APP_ID: "1", GITHUB_CLIENT_ID: "Iv1.x", GITHUB_CLIENT_SECRET: "s", GITHUB_APP_PRIVATE_KEY: "not a key" });
    assert.equal(error.variable, "GITHUB_APP_PRIVATE_KEY");
    assert.match(error.message, /not a PEM private key/);
  });
});
