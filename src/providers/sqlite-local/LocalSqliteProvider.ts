/**
 * The embedded default DatabaseProvider: with no Turso credentials, each
 * database is a libSQL file `<dataDir>/sqlite/<externalName>.db` on this host,
 * reached at a `file:` URL and needing no token.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { Effect, Layer, Option } from "effect";
import { DatabaseProvider } from "../database/DatabaseProvider.ts";
import type { ProvisionedDatabase } from "../database/DatabaseProvider.ts";
import { ProviderNotFound, ProviderUnavailable } from "../database/errors.ts";
import { checkExternalName } from "../database/external-name.ts";

const PROVIDER = "sqlite-local";

export interface LocalSqliteConfig {
  /** The server's data directory (DATA_DIR); databases go under `<dataDir>/sqlite/`. */
  readonly dataDir: string;
}

// SQLite keeps a database in up to these files; deleting one means deleting all.
const COMPANION_SUFFIXES = ["", "-wal", "-shm", "-journal"] as const;

export const makeLocalSqliteProvider = (config: LocalSqliteConfig) => {
  const directory = path.resolve(config.dataDir, "sqlite");
  const fileOf = (externalName: string) => path.join(directory, `${externalName}.db`);
  const provisioned = (externalName: string): ProvisionedDatabase => ({ externalName, url: pathToFileURL(fileOf(externalName)).href });

  const fileSystem = <A>(operation: string, action: string, run: () => Promise<A>) =>
    Effect.tryPromise({
      try: run,
      catch: (cause) =>
        new ProviderUnavailable({ provider: PROVIDER, operation, message: `Could not ${action} under ${directory}: ${String(cause)}.` }),
    });

  const exists = (operation: string, externalName: string) =>
    fileSystem(operation, `look for database "${externalName}"`, async () => {
      try {
        return (await stat(fileOf(externalName))).isFile();
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw cause;
      }
    });

  const requireExisting = (operation: string, externalName: string) =>
    exists(operation, externalName).pipe(
      Effect.filterOrFail(
        (found) => found,
        () =>
          new ProviderNotFound({
            provider: PROVIDER,
            operation,
            externalName,
            message: `There is no local database "${externalName}" (expected ${fileOf(externalName)}).`,
          }),
      ),
    );

  const observe = Effect.fn("LocalSqliteProvider.observe")(function* (externalName: string) {
    yield* checkExternalName(PROVIDER, "observe", externalName);
    const found = yield* exists("observe", externalName);
    return found ? Option.some(provisioned(externalName)) : Option.none<ProvisionedDatabase>();
  });

  const create = Effect.fn("LocalSqliteProvider.create")(function* (externalName: string) {
    yield* checkExternalName(PROVIDER, "create", externalName);
    const database = provisioned(externalName);
    // Opening creates the file; switching to WAL writes the header, so the file
    // is a real database at once and apps can read while another connection writes.
    yield* fileSystem("create", `create database "${externalName}"`, async () => {
      await mkdir(directory, { recursive: true });
      const client = createClient({ url: database.url });
      try {
        await client.execute("PRAGMA journal_mode = WAL");
      } finally {
        client.close();
      }
    });
    return database;
  });

  const mintToken = Effect.fn("LocalSqliteProvider.mintToken")(function* (externalName: string) {
    yield* checkExternalName(PROVIDER, "mintToken", externalName);
    yield* requireExisting("mintToken", externalName);
    return { authToken: undefined };
  });

  // Local files have no tokens to invalidate.
  const rotate = Effect.fn("LocalSqliteProvider.rotate")(function* (externalName: string) {
    yield* checkExternalName(PROVIDER, "rotate", externalName);
    yield* requireExisting("rotate", externalName);
  });

  const remove = Effect.fn("LocalSqliteProvider.delete")(function* (externalName: string) {
    yield* checkExternalName(PROVIDER, "delete", externalName);
    yield* fileSystem("delete", `delete database "${externalName}"`, () =>
      Promise.all(COMPANION_SUFFIXES.map((suffix) => rm(`${fileOf(externalName)}${suffix}`, { force: true }))),
    );
  });

  return DatabaseProvider.of({ provider: PROVIDER, observe, create, mintToken, rotate, delete: remove });
};

export const LocalSqliteProvider = {
  layer: (config: LocalSqliteConfig): Layer.Layer<DatabaseProvider> => Layer.succeed(DatabaseProvider, makeLocalSqliteProvider(config)),
} as const;
