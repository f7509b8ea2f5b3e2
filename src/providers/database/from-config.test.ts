import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Effect, Layer, Result } from "effect";
import { startTursoFake } from "../../../e2e/fakes/turso/index.ts";
import type { TursoFake } from "../../../e2e/fakes/turso/index.ts";
import { AppConfig, decodeConfig } from "../../config/config.ts";
import { DatabaseProvider, DatabaseProviderFromConfig } from "./index.ts";

describe("DatabaseProviderFromConfig", () => {
  let fake: TursoFake;
  let dataDir: string;
  before(async () => {
    fake = await startTursoFake({ org: "acme" });
    dataDir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-dbconfig-"));
  });
  after(async () => {
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const providerFor = (env: Record<string, string>) => {
    const values = Result.getOrThrow(decodeConfig({ DATA_DIR: dataDir, ...env }));
    const layer = DatabaseProviderFromConfig.pipe(Layer.provide(AppConfig.layer(values)));
    return Effect.runPromise(
      Effect.gen(function* () {
        const provider = yield* DatabaseProvider;
        const created = yield* provider.create("dm-u1-config");
        return { provider: provider.provider, url: created.url };
      }).pipe(Effect.provide(layer), Effect.result),
    );
  };

  test("without Turso credentials, databases are local libSQL files under DATA_DIR", async () => {
    const result = Result.getOrThrow(await providerFor({}));
    assert.equal(result.provider, "sqlite-local");
    assert.equal(result.url, `file://${path.join(dataDir, "sqlite", "dm-u1-config.db")}`);
  });

  test("with TURSO_ORG and TURSO_API_TOKEN, databases go to Turso", async () => {
    const result = Result.getOrThrow(
      await providerFor({ TURSO_API_URL: fake.url, TURSO_ORG: "acme", TURSO_API_TOKEN: fake.token, TURSO_GROUP: "default" }),
    );
    assert.deepEqual(result, { provider: "turso", url: "libsql://dm-u1-config-acme.turso.io" });
    assert.equal(fake.state.databases.has("dm-u1-config"), true);
  });

  test("only one of the two Turso settings stops start-up with a ConfigError naming the missing one", async () => {
    const result = await providerFor({ TURSO_ORG: "acme" });
    assert.ok(Result.isFailure(result));
    assert.equal(result.failure._tag, "ConfigError");
    assert.match(result.failure.message, /TURSO_API_TOKEN is not/);
  });
});
