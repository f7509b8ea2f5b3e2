import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "@libsql/client";
import { Effect, Option } from "effect";
import { DatabaseProvider } from "../database/index.ts";
import { LocalSqliteProvider } from "./index.ts";

describe("LocalSqliteProvider", () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-sqlite-"));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  const run = <A, E>(use: (provider: DatabaseProvider["Service"]) => Effect.Effect<A, E>): Promise<A> =>
    Effect.runPromise(Effect.flatMap(Effect.service(DatabaseProvider), use).pipe(Effect.provide(LocalSqliteProvider.layer({ dataDir }))));
  const fail = <A, E>(use: (provider: DatabaseProvider["Service"]) => Effect.Effect<A, E>): Promise<E> =>
    run((provider) => Effect.flip(use(provider)));

  test("a created database is a real libSQL file that takes CREATE TABLE, INSERT and SELECT", async () => {
    assert.deepEqual(await run((p) => p.observe("dm-u1-notes")), Option.none());
    const created = await run((p) => p.create("dm-u1-notes"));
    const file = path.join(dataDir, "sqlite", "dm-u1-notes.db");
    assert.equal(created.externalName, "dm-u1-notes");
    assert.equal(created.url, `file://${file}`);
    assert.equal(existsSync(file), true);

    const client = createClient({ url: created.url });
    try {
      await client.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
      await client.execute({ sql: "INSERT INTO notes (body) VALUES (?)", args: ["hello"] });
      const result = await client.execute("SELECT body FROM notes");
      assert.deepEqual(result.rows.map((row) => row["body"]), ["hello"]);
    } finally {
      client.close();
    }

    assert.deepEqual(await run((p) => p.observe("dm-u1-notes")), Option.some(created));
    // create again (a retried reconcile) adopts the file and keeps its data
    await run((p) => p.create("dm-u1-notes"));
    const again = createClient({ url: created.url });
    try {
      assert.equal((await again.execute("SELECT count(*) AS n FROM notes")).rows[0]?.["n"], 1);
    } finally {
      again.close();
    }
  });

  test("local databases need no token; rotate is a no-op; both require the database", async () => {
    await run((p) => p.create("dm-u1-tokens"));
    assert.deepEqual(await run((p) => p.mintToken("dm-u1-tokens")), { authToken: undefined });
    await run((p) => p.rotate("dm-u1-tokens"));
    assert.equal((await fail((p) => p.mintToken("dm-u1-missing")))._tag, "ProviderNotFound");
    assert.equal((await fail((p) => p.rotate("dm-u1-missing")))._tag, "ProviderNotFound");
  });

  test("delete removes the file with its -wal/-shm companions, and deleting again succeeds", async () => {
    const created = await run((p) => p.create("dm-u1-gone"));
    const client = createClient({ url: created.url });
    await client.execute("CREATE TABLE t (x)");
    const directory = path.join(dataDir, "sqlite");
    // While a connection is open the WAL companions exist: delete must take them too.
    assert.ok((await readdir(directory)).includes("dm-u1-gone.db-wal"));
    await run((p) => p.delete("dm-u1-gone"));
    client.close();
    const left = (await readdir(directory)).filter((name) => name.startsWith("dm-u1-gone"));
    assert.deepEqual(left, []);
    assert.deepEqual(await run((p) => p.observe("dm-u1-gone")), Option.none());
    await run((p) => p.delete("dm-u1-gone"));
  });

  test("names that could escape the data directory are ProviderInvalid", async () => {
    for (const name of ["../escape", "a/b", "UPPER", "with.dot", ""]) {
      const error = await fail((p) => p.create(name));
      assert.equal(error._tag, "ProviderInvalid", name);
    }
    assert.equal(existsSync(path.join(dataDir, "escape.db")), false);
  });
});
