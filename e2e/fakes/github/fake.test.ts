import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT } from "jose";
import { startGitHubFake, webhookPayloadIssues } from "./index.ts";
import type { GitHubFake } from "./index.ts";

const pkce = () => {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
};

const appJwt = (fake: GitHubFake, privateKey: string = fake.appPrivateKey, lifetimeSeconds = 540): Promise<string> => {
  const now = Math.floor(Date.now() / 1000) - 30;
  return new SignJWT({})
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuer(String(fake.appId))
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSeconds)
    .sign(createPrivateKey(privateKey));
};

const api = async (fake: GitHubFake, path: string, init: { method?: string; token?: string; body?: unknown } = {}) => {
  const response = await fetch(`${fake.apiUrl}${path}`, {
    method: init.method ?? "GET",
    headers: {
      accept: "application/vnd.github+json",
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>) };
};

const exchange = async (fake: GitHubFake, params: Record<string, string>, accept = "application/json") => {
  const response = await fetch(`${fake.url}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: fake.clientId, client_secret: fake.clientSecret, ...params }),
  });
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", text: await response.text() };
};

const authorizeUrl = (fake: GitHubFake, params: Record<string, string>): string =>
  `${fake.url}/login/oauth/authorize?${new URLSearchParams({ client_id: fake.clientId, ...params })}`;

describe("GitHub fake", () => {
  let fake: GitHubFake;
  const redirectUri = "http://127.0.0.1:9/auth/github/callback";

  before(async () => {
    fake = await startGitHubFake({
      users: [{ login: "alice", name: "Alice" }, { login: "bob" }],
      repos: [{ fullName: "alice/public-site" }, { fullName: "alice/secret-app", private: true }, { fullName: "bob/other", private: true }],
      callbackUrl: "http://127.0.0.1:9/auth/github",
    });
  });
  after(() => fake.close());
  afterEach(() => {
    fake.signIn(undefined);
  });

  const noViolations = () => assert.deepEqual(fake.violations, []);

  describe("OAuth web flow", () => {
    test("a signed-in user is redirected at once with a code, which PKCE exchanges for a scoped token", async () => {
      fake.signIn("alice");
      const { verifier, challenge } = pkce();
      const authorize = await fetch(
        authorizeUrl(fake, { redirect_uri: redirectUri, state: "st-1", scope: "repo read:user", code_challenge: challenge, code_challenge_method: "S256" }),
        { redirect: "manual" },
      );
      assert.equal(authorize.status, 302);
      const location = new URL(authorize.headers.get("location") ?? "");
      assert.equal(`${location.origin}${location.pathname}`, redirectUri);
      assert.equal(location.searchParams.get("state"), "st-1");
      const code = location.searchParams.get("code") ?? "";

      const token = await exchange(fake, { code, redirect_uri: redirectUri, code_verifier: verifier });
      assert.match(token.contentType, /application\/json/);
      const answer = JSON.parse(token.text) as Record<string, string>;
      assert.equal(answer["token_type"], "bearer");
      assert.equal(answer["scope"], "repo,read:user");
      assert.match(answer["access_token"] ?? "", /^gho_/);

      const user = await api(fake, "/user", { token: answer["access_token"] ?? "" });
      assert.equal(user.status, 200);
      assert.equal(user.body?.["login"], "alice");
      assert.equal(user.headers.get("x-oauth-scopes"), "repo, read:user");

      const reused = await exchange(fake, { code, redirect_uri: redirectUri, code_verifier: verifier });
      assert.equal((JSON.parse(reused.text) as Record<string, string>)["error"], "bad_verification_code");
      noViolations();
    });

    test("without a signed-in user the page shows an Authorize form that signs in and redirects", async () => {
      const page = await fetch(authorizeUrl(fake, { redirect_uri: redirectUri, state: "st-2", scope: "" }));
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<form method="post" action="\/login\/oauth\/authorize">/);
      assert.match(html, />Authorize<\/button>/);
      assert.match(html, /name="state" value="st-2"/);

      const submit = await fetch(`${fake.url}/login/oauth/authorize`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: fake.clientId, redirect_uri: redirectUri, state: "st-2", login: "bob" }),
      });
      assert.equal(submit.status, 302);
      const location = new URL(submit.headers.get("location") ?? "");
      assert.equal(location.searchParams.get("state"), "st-2");
      assert.equal(fake.state.signedInAs, "bob");

      // Without Accept: application/json GitHub answers form-encoded.
      const token = await exchange(fake, { code: location.searchParams.get("code") ?? "" }, "*/*");
      const answer = new URLSearchParams(token.text);
      assert.match(answer.get("access_token") ?? "", /^gho_/);
      assert.equal(answer.get("scope"), "");
    });

    test("the token endpoint rejects a wrong secret, a wrong code_verifier and a different redirect_uri", async () => {
      fake.signIn("alice");
      const { verifier, challenge } = pkce();
      const codeFor = async () => {
        const response = await fetch(authorizeUrl(fake, { redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: "S256" }), { redirect: "manual" });
        return new URL(response.headers.get("location") ?? "").searchParams.get("code") ?? "";
      };
      const errorOf = (text: string) => (JSON.parse(text) as Record<string, string>)["error"];

      assert.equal(errorOf((await exchange(fake, { code: await codeFor(), client_secret: "nope", code_verifier: verifier })).text), "incorrect_client_credentials");
      assert.equal(errorOf((await exchange(fake, { code: await codeFor(), code_verifier: pkce().verifier })).text), "invalid_grant");
      assert.equal(errorOf((await exchange(fake, { code: await codeFor() })).text), "invalid_grant");
      assert.equal(
        errorOf((await exchange(fake, { code: await codeFor(), code_verifier: verifier, redirect_uri: "http://127.0.0.1:9/auth/github/other" })).text),
        "redirect_uri_mismatch",
      );
    });

    test("authorize validates client_id, redirect_uri and the PKCE method like GitHub", async () => {
      fake.signIn("alice");
      const unknownClient = await fetch(`${fake.url}/login/oauth/authorize?client_id=someone-else`, { redirect: "manual" });
      assert.equal(unknownClient.status, 404);

      const mismatch = await fetch(authorizeUrl(fake, { redirect_uri: "http://evil.example/callback", state: "s" }), { redirect: "manual" });
      assert.equal(mismatch.status, 302);
      const location = new URL(mismatch.headers.get("location") ?? "");
      assert.equal(location.pathname, "/auth/github");
      assert.equal(location.searchParams.get("error"), "redirect_uri_mismatch");

      const plain = await fetch(authorizeUrl(fake, { redirect_uri: redirectUri, code_challenge: pkce().challenge, code_challenge_method: "plain" }), { redirect: "manual" });
      assert.equal(plain.status, 400);
    });
  });

  describe("GitHub App", () => {
    test("the install page creates the installation for the signed-in user and redirects to the setup URL", async () => {
      fake.configure({ setupUrl: "http://127.0.0.1:9/auth/githubapp/callback" });
      fake.signIn("bob");
      const first = await fetch(`${fake.url}/apps/${fake.appSlug}/installations/new?state=abc`, { redirect: "manual" });
      assert.equal(first.status, 302);
      const location = new URL(first.headers.get("location") ?? "");
      assert.equal(location.pathname, "/auth/githubapp/callback");
      assert.equal(location.searchParams.get("setup_action"), "install");
      assert.equal(location.searchParams.get("state"), "abc");
      const installationId = Number(location.searchParams.get("installation_id"));
      assert.equal(fake.state.installations.get(installationId)?.accountLogin, "bob");

      const again = await fetch(`${fake.url}/apps/${fake.appSlug}/installations/new`, { redirect: "manual" });
      const second = new URL(again.headers.get("location") ?? "");
      assert.equal(second.searchParams.get("setup_action"), "update");
      assert.equal(Number(second.searchParams.get("installation_id")), installationId);

      const listed = await api(fake, "/user/installations", { token: fake.issueUserToken("bob") });
      assert.equal(listed.status, 200);
      const installations = listed.body?.["installations"] as Array<Record<string, unknown>>;
      assert.deepEqual(installations.map((installation) => installation["id"]), [installationId]);
      assert.equal(listed.body?.["total_count"], 1);
      await fake.uninstall(installationId);
      noViolations();
    });

    test("app endpoints verify the RS256 JWT signed with the App's key", async () => {
      const installation = await fake.install("alice");
      try {
        const ok = await api(fake, `/app/installations/${installation.id}`, { token: await appJwt(fake) });
        assert.equal(ok.status, 200);
        assert.equal((ok.body?.["account"] as Record<string, unknown>)["login"], "alice");

        const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const forged = await api(fake, `/app/installations/${installation.id}`, { token: await appJwt(fake, otherKey) });
        assert.equal(forged.status, 401);
        assert.equal(forged.body?.["message"], "A JSON web token could not be decoded");

        const tooLong = await api(fake, `/app/installations/${installation.id}`, { token: await appJwt(fake, fake.appPrivateKey, 3600) });
        assert.equal(tooLong.status, 401);
        assert.match(String(tooLong.body?.["message"]), /too far in the future/);

        const userToken = await api(fake, `/app/installations/${installation.id}`, { token: fake.issueUserToken("alice") });
        assert.equal(userToken.status, 401);

        const missing = await api(fake, "/app/installations/999999", { token: await appJwt(fake) });
        assert.equal(missing.status, 404);
      } finally {
        await fake.uninstall(installation.id);
      }
      noViolations();
    });

    test("installation tokens can be restricted to one repository and permission", async () => {
      fake.addRepo("alice/third");
      const installation = await fake.install("alice");
      try {
        const jwt = await appJwt(fake);
        const minted = await api(fake, `/app/installations/${installation.id}/access_tokens`, {
          method: "POST",
          token: jwt,
          body: { repositories: ["secret-app"], permissions: { contents: "write" } },
        });
        assert.equal(minted.status, 201);
        assert.match(String(minted.body?.["token"]), /^ghs_/);
        assert.ok(Date.parse(String(minted.body?.["expires_at"])) > Date.now() + 59 * 60 * 1000);
        assert.deepEqual(minted.body?.["permissions"], { contents: "write" });
        assert.equal(minted.body?.["repository_selection"], "selected");

        const token = String(minted.body?.["token"]);
        const repos = await api(fake, "/installation/repositories", { token });
        assert.equal(repos.status, 200);
        assert.deepEqual((repos.body?.["repositories"] as Array<Record<string, unknown>>).map((repo) => repo["full_name"]), ["alice/secret-app"]);
        assert.equal((await api(fake, "/repos/alice/secret-app", { token })).status, 200);

        const unrestricted = await api(fake, `/app/installations/${installation.id}/access_tokens`, { method: "POST", token: jwt });
        const all = await api(fake, "/installation/repositories", { token: String(unrestricted.body?.["token"]) });
        assert.equal(all.body?.["total_count"], 3);

        const foreign = await api(fake, `/app/installations/${installation.id}/access_tokens`, { method: "POST", token: jwt, body: { repositories: ["other"] } });
        assert.equal(foreign.status, 422);
        const tooMuch = await api(fake, `/app/installations/${installation.id}/access_tokens`, {
          method: "POST",
          token: jwt,
          body: { permissions: { administration: "write" } },
        });
        assert.equal(tooMuch.status, 422);
        assert.match(String(tooMuch.body?.["message"]), /permissions requested are not granted/);
      } finally {
        await fake.uninstall(installation.id);
      }
      noViolations();
    });

    test("GET /repos/{owner}/{repo}/installation finds the installation covering a repository", async () => {
      const installation = await fake.install("alice", ["public-site"]);
      try {
        const jwt = await appJwt(fake);
        const covered = await api(fake, "/repos/alice/public-site/installation", { token: jwt });
        assert.equal(covered.status, 200);
        assert.equal(covered.body?.["id"], installation.id);
        assert.equal((await api(fake, "/repos/alice/secret-app/installation", { token: jwt })).status, 404);
        assert.equal((await api(fake, "/repos/bob/other/installation", { token: jwt })).status, 404);
      } finally {
        await fake.uninstall(installation.id);
      }
      noViolations();
    });
  });

  describe("repositories", () => {
    test("private repositories are 404 unless the token may see them", async () => {
      assert.equal((await api(fake, "/repos/alice/public-site")).status, 200);
      assert.equal((await api(fake, "/repos/alice/secret-app")).status, 404);
      assert.equal((await api(fake, "/repos/alice/secret-app", { token: fake.issueUserToken("alice") })).status, 404);
      assert.equal((await api(fake, "/repos/alice/secret-app", { token: fake.issueUserToken("bob", ["repo"]) })).status, 404);
      const visible = await api(fake, "/repos/alice/secret-app", { token: fake.issueUserToken("alice", ["repo"]) });
      assert.equal(visible.status, 200);
      assert.equal(visible.body?.["private"], true);
      assert.equal(visible.body?.["default_branch"], "main");
      assert.equal((await api(fake, "/repos/alice/nothing-here")).status, 404);
      noViolations();
    });

    test("POST /user/repos needs the repo scope (404 with the accepted scopes otherwise) and refuses duplicates", async () => {
      const noScope = await api(fake, "/user/repos", { method: "POST", token: fake.issueUserToken("bob", ["read:user"]), body: { name: "new-app", private: true } });
      assert.equal(noScope.status, 404);
      assert.equal(noScope.headers.get("x-accepted-oauth-scopes"), "public_repo, repo");
      assert.equal(noScope.headers.get("x-oauth-scopes"), "read:user");

      const token = fake.issueUserToken("bob", ["repo"]);
      const created = await api(fake, "/user/repos", { method: "POST", token, body: { name: "new app", description: "made by a test", private: true } });
      assert.equal(created.status, 201);
      assert.equal(created.body?.["full_name"], "bob/new-app");
      assert.equal(created.headers.get("location"), `${fake.apiUrl}/repos/bob/new-app`);
      assert.equal((await api(fake, "/repos/bob/new-app", { token })).status, 200);

      const duplicate = await api(fake, "/user/repos", { method: "POST", token, body: { name: "new-app" } });
      assert.equal(duplicate.status, 422);
      assert.equal(duplicate.body?.["message"], "Repository creation failed.");

      const installation = await fake.install("bob");
      try {
        const token = await api(fake, `/app/installations/${installation.id}/access_tokens`, { method: "POST", token: await appJwt(fake) });
        const asInstallation = await api(fake, "/user/repos", { method: "POST", token: String(token.body?.["token"]), body: { name: "x" } });
        assert.equal(asInstallation.status, 403);
      } finally {
        await fake.uninstall(installation.id);
      }
      noViolations();
    });
  });

  describe("credentials and validation", () => {
    test("a revoked token answers 401 Bad credentials", async () => {
      const token = fake.issueUserToken("alice", ["repo"]);
      assert.equal((await api(fake, "/user", { token })).status, 200);
      fake.revokeUserToken(token);
      const revoked = await api(fake, "/user", { token });
      assert.equal(revoked.status, 401);
      assert.equal(revoked.body?.["message"], "Bad credentials");
      assert.equal(revoked.body?.["documentation_url"], "https://docs.github.com/rest");
      assert.equal((await api(fake, "/user", { token: "gho_unknown" })).status, 401);
      assert.equal((await api(fake, "/user")).status, 401);
    });

    test("a request that does not fit the OpenAPI description gets 422 and is recorded", async () => {
      const before = fake.violations.length;
      const invalid = await api(fake, "/user/repos", { method: "POST", token: fake.issueUserToken("alice", ["repo"]), body: { name: 42 } });
      assert.equal(invalid.status, 422);
      assert.match(String(invalid.body?.["message"]), /^Invalid request\./);
      assert.equal(fake.violations.length, before + 1);
      assert.equal(fake.violations.at(-1)?.kind, "request");
      (fake.violations as Array<unknown>).splice(before);
    });

    test("every API call is recorded with its operation and caller", async () => {
      const start = fake.calls.length;
      await api(fake, "/repos/alice/public-site");
      const call = fake.calls[start];
      assert.equal(call?.operationId, "repos/get");
      assert.equal(call?.caller, "anonymous");
      assert.equal(call?.status, 200);
    });
  });

  describe("webhooks", () => {
    test("installing and uninstalling deliver signed installation events", async () => {
      const received: Array<{ event: string; signature: string; body: Record<string, unknown> }> = [];
      const receiver = createServer((req, res) => {
        const chunks: Array<Buffer> = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          received.push({
            event: String(req.headers["x-github-event"]),
            signature: String(req.headers["x-hub-signature-256"]),
            body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
          });
          res.writeHead(202).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
      try {
        fake.configure({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/github`, secret: "shh" } });
        const installation = await fake.install("alice", ["public-site"]);
        await fake.uninstall(installation.id);
        await fake.settled();
        assert.deepEqual(received.map((delivery) => [delivery.event, delivery.body["action"]]), [["installation", "created"], ["installation", "deleted"]]);
        assert.match(received[0]?.signature ?? "", /^sha256=[0-9a-f]{64}$/);
        const payload = received[0]?.body["installation"] as Record<string, unknown>;
        assert.equal(payload["id"], installation.id);
        assert.deepEqual((received[0]?.body["repositories"] as Array<Record<string, unknown>>).map((repo) => repo["full_name"]), ["alice/public-site"]);
        assert.deepEqual(fake.deliveries.map((delivery) => delivery.status), [202, 202]);
        assert.deepEqual(webhookPayloadIssues("installation-created", received[0]?.body), []);
        assert.deepEqual(webhookPayloadIssues("installation-deleted", received[1]?.body), []);
      } finally {
        fake.configure({ webhook: null });
        await new Promise<void>((resolve) => receiver.close(() => resolve()));
      }
    });
  });
});
