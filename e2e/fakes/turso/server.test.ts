import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { parseExpiration, startTursoFake } from "./index.ts";
import type { TursoFake } from "./index.ts";

const ORG = "acme";

describe("Turso fake", () => {
  let fake: TursoFake;
  before(async () => {
    fake = await startTursoFake({ org: ORG, groups: ["default", "eu"], token: "platform-token" });
  });
  after(() => fake.close());
  afterEach(() => {
    assert.deepEqual(fake.violations, [], "the fake answered something its OpenAPI document does not allow");
    fake.faults.clear();
    fake.calls.reset();
    fake.state.databases.clear();
  });

  const call = async (method: string, path: string, init: { body?: unknown; token?: string | null; signal?: AbortSignal } = {}) => {
    const headers: Record<string, string> = {};
    if (init.token !== null) headers["authorization"] = `Bearer ${init.token ?? fake.token}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${fake.url}${path}`, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>) };
  };
  const databases = `/v1/organizations/${ORG}/databases`;
  const create = (name: string, group = "default") => call("POST", databases, { body: { name, group } });

  test("creates a database in an existing group, named <db>-<org>.turso.io, then gets, lists and deletes it", async () => {
    const created = await create("shop-db");
    assert.equal(created.status, 200);
    const database = created.body?.["database"] as { DbId: string; Hostname: string; Name: string };
    assert.equal(database.Name, "shop-db");
    assert.equal(database.Hostname, "shop-db-acme.turso.io");
    assert.match(database.DbId, /^[0-9a-f-]{36}$/);

    const got = await call("GET", `${databases}/shop-db`);
    assert.equal(got.status, 200);
    assert.deepEqual((got.body?.["database"] as Record<string, unknown>)["DbId"], database.DbId);
    assert.equal((got.body?.["database"] as Record<string, unknown>)["group"], "default");

    await create("other-db", "eu");
    const all = await call("GET", databases);
    assert.deepEqual((all.body?.["databases"] as Array<{ Name: string }>).map((db) => db.Name).sort(), ["other-db", "shop-db"]);
    const inEu = await call("GET", `${databases}?group=eu`);
    assert.deepEqual((inEu.body?.["databases"] as Array<{ Name: string }>).map((db) => db.Name), ["other-db"]);

    const deleted = await call("DELETE", `${databases}/shop-db`);
    assert.deepEqual(deleted, { status: 200, headers: deleted.headers, body: { database: "shop-db" } });
    const gone = await call("GET", `${databases}/shop-db`);
    assert.equal(gone.status, 404);
    assert.match(String(gone.body?.["error"]), /could not find database with name shop-db/);
    assert.equal((await call("DELETE", `${databases}/shop-db`)).status, 404);
  });

  test("rejects a duplicate name with 409 and a group that does not exist with 400", async () => {
    assert.equal((await create("dup")).status, 200);
    const duplicate = await create("dup");
    assert.deepEqual(duplicate.body, { error: "database with name dup already exists" });
    assert.equal(duplicate.status, 409);
    const noGroup = await create("lonely", "missing-group");
    assert.equal(noGroup.status, 400);
    assert.deepEqual(noGroup.body, { error: "group not found" });
    assert.equal(fake.state.databases.has("lonely"), false);
  });

  test("validates requests against the document: missing fields, wrong types, bad enum values, bad names", async () => {
    const missingGroup = await call("POST", databases, { body: { name: "x" } });
    assert.equal(missingGroup.status, 400);
    assert.match(String(missingGroup.body?.["error"]), /group/);
    assert.equal((await call("POST", databases, { body: { name: 7, group: "default" } })).status, 400);
    assert.equal((await call("POST", databases)).status, 400, "the body is required");
    assert.equal((await create("Not_Valid")).status, 400);
    await create("db1");
    const badAuthorization = await call("POST", `${databases}/db1/auth/tokens?authorization=admin`);
    assert.equal(badAuthorization.status, 400);
    const badExpiration = await call("POST", `${databases}/db1/auth/tokens?expiration=soon`);
    assert.deepEqual(badExpiration.body, { error: "Invalid expiration format" });
  });

  test("answers 401 with Turso's {error} body for a wrong or missing platform token", async () => {
    for (const token of ["wrong", null]) {
      const response = await call("GET", databases, { token });
      assert.equal(response.status, 401);
      assert.equal(typeof response.body?.["error"], "string");
    }
    assert.equal(fake.calls.count("listDatabases"), 2);
  });

  test("mints real signed tokens the fake verifies; rotate invalidates every earlier token", async () => {
    await create("tok-db");
    const mint = async (query = "") => (await call("POST", `${databases}/tok-db/auth/tokens${query}`)).body?.["jwt"] as string;
    const first = await mint();
    const readOnly = await mint("?expiration=2w1d&authorization=read-only");
    assert.equal(first.split(".").length, 3);
    assert.equal(await fake.verifyDatabaseToken("tok-db", first), true);
    assert.equal(await fake.verifyDatabaseToken("tok-db", readOnly), true);
    assert.equal(await fake.verifyDatabaseToken("tok-db", `${first}x`), false);

    const rotated = await call("POST", `${databases}/tok-db/auth/rotate`);
    assert.equal(rotated.status, 200);
    assert.equal(await fake.verifyDatabaseToken("tok-db", first), false);
    assert.equal(await fake.verifyDatabaseToken("tok-db", readOnly), false);
    const fresh = await mint();
    assert.equal(await fake.verifyDatabaseToken("tok-db", fresh), true);

    await create("other");
    assert.equal(await fake.verifyDatabaseToken("other", fresh), false, "a token is only good for its own database");
    await call("DELETE", `${databases}/tok-db`);
    await create("tok-db");
    assert.equal(await fake.verifyDatabaseToken("tok-db", fresh), false, "a re-created database does not accept the old one's tokens");
    assert.equal((await call("POST", `${databases}/missing/auth/tokens`)).status, 404);
  });

  test("counts calls per endpoint", async () => {
    await create("counted");
    await call("GET", `${databases}/counted`);
    await call("GET", `${databases}/counted`);
    await call("GET", "/v1/nothing-here");
    assert.equal(fake.calls.count("createDatabase"), 1);
    assert.equal(fake.calls.count("getDatabase"), 2);
    assert.equal(fake.calls.count("unknown"), 1);
    assert.equal(fake.calls.count(), 4);
    assert.deepEqual(fake.calls.entries[0], { operation: "createDatabase", method: "POST", path: databases, outcome: 200 });
  });

  test("injects 5xx for the next N calls of one operation, leaving the others alone", async () => {
    fake.faults.fail(503, { operation: "listDatabases", times: 2 });
    assert.equal((await call("GET", databases)).status, 503);
    assert.equal((await create("unaffected")).status, 200);
    assert.equal((await call("GET", databases)).status, 503);
    assert.equal((await call("GET", databases)).status, 200);
  });

  test("a seeded error rate fails the same requests on every run", async () => {
    const pattern = async () => {
      fake.faults.clear().errorRate(0.5, { seed: 42 });
      const statuses: Array<number> = [];
      for (let i = 0; i < 12; i++) statuses.push((await call("GET", databases)).status);
      return statuses;
    };
    const first = await pattern();
    assert.deepEqual(await pattern(), first);
    assert.ok(first.includes(500) && first.includes(200), `expected a mix, got ${first.join(",")}`);
  });

  test("rate limits with 429 and Retry-After", async () => {
    fake.faults.rateLimit(7, { times: 1 });
    const limited = await call("GET", databases);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "7");
    assert.equal(typeof limited.body?.["error"], "string");
    assert.equal((await call("GET", databases)).status, 200);
  });

  test("adds latency", async () => {
    fake.faults.latency(150, { operation: "listDatabases" });
    const started = performance.now();
    await call("GET", databases);
    assert.ok(performance.now() - started >= 145);
  });

  test("hangs until the client gives up", async () => {
    fake.faults.hang({ operation: "getDatabase", times: 1 });
    const abort = new AbortController();
    const pending = call("GET", `${databases}/anything`, { signal: abort.signal });
    await fake.calls.waitFor("getDatabase");
    assert.equal(fake.calls.entries.at(-1)?.outcome, "hang");
    abort.abort();
    await assert.rejects(pending, { name: "AbortError" });
    assert.equal((await call("GET", `${databases}/anything`)).status, 404, "the next request is answered");
  });

  test("phase 'after' applies the operation and loses the answer (the ambiguous create)", async () => {
    fake.faults.fail(502, { operation: "createDatabase", times: 1, phase: "after" });
    assert.equal((await create("ghost")).status, 502);
    assert.equal(fake.state.databases.has("ghost"), true);
    assert.equal((await create("ghost")).status, 409);
  });
});

describe("parseExpiration", () => {
  test("reads Turso's duration format", () => {
    assert.equal(parseExpiration("never"), null);
    assert.equal(parseExpiration("2w"), 2 * 604_800);
    assert.equal(parseExpiration("2w1d30m"), 2 * 604_800 + 86_400 + 1_800);
    assert.equal(parseExpiration("soon"), undefined);
    assert.equal(parseExpiration(""), undefined);
  });
});

describe("Turso fake shutdown", () => {
  test("close() ends requests that are still hanging", async () => {
    const fake = await startTursoFake({ org: ORG });
    fake.faults.hang();
    const pending = fetch(`${fake.url}/v1/organizations/${ORG}/databases`, { headers: { authorization: `Bearer ${fake.token}` } });
    await fake.calls.waitFor("listDatabases");
    await fake.close();
    await assert.rejects(pending);
  });
});
