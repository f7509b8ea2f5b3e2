import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { startCoolifyFake } from "./index.ts";
import type { CoolifyFake } from "./index.ts";

/** The fields these tests read from Coolify's JSON answers (a test-side view, not a contract). */
interface Body {
  readonly [key: string]: unknown;
  readonly uuid: string;
  readonly domains: string;
  readonly message: string;
  readonly error: string;
  readonly errors: Record<string, Array<string>>;
  readonly name: string;
  readonly fqdn: string;
  readonly git_repository: string;
  readonly status: string;
  readonly logs: string;
  readonly count: number;
  readonly value: string;
  readonly deployment_uuid: string;
  readonly resource_uuid: string;
  readonly deployments: Array<Body>;
  readonly conflicts: Array<Body>;
}

interface Answer<B> {
  readonly status: number;
  readonly body: B;
  readonly headers: Headers;
}

const call = async <B = Body>(
  fake: CoolifyFake,
  method: string,
  path: string,
  body?: unknown,
  init: { token?: string; contentType?: string; raw?: string } = {},
): Promise<Answer<B>> => {
  const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? fake.token}` };
  if (body !== undefined || init.raw !== undefined) headers["content-type"] = init.contentType ?? "application/json";
  const response = await fetch(`${fake.url}/api/v1${path}`, {
    method,
    headers,
    ...(init.raw !== undefined ? { body: init.raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as B, headers: response.headers };
};

const publicApp = (fake: CoolifyFake, extra: Record<string, unknown> = {}) => ({
  project_uuid: fake.project.uuid,
  server_uuid: fake.server.uuid,
  environment_name: fake.environment.name,
  git_repository: "https://github.com/acme/web",
  git_branch: "main",
  build_pack: "nixpacks",
  ports_exposes: "3000",
  ...extra,
});

const createApp = async (fake: CoolifyFake, extra: Record<string, unknown> = {}): Promise<string> => {
  const answer = await call(fake, "POST", "/applications/public", publicApp(fake, extra));
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body.uuid;
};

const deployOnce = async (fake: CoolifyFake, uuid: string): Promise<string> => {
  const answer = await call(fake, "POST", `/deploy?uuid=${uuid}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.deployments[0]?.deployment_uuid ?? "";
};

describe("Coolify fake (manual clock)", () => {
  let fake: CoolifyFake;
  before(async () => {
    fake = await startCoolifyFake({ clock: "manual" });
  });
  after(() => fake.close());
  afterEach(() => {
    assert.deepEqual(fake.violations, [], "every response must match the OpenAPI document");
    fake.faults.clear();
  });

  test("rejects a missing or unknown token like Sanctum, and a team-less token with 400", async () => {
    const missing = await fetch(`${fake.url}/api/v1/applications`);
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), { message: "Unauthenticated." });
    assert.equal((await call(fake, "GET", "/applications", undefined, { token: "nope" })).status, 401);
    fake.addToken("teamless", { team: false });
    const teamless = await call(fake, "GET", "/applications", undefined, { token: "teamless" });
    assert.deepEqual([teamless.status, teamless.body], [400, { message: "Invalid token." }]);
  });

  test("rejects unknown and mistyped body fields with Laravel's 422", async () => {
    const answer = await call(fake, "POST", "/applications/public", publicApp(fake, { bogus: 1, is_static: "yes" }));
    assert.equal(answer.status, 422);
    assert.equal(answer.body.message, "Validation failed.");
    assert.deepEqual(answer.body.errors.bogus, ["This field is not allowed."]);
    assert.ok(answer.body.errors.is_static, "type errors are reported per field");
    const missing = await call(fake, "POST", "/applications/public", { ...publicApp(fake), git_branch: undefined });
    assert.deepEqual(missing.body.errors, { git_branch: ["The git branch field is required."] });
    const noPorts = await call(fake, "POST", "/applications/public", { ...publicApp(fake), ports_exposes: undefined });
    assert.deepEqual([noPorts.status, Object.keys(noPorts.body.errors)], [422, ["ports_exposes"]]);
    const noEnvironment = await call(fake, "POST", "/applications/public", { ...publicApp(fake), environment_name: undefined });
    assert.equal(noEnvironment.status, 422);
    assert.equal(fake.state.applications.length, 0, "nothing was created");
  });

  test("checks query parameters against their schema and the body's content type", async () => {
    const uuid = await createApp(fake);
    const badQuery = await call(fake, "GET", `/deployments/applications/${uuid}?take=lots`);
    assert.deepEqual([badQuery.status, Object.keys(badQuery.body.errors)], [422, ["take"]]);
    const notJson = await call(fake, "PATCH", `/applications/${uuid}`, undefined, { raw: "name=x", contentType: "application/x-www-form-urlencoded" });
    assert.deepEqual([notJson.status, notJson.body.error], [400, "Content-Type must be application/json."]);
    const empty = await call(fake, "PATCH", `/applications/${uuid}`, {});
    assert.deepEqual([empty.status, empty.body.error], [400, "Empty JSON."]);
  });

  test("creates applications with autogenerated domains and refuses a taken domain unless forced", async () => {
    const generated = await call(fake, "POST", "/applications/public", publicApp(fake, { name: "gen" }));
    assert.equal(generated.status, 201);
    assert.equal(generated.body.domains, `http://${generated.body.uuid}.apps.example.test`);
    const first = await createApp(fake, { name: "one", domains: "https://shop.example.com" });
    const conflict = await call(fake, "POST", "/applications/public", publicApp(fake, { name: "two", domains: "https://shop.example.com" }));
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.conflicts[0]?.resource_uuid, first);
    const forced = await call(fake, "POST", "/applications/public", publicApp(fake, { name: "two", domains: "https://shop.example.com", force_domain_override: true }));
    assert.equal(forced.status, 201);
    const got = await call(fake, "GET", `/applications/${first}`);
    assert.deepEqual([got.body.name, got.body.fqdn, got.body.git_repository, got.body.status], ["one", "https://shop.example.com", "acme/web", "exited:unhealthy"]);
    const image = await call(fake, "POST", "/applications/dockerimage", {
      project_uuid: fake.project.uuid,
      server_uuid: fake.server.uuid,
      environment_uuid: fake.environment.uuid,
      docker_registry_image_name: "ghcr.io/acme/api",
      ports_exposes: "8080",
    });
    assert.equal(image.status, 201);
    const gh = await call(fake, "POST", "/applications/private-github-app", publicApp(fake, { git_repository: "acme/private", github_app_uuid: "missing" }));
    assert.deepEqual([gh.status, gh.body.message], [404, "Github App not found."]);
    assert.equal((await call(fake, "GET", "/applications/nope")).status, 404);
  });

  test("runs a deployment queued → in_progress → finished and starts the app healthy", async () => {
    const uuid = await createApp(fake, { name: "life" });
    const deployment = await deployOnce(fake, uuid);
    const seen: Array<string> = [];
    for (let i = 0; i < 10; i++) {
      const status = (await call(fake, "GET", `/deployments/${deployment}`)).body.status;
      if (seen.at(-1) !== status) seen.push(status);
      if (status === "finished") break;
      fake.advance();
    }
    assert.deepEqual(seen, ["queued", "in_progress", "finished"]);
    const logs = JSON.parse((await call(fake, "GET", `/deployments/${deployment}`)).body.logs) as Array<{ output: string }>;
    assert.ok(logs.length >= 3 && logs.every((entry) => typeof entry.output === "string"));
    assert.equal((await call(fake, "GET", `/applications/${uuid}`)).body.status, "running:healthy");
    const runtime = await call(fake, "GET", `/applications/${uuid}/logs?lines=1`);
    assert.equal(runtime.body.logs.split("\n").length, 1);
  });

  test("a failing build fails with an error line; a wrong port crashes the app", async () => {
    fake.setSource("https://github.com/acme/broken", { buildError: "npm ERR! missing script: build" });
    const broken = await createApp(fake, { name: "broken", git_repository: "https://github.com/acme/broken" });
    const failed = await deployOnce(fake, broken);
    fake.settle();
    const answer = await call(fake, "GET", `/deployments/${failed}`);
    assert.equal(answer.body.status, "failed");
    assert.match(answer.body.logs, /npm ERR! missing script: build/);

    fake.setSource("acme/port", { listeningPort: 8080 });
    const wrongPort = await createApp(fake, { name: "port", git_repository: "https://github.com/acme/port", ports_exposes: "3000" });
    await deployOnce(fake, wrongPort);
    fake.settle();
    assert.equal((await call(fake, "GET", `/applications/${wrongPort}`)).body.status, "exited:unhealthy");
    assert.equal((await call(fake, "GET", `/applications/${wrongPort}/logs`)).status, 400, "no logs from a stopped container");
    await call(fake, "PATCH", `/applications/${wrongPort}`, { ports_exposes: "8080", instant_deploy: true });
    fake.settle();
    assert.equal((await call(fake, "GET", `/applications/${wrongPort}`)).body.status, "running:healthy");
  });

  test("skips a deploy of a commit already queued and hands out a uuid that 404s", async () => {
    const uuid = await createApp(fake, { name: "skip" });
    const first = await deployOnce(fake, uuid);
    const second = await deployOnce(fake, uuid);
    assert.notEqual(first, second);
    assert.equal((await call(fake, "GET", `/deployments/${second}`)).status, 404);
    const listed = await call(fake, "GET", `/deployments/applications/${uuid}`);
    assert.deepEqual([listed.body.count, listed.body.deployments[0]?.deployment_uuid], [1, first]);
    fake.settle();
    assert.notEqual(await deployOnce(fake, uuid), first, "once finished, the same commit deploys again");
    fake.settle();
    assert.equal((await call(fake, "GET", `/deployments/applications/${uuid}?take=1`)).body.deployments.length, 1);
  });

  test("answers 429 with Retry-After when the server's deployment queue is full", async () => {
    fake.server.settings.deployment_queue_limit = 1;
    try {
      const a = await createApp(fake, { name: "qa", git_repository: "https://github.com/acme/a" });
      const b = await createApp(fake, { name: "qb", git_repository: "https://github.com/acme/b" });
      await deployOnce(fake, a);
      const full = await call(fake, "POST", `/deploy?uuid=${b}`);
      assert.equal(full.status, 429);
      assert.equal(full.headers.get("retry-after"), "60");
    } finally {
      fake.server.settings.deployment_queue_limit = 25;
      fake.settle();
    }
  });

  test("keeps deployments queued while stuck, and cancels them on request", async () => {
    fake.faults.stuckQueued = true;
    const uuid = await createApp(fake, { name: "stuck" });
    const deployment = await deployOnce(fake, uuid);
    fake.advance(5);
    assert.equal((await call(fake, "GET", `/deployments/${deployment}`)).body.status, "queued");
    const cancelled = await call(fake, "POST", `/deployments/${deployment}/cancel`);
    assert.deepEqual([cancelled.status, cancelled.body.status], [200, "cancelled-by-user"]);
    assert.equal((await call(fake, "POST", `/deployments/${deployment}/cancel`)).status, 400);
  });

  test("deletes asynchronously: still listed right after DELETE, gone after the cleanup", async () => {
    const uuid = await createApp(fake, { name: "doomed" });
    const answer = await call(fake, "DELETE", `/applications/${uuid}?delete_volumes=false`);
    assert.equal(answer.status, 200);
    assert.ok((await call<Array<Body>>(fake, "GET", "/applications")).body.some((app) => app.uuid === uuid));
    fake.settle();
    assert.equal((await call(fake, "GET", `/applications/${uuid}`)).status, 404);
    const deletion = fake.state.deletions.find((d) => d.uuid === uuid);
    assert.deepEqual(deletion?.options, { delete_configurations: true, delete_volumes: false, docker_cleanup: true, delete_connected_networks: true });
  });

  test("env vars: bulk upserts never delete, single PATCH by key, DELETE by uuid, duplicate POST is 409", async () => {
    const uuid = await createApp(fake, { name: "envs" });
    assert.equal((await call(fake, "POST", `/applications/${uuid}/envs`, { key: "A", value: "1" })).status, 201);
    assert.equal((await call(fake, "POST", `/applications/${uuid}/envs`, { key: "A", value: "2" })).status, 409);
    const bulk = await call(fake, "PATCH", `/applications/${uuid}/envs/bulk`, { data: [{ key: "B", value: "2" }, { key: "C", value: "3" }] });
    assert.equal(bulk.status, 201);
    const second = await call(fake, "PATCH", `/applications/${uuid}/envs/bulk`, { data: [{ key: "B", value: "22" }] });
    assert.equal((second.body as unknown as Array<Body>).length, 1);
    const single = await call(fake, "PATCH", `/applications/${uuid}/envs`, { key: "C", value: "33" });
    assert.equal(single.body.value, "33");
    assert.equal((await call(fake, "PATCH", `/applications/${uuid}/envs`, { key: "Z", value: "1" })).status, 404);
    const listed = (await call<Array<Body>>(fake, "GET", `/applications/${uuid}/envs`)).body;
    assert.deepEqual(listed.map((e) => [e.key, e.value]), [["A", "1"], ["B", "22"], ["C", "33"]]);
    assert.equal((await call(fake, "DELETE", `/applications/${uuid}/envs/${listed[0]?.uuid}`)).status, 200);
    assert.equal((await call<Array<Body>>(fake, "GET", `/applications/${uuid}/envs`)).body.length, 2);
  });

  test("injects 429 bursts, one-shot failures, seeded 5xx and hanging requests on demand", async () => {
    fake.faults.rateLimitBurst({ count: 2, retryAfterSeconds: 3, endpoint: "GET /servers" });
    const limited = await call(fake, "GET", "/servers");
    assert.deepEqual([limited.status, limited.headers.get("retry-after")], [429, "3"]);
    assert.equal((await call(fake, "GET", "/projects")).status, 200, "other endpoints are untouched");
    assert.equal((await call(fake, "GET", "/servers")).status, 429);
    assert.equal((await call(fake, "GET", "/servers")).status, 200);

    fake.faults.failNext({ status: 503, endpoint: "/projects" });
    assert.equal((await call(fake, "GET", "/projects")).status, 503);

    fake.faults.serverErrorRate = 1;
    assert.equal((await call(fake, "GET", "/projects")).status, 500);
    fake.faults.serverErrorRate = 0;

    fake.faults.hangNext({ endpoint: "GET /github-apps" });
    const controller = new AbortController();
    const hung = fetch(`${fake.url}/api/v1/github-apps`, { headers: { authorization: `Bearer ${fake.token}` }, signal: controller.signal });
    // Wait (on a condition, by round trips) until the fake has received the hung request.
    for (let i = 0; i < 100 && !fake.calls.entries.some((c) => c.endpoint === "GET /github-apps"); i++) {
      assert.equal((await call(fake, "GET", "/servers")).status, 200);
    }
    const pending = fake.calls.entries.filter((c) => c.endpoint === "GET /github-apps");
    assert.deepEqual(pending.map((c) => c.status), [undefined], "received, never answered");
    controller.abort();
    await assert.rejects(hung);
  });

  test("counts calls per endpoint and status", () => {
    const counts = fake.calls.byEndpoint();
    assert.ok((counts["POST /applications/public"] ?? 0) > 5);
    assert.ok(fake.calls.count({ endpoint: "GET /servers", status: 429 }) === 2);
  });
});

describe("Coolify fake rate limit and real-time clock", () => {
  test("limits each token to N requests per window with Retry-After", async () => {
    const fake = await startCoolifyFake({ clock: "manual", rateLimit: { limit: 3, windowMs: 60_000 } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await call(fake, "GET", "/servers")).status, 200);
      const limited = await call(fake, "GET", "/servers");
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get("retry-after")) > 0);
      fake.addToken("other");
      assert.equal((await call(fake, "GET", "/servers", undefined, { token: "other" })).status, 200, "limits are per token");
      assert.equal(fake.calls.count({ status: 429 }), 1);
    } finally {
      await fake.close();
    }
  });

  test("advances deployments on a short real timer; the test waits on the condition", async () => {
    const fake = await startCoolifyFake({ clock: { stepMs: 2 } });
    try {
      const uuid = await createApp(fake);
      const deployment = await deployOnce(fake, uuid);
      let status = "";
      for (let polls = 0; polls < 500 && status !== "finished"; polls++) {
        status = (await call(fake, "GET", `/deployments/${deployment}`)).body.status;
      }
      assert.equal(status, "finished");
    } finally {
      await fake.close();
    }
  });
});
