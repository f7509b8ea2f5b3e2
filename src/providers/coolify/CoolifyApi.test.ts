import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { Effect, Exit } from "effect";
import { startCoolifyFake } from "../../../e2e/fakes/coolify/index.ts";
import type { CoolifyFake } from "../../../e2e/fakes/coolify/index.ts";
import { CoolifyApi, deploymentLogLines } from "./index.ts";
import type { CoolifyApiConfig, CoolifyClientEvent, CoolifyError, PublicApplicationBody } from "./index.ts";

const run = <A>(fake: CoolifyFake, program: (api: CoolifyApi["Service"]) => Effect.Effect<A, CoolifyError>, config: Partial<CoolifyApiConfig> = {}) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* program(yield* CoolifyApi);
    }).pipe(
      Effect.provide(CoolifyApi.layer({ url: fake.url, token: fake.token, retryBaseDelayMs: 5, ...config })),
    ),
  );

/** Runs and returns the typed failure (the test fails if the call succeeds). */
const failure = async (fake: CoolifyFake, program: (api: CoolifyApi["Service"]) => Effect.Effect<unknown, CoolifyError>, config: Partial<CoolifyApiConfig> = {}): Promise<CoolifyError> => {
  const exit = await Effect.runPromiseExit(
    Effect.gen(function* () {
      return yield* program(yield* CoolifyApi);
    }).pipe(
      Effect.provide(CoolifyApi.layer({ url: fake.url, token: fake.token, retryBaseDelayMs: 5, ...config })),
    ),
  );
  if (Exit.isSuccess(exit)) assert.fail("expected the call to fail");
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail");
  assert.ok(error && error._tag === "Fail", `expected a typed failure, got ${String(exit.cause)}`);
  return error.error;
};

const publicBody = (fake: CoolifyFake, extra: Partial<PublicApplicationBody> = {}): PublicApplicationBody => ({
  project_uuid: fake.project.uuid,
  server_uuid: fake.server.uuid,
  environment_name: fake.environment.name,
  git_repository: "https://github.com/acme/shop",
  git_branch: "main",
  build_pack: "nixpacks",
  ports_exposes: "3000",
  name: "shop",
  ...extra,
});

describe("CoolifyApi against the Coolify fake", () => {
  let fake: CoolifyFake;
  before(async () => {
    fake = await startCoolifyFake({ clock: "manual" });
  });
  after(() => fake.close());
  afterEach(() => {
    assert.deepEqual(fake.violations, []);
    fake.faults.clear();
  });

  test("lists what a create refers to: servers, projects with environments, GitHub Apps", async () => {
    const { servers, projects, project, githubApps } = await run(fake, (api) =>
      Effect.all({ servers: api.listServers(), projects: api.listProjects(), project: api.getProject(fake.project.uuid), githubApps: api.listGithubApps() }),
    );
    assert.deepEqual(servers.map((s) => s.uuid), [fake.server.uuid]);
    assert.equal(servers[0]?.settings?.wildcard_domain, "http://apps.example.test");
    assert.deepEqual(projects.map((p) => p.uuid), [fake.project.uuid]);
    assert.deepEqual(project.environments?.map((e) => e.name), ["production"]);
    assert.deepEqual(githubApps.map((g) => g.uuid), [fake.githubApp.uuid]);
  });

  test("creates, observes, updates, sets env vars, deploys, reads logs and deletes an application", async () => {
    const created = await run(fake, (api) => api.createApplication({ type: "public", body: publicBody(fake, { limits_memory: "512m", custom_docker_run_options: "--cap-drop=ALL" }) }));
    assert.equal(fake.state.deployments.length, 0, "instant_deploy defaults to false");
    const uuid = created.uuid;

    const listed = await run(fake, (api) => api.listApplications());
    assert.deepEqual(listed.map((app) => [app.uuid, app.name, app.limits_memory, app.custom_docker_run_options]), [[uuid, "shop", "512m", "--cap-drop=ALL"]]);

    await run(fake, (api) => api.updateApplication(uuid, { git_commit_sha: "abc1234", domains: "https://shop.example.com" }));
    const updated = await run(fake, (api) => api.getApplication(uuid));
    assert.deepEqual([updated.git_commit_sha, updated.fqdn], ["abc1234", "https://shop.example.com"]);

    await run(fake, (api) => api.upsertEnvsBulk(uuid, [{ key: "A", value: "1" }, { key: "B", value: "2" }]));
    const envs = await run(fake, (api) => api.listEnvs(uuid));
    const b = envs.find((env) => env.key === "B");
    assert.ok(b);
    await run(fake, (api) => api.deleteEnv(uuid, b.uuid));
    assert.deepEqual((await run(fake, (api) => api.listEnvs(uuid))).map((env) => env.key), ["A"]);

    const [result] = await run(fake, (api) => api.deploy({ uuid }));
    assert.ok(result?.deploymentUuid);
    const queued = await run(fake, (api) => api.getDeployment(result.deploymentUuid ?? ""));
    assert.deepEqual([queued.status, queued.commit], ["queued", "abc1234"]);
    fake.settle();
    const finished = await run(fake, (api) => api.getDeployment(result.deploymentUuid ?? ""));
    assert.equal(finished.status, "finished");
    assert.ok(deploymentLogLines(finished.logs).some((line) => line.includes("New container started")));
    const history = await run(fake, (api) => api.listDeployments(uuid));
    assert.deepEqual([history.count, history.deployments[0]?.deployment_uuid], [1, result.deploymentUuid]);
    assert.match(await run(fake, (api) => api.getApplicationLogs(uuid, 5)), /Listening on 0\.0\.0\.0:3000/);
    assert.equal((await run(fake, (api) => api.getApplication(uuid))).status, "running:healthy");

    const refused = await failure(fake, (api) => api.cancelDeployment(result.deploymentUuid ?? ""));
    assert.equal(refused._tag, "CoolifyBadRequest");

    await run(fake, (api) => api.deleteApplication(uuid, { deleteVolumes: false }));
    assert.equal((await run(fake, (api) => api.getApplication(uuid))).uuid, uuid, "deletion is asynchronous");
    fake.settle();
    assert.equal((await failure(fake, (api) => api.getApplication(uuid)))._tag, "CoolifyNotFound");
    assert.equal(fake.state.deletions.find((d) => d.uuid === uuid)?.options.delete_volumes, false);
  });

  test("a deploy Coolify skipped returns a uuid that is NotFound; the list shows the real one", async () => {
    const { uuid } = await run(fake, (api) => api.createApplication({ type: "public", body: publicBody(fake, { name: "skippy", git_repository: "https://github.com/acme/skippy" }) }));
    const [first] = await run(fake, (api) => api.deploy({ uuid }));
    const [second] = await run(fake, (api) => api.deploy({ uuid, force: true }));
    assert.ok(first?.deploymentUuid && second?.deploymentUuid);
    const missing = await failure(fake, (api) => api.getDeployment(second.deploymentUuid ?? ""));
    assert.equal(missing._tag, "CoolifyNotFound");
    const history = await run(fake, (api) => api.listDeployments(uuid));
    assert.deepEqual(history.deployments.map((d) => d.deployment_uuid), [first.deploymentUuid]);
    fake.settle();
  });

  test("maps 401 and 400 Invalid token to CoolifyUnauthorized", async () => {
    const unauthorized = await failure(fake, (api) => api.listApplications(), { token: "wrong" });
    assert.equal(unauthorized._tag, "CoolifyUnauthorized");
    assert.match(unauthorized.message, /token/);
    fake.addToken("teamless", { team: false });
    const teamless = await failure(fake, (api) => api.listApplications(), { token: "teamless" });
    assert.deepEqual([teamless._tag, teamless._tag === "CoolifyUnauthorized" ? teamless.status : 0], ["CoolifyUnauthorized", 400]);
  });

  test("maps 404, 409 (with the conflicting domains) and 422 (with field errors)", async () => {
    const notFound = await failure(fake, (api) => api.getApplication("nope"));
    assert.deepEqual([notFound._tag, notFound._tag === "CoolifyNotFound" ? notFound.id : ""], ["CoolifyNotFound", "nope"]);

    const { uuid } = await run(fake, (api) => api.createApplication({ type: "public", body: publicBody(fake, { name: "taken", domains: "https://taken.example.com" }) }));
    const conflict = await failure(fake, (api) => api.createApplication({ type: "public", body: publicBody(fake, { name: "other", domains: "https://taken.example.com" }) }));
    assert.equal(conflict._tag, "CoolifyConflict");
    if (conflict._tag === "CoolifyConflict") {
      assert.deepEqual(conflict.conflicts.map((c) => [c.domain, c.resourceUuid]), [["taken.example.com", uuid]]);
      assert.match(conflict.message, /taken\.example\.com/);
    }

    const invalid = await failure(fake, (api) => api.createApplication({ type: "public", body: publicBody(fake, { ports_exposes: "http" }) }));
    assert.equal(invalid._tag, "CoolifyValidation");
    if (invalid._tag === "CoolifyValidation") assert.deepEqual(Object.keys(invalid.fieldErrors), ["ports_exposes"]);
  });

  test("retries 5xx on idempotent calls, never on a create", async () => {
    fake.calls.reset();
    fake.faults.failNext({ count: 2, status: 503, endpoint: "GET /servers" });
    const servers = await run(fake, (api) => api.listServers());
    assert.equal(servers.length, 1);
    assert.equal(fake.calls.count({ endpoint: "GET /servers" }), 3);

    fake.faults.failNext({ count: 1, status: 500, endpoint: "POST /applications/public" });
    const error = await failure(fake, (api) => api.createApplication({ type: "public", body: publicBody(fake, { name: "once" }) }));
    assert.equal(error._tag, "CoolifyServerError");
    assert.equal(fake.calls.count({ endpoint: "POST /applications/public" }), 1, "a create is not repeated blindly");

    fake.faults.failNext({ count: 10, status: 502, endpoint: "GET /projects" });
    const exhausted = await failure(fake, (api) => api.listProjects(), { retries: 2 });
    assert.equal(exhausted._tag, "CoolifyServerError");
    assert.match(exhausted.message, /Tried 3 times\./);
    assert.doesNotMatch(exhausted.message, /gave up/i, "the controller retries after this; the message must not say otherwise");
  });

  test("honours 429 Retry-After: waits, then retries the same call", async () => {
    fake.calls.reset();
    const events: Array<CoolifyClientEvent> = [];
    fake.faults.rateLimitBurst({ count: 1, retryAfterSeconds: 1, endpoint: "POST /applications/public" });
    const created = await run(fake, (api) => api.createApplication({ type: "public", body: publicBody(fake, { name: "patient" }) }), {
      onEvent: (event) => events.push(event),
    });
    assert.ok(created.uuid);
    const attempts = fake.calls.entries.filter((c) => c.endpoint === "POST /applications/public");
    assert.deepEqual(attempts.map((c) => c.status), [429, 201], "a 429 means Coolify did nothing, so even a create is retried");
    assert.ok((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0) >= 1000, "the retry came after Retry-After");
    assert.ok(events.some((e) => e._tag === "RateLimitWait" && e.cause === "retry-after" && e.waitedMs >= 1000));

    fake.faults.rateLimitBurst({ count: 1, retryAfterSeconds: 120, endpoint: "GET /servers" });
    const tooLong = await failure(fake, (api) => api.listServers(), { maxRetryAfterMs: 30_000 });
    assert.deepEqual([tooLong._tag, tooLong._tag === "CoolifyRateLimited" ? tooLong.retryAfterMs : 0], ["CoolifyRateLimited", 120_000]);
  });

  test("cuts hung requests with the timeout; retries reads, not deploys", async () => {
    fake.calls.reset();
    const events: Array<CoolifyClientEvent> = [];
    fake.faults.hangNext({ endpoint: "GET /servers" });
    const servers = await run(fake, (api) => api.listServers(), { timeoutMs: 150, onEvent: (event) => events.push(event) });
    assert.equal(servers.length, 1);
    assert.ok(events.some((e) => e._tag === "NoResponse" && e.reason === "timeout"));

    const { uuid } = await run(fake, (api) => api.createApplication({ type: "public", body: publicBody(fake, { name: "hung", git_repository: "https://github.com/acme/hung" }) }));
    fake.faults.hangNext({ endpoint: "POST /deploy" });
    const timeout = await failure(fake, (api) => api.deploy({ uuid }), { timeoutMs: 150 });
    assert.equal(timeout._tag, "CoolifyTimeout");
    assert.match(timeout.message, /may still have taken effect/);
    assert.equal(fake.calls.count({ endpoint: "POST /deploy" }), 1);
  });

  test("reports an unreachable Coolify as CoolifyTransport", async () => {
    const closed = await startCoolifyFake({ clock: "manual" });
    await closed.close();
    const error = await failure(closed, (api) => api.listServers(), { retries: 0 });
    assert.equal(error._tag, "CoolifyTransport");
    assert.match(error.message, /Could not reach Coolify/);
  });
});

describe("CoolifyApi pacing", () => {
  test("a burst of calls stays under the server's limit: no 429 is provoked", async () => {
    // The client counts at send time, the server at arrival: latency jitter can
    // shift a few requests into the next server window. Half the server's limit
    // leaves room for that even when the test machine is busy.
    const fake = await startCoolifyFake({ clock: "manual", rateLimit: { limit: 10, windowMs: 1000 } });
    try {
      const events: Array<CoolifyClientEvent> = [];
      const burst = 15;
      const results = await run(
        fake,
        (api) => Effect.all(Array.from({ length: burst }, () => api.listServers()), { concurrency: "unbounded" }),
        { requestsPerMinute: 5, rateWindowMs: 1000, onEvent: (event) => events.push(event) },
      );
      assert.equal(results.length, burst);
      assert.equal(fake.calls.count(), burst, "no retries were needed");
      assert.equal(fake.calls.count({ status: 429 }), 0);
      assert.ok(fake.calls.maxInWindow(1000) <= 10, `at most 10 in any 1 s window, saw ${fake.calls.maxInWindow(1000)}`);
      assert.ok(events.some((e) => e._tag === "RateLimitWait" && e.cause === "pacing"));
    } finally {
      await fake.close();
    }
  });
});
