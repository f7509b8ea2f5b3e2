/**
 * The Turso client and the DatabaseProvider built on it, against the Turso
 * fake: real HTTP on 127.0.0.1, every request and answer checked against
 * Turso's OpenAPI document by the fake.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { Effect, Layer, Option } from "effect";
import { startTursoFake } from "../../../e2e/fakes/turso/index.ts";
import type { TursoFake } from "../../../e2e/fakes/turso/index.ts";
import { DatabaseProvider } from "../database/index.ts";
import { describeFailure, type ProviderFailure } from "../../../controllers/resource/provider-failure.ts";
import type { TursoApiConfig } from "./index.ts";
import { TursoApi, TursoDatabaseProvider } from "./index.ts";

const ORG = "acme";

describe("Turso DatabaseProvider against the fake", () => {
  let fake: TursoFake;
  before(async () => {
    fake = await startTursoFake({ org: ORG, groups: ["default", "other"] });
  });
  after(() => fake.close());
  afterEach(() => {
    assert.deepEqual(fake.violations, []);
    fake.faults.clear();
    fake.calls.reset();
    fake.state.databases.clear();
  });

  const configFor = (overrides: Partial<TursoApiConfig> = {}): TursoApiConfig => ({
    apiUrl: fake.url,
    org: ORG,
    group: "default",
    token: fake.token,
    timeoutMs: 300,
    retries: 3,
    retryBaseDelayMs: 5,
    ...overrides,
  });
  const run = <A, E>(effect: Effect.Effect<A, E, DatabaseProvider | TursoApi>, overrides: Partial<TursoApiConfig> = {}): Promise<A> =>
    Effect.runPromise(
      effect.pipe(Effect.provide(TursoDatabaseProvider.layerNoDeps.pipe(Layer.provideMerge(TursoApi.layer(configFor(overrides)))))),
    );
  const fail = <A, E>(effect: Effect.Effect<A, E, DatabaseProvider | TursoApi>, overrides: Partial<TursoApiConfig> = {}): Promise<E> =>
    run(Effect.flip(effect), overrides);
  const provider = Effect.service(DatabaseProvider);

  test("creates, observes, mints a token the database accepts, and deletes (twice)", async () => {
    const created = await run(Effect.flatMap(provider, (p) => p.create("dm-u1-shop")));
    assert.deepEqual(created, { externalName: "dm-u1-shop", url: "libsql://dm-u1-shop-acme.turso.io" });
    assert.equal(fake.state.databases.get("dm-u1-shop")?.group, "default");

    const observed = await run(Effect.flatMap(provider, (p) => p.observe("dm-u1-shop")));
    assert.deepEqual(observed, Option.some(created));

    const { authToken } = await run(Effect.flatMap(provider, (p) => p.mintToken("dm-u1-shop")));
    assert.ok(authToken !== undefined);
    assert.equal(await fake.verifyDatabaseToken("dm-u1-shop", authToken), true);

    const listed = await run(Effect.flatMap(Effect.service(TursoApi), (api) => api.listDatabases()));
    assert.deepEqual(listed.map((db) => db.Name), ["dm-u1-shop"]);

    await run(Effect.flatMap(provider, (p) => p.delete("dm-u1-shop")));
    assert.equal(fake.state.databases.has("dm-u1-shop"), false);
    await run(Effect.flatMap(provider, (p) => p.delete("dm-u1-shop")));
    assert.deepEqual(await run(Effect.flatMap(provider, (p) => p.observe("dm-u1-shop"))), Option.none());
    assert.equal(fake.calls.count("deleteDatabase"), 2);
  });

  test("a name Turso already has (409) is adopted, not created twice", async () => {
    fake.state.addDatabase("dm-u1-taken", "default");
    const created = await run(Effect.flatMap(provider, (p) => p.create("dm-u1-taken")));
    assert.deepEqual(created, { externalName: "dm-u1-taken", url: "libsql://dm-u1-taken-acme.turso.io" });
    assert.equal(fake.calls.count("createDatabase"), 1);
    assert.equal(fake.calls.count("getDatabase"), 1);
    assert.equal(fake.state.databases.size, 1);
  });

  test("a same-named database in another group is not adopted", async () => {
    fake.state.addDatabase("dm-u1-elsewhere", "other");
    const error = await fail(Effect.flatMap(provider, (p) => p.create("dm-u1-elsewhere")));
    assert.equal(error._tag, "ProviderConflict");
    assert.match(error.message, /group "other"/);
  });

  test("a bad platform token is ProviderUnauthorized at once, without retries", async () => {
    const error = await fail(Effect.flatMap(provider, (p) => p.observe("dm-u1-x")), { token: "not-the-token" });
    assert.equal(error._tag, "ProviderUnauthorized");
    assert.match(error.message, /TURSO_API_TOKEN/);
    assert.equal(fake.calls.count("getDatabase"), 1);
  });

  test("injected 5xx on idempotent calls converge with bounded retries", async () => {
    fake.state.addDatabase("dm-u1-flaky", "default");
    fake.faults.fail(503, { operation: "getDatabase", times: 2 });
    const observed = await run(Effect.flatMap(provider, (p) => p.observe("dm-u1-flaky")));
    assert.equal(Option.isSome(observed), true);
    assert.equal(fake.calls.count("getDatabase"), 3);

    fake.calls.reset();
    fake.faults.clear().errorRate(0.5, { seed: 7, operation: "listDatabases" });
    for (let i = 0; i < 5; i++) await run(Effect.flatMap(Effect.service(TursoApi), (api) => api.listDatabases()));
    assert.ok(fake.calls.entries.some((call) => call.outcome === 500), "the seeded rate did inject failures");
  });

  test("a provider that keeps failing gives ProviderUnavailable after retries+1 attempts", async () => {
    fake.faults.fail(502, { operation: "getDatabase" });
    const error = await fail(Effect.flatMap(provider, (p) => p.observe("dm-u1-down")));
    assert.equal(error._tag, "ProviderUnavailable");
    assert.equal(error._tag === "ProviderUnavailable" ? error.status : undefined, 502);
    assert.match(error.message, /Tried 4 times\./);
    // What the Resource's condition says: how hard this call tried, and that it is retried — never "gave up".
    const told = describeFailure(error as ProviderFailure).message;
    assert.match(told, /Tried 4 times\. This is usually temporary; retrying with backoff\.$/);
    assert.doesNotMatch(told, /gave up/i);
    assert.equal(fake.calls.count("getDatabase"), 4);
  });

  test("429 waits out Retry-After, then succeeds", async () => {
    fake.faults.rateLimit(1, { operation: "listDatabases", times: 1 });
    const started = performance.now();
    await run(Effect.flatMap(Effect.service(TursoApi), (api) => api.listDatabases()));
    assert.ok(performance.now() - started >= 950, "waited about the second Turso asked for");
    assert.equal(fake.calls.count("listDatabases"), 2);
  });

  test("a Retry-After longer than we may block fails fast with ProviderRateLimited", async () => {
    fake.faults.rateLimit(120, { operation: "getDatabase" });
    const error = await fail(Effect.flatMap(provider, (p) => p.observe("dm-u1-busy")));
    assert.equal(error._tag, "ProviderRateLimited");
    assert.equal(error._tag === "ProviderRateLimited" ? error.retryAfterMs : undefined, 120_000);
    assert.equal(fake.calls.count("getDatabase"), 1);
  });

  test("create is retried after 429 (nothing happened) but not after a 5xx (it may have)", async () => {
    fake.faults.rateLimit(0, { operation: "createDatabase", times: 1 });
    await run(Effect.flatMap(provider, (p) => p.create("dm-u1-limited")));
    assert.equal(fake.calls.count("createDatabase"), 2);

    fake.calls.reset();
    fake.faults.clear().fail(503, { operation: "createDatabase", times: 1 });
    const error = await fail(Effect.flatMap(provider, (p) => p.create("dm-u1-once")));
    assert.equal(error._tag, "ProviderUnavailable");
    assert.equal(fake.calls.count("createDatabase"), 1);
  });

  test("a hanging read times out and is retried", async () => {
    fake.state.addDatabase("dm-u1-slow", "default");
    fake.faults.hang({ operation: "getDatabase", times: 1 });
    const observed = await run(Effect.flatMap(provider, (p) => p.observe("dm-u1-slow")));
    assert.equal(Option.isSome(observed), true);
    assert.deepEqual(fake.calls.entries.map((call) => call.outcome), ["hang", 200]);
  });

  test("a create whose answer never comes is not repeated; observe then finds it and create adopts it", async () => {
    fake.faults.hang({ operation: "createDatabase", times: 1, phase: "after" });
    const error = await fail(Effect.flatMap(provider, (p) => p.create("dm-u1-lost")));
    assert.equal(error._tag, "ProviderUnavailable");
    assert.match(error.message, /did not answer .* within 300 ms.*look it up by name/);
    assert.equal(fake.calls.count("createDatabase"), 1);

    const observed = await run(Effect.flatMap(provider, (p) => p.observe("dm-u1-lost")));
    assert.deepEqual(observed, Option.some({ externalName: "dm-u1-lost", url: "libsql://dm-u1-lost-acme.turso.io" }));
    const adopted = await run(Effect.flatMap(provider, (p) => p.create("dm-u1-lost")));
    assert.equal(adopted.url, "libsql://dm-u1-lost-acme.turso.io");
    assert.equal(fake.state.databases.size, 1);
  });

  test("rotate invalidates every earlier token; a new one is accepted", async () => {
    await run(Effect.flatMap(provider, (p) => p.create("dm-u1-rot")));
    const first = await run(Effect.flatMap(provider, (p) => p.mintToken("dm-u1-rot")));
    const second = await run(Effect.flatMap(provider, (p) => p.mintToken("dm-u1-rot")));
    await run(Effect.flatMap(provider, (p) => p.rotate("dm-u1-rot")));
    assert.equal(await fake.verifyDatabaseToken("dm-u1-rot", first.authToken ?? ""), false);
    assert.equal(await fake.verifyDatabaseToken("dm-u1-rot", second.authToken ?? ""), false);
    const fresh = await run(Effect.flatMap(provider, (p) => p.mintToken("dm-u1-rot")));
    assert.equal(await fake.verifyDatabaseToken("dm-u1-rot", fresh.authToken ?? ""), true);
  });

  test("tokens and rotation for a database that does not exist are ProviderNotFound", async () => {
    const mint = await fail(Effect.flatMap(provider, (p) => p.mintToken("dm-u1-none")));
    assert.equal(mint._tag, "ProviderNotFound");
    assert.match(mint.message, /no database "dm-u1-none"/);
    const rotate = await fail(Effect.flatMap(provider, (p) => p.rotate("dm-u1-none")));
    assert.equal(rotate._tag, "ProviderNotFound");
  });

  test("names Turso cannot take are ProviderInvalid before any call", async () => {
    for (const name of ["Upper", "dots.no", "-edge", "x".repeat(65), "x".repeat(60)]) {
      const error = await fail(Effect.flatMap(provider, (p) => p.create(name)));
      assert.equal(error._tag, "ProviderInvalid", name);
    }
    assert.equal(fake.calls.count(), 0);
  });
});

describe("Turso client without a server", () => {
  test("an unreachable API is ProviderUnavailable after retries", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const layer = TursoApi.layer({ apiUrl: `http://127.0.0.1:${port}`, org: ORG, group: "default", token: "t", retries: 2, retryBaseDelayMs: 1 });
    const error = await Effect.runPromise(Effect.flip(Effect.flatMap(Effect.service(TursoApi), (api) => api.listDatabases())).pipe(Effect.provide(layer)));
    assert.equal(error._tag, "ProviderUnavailable");
    assert.match(error.message, /Could not reach Turso at http:\/\/127\.0\.0\.1:\d+ .*Tried 3 times\./);
  });
});
