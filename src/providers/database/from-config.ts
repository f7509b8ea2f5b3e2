/**
 * Picks the DatabaseProvider from the server's configuration: Turso when its
 * organization and token are set, otherwise local libSQL files under DATA_DIR
 * (the embedded default). Setting only one of the two is a mistake worth
 * stopping for, not a reason to quietly fall back to local files.
 */
import { Effect, Layer } from "effect";
import { AppConfig, ConfigError } from "../../config/config.ts";
import { LocalSqliteProvider } from "../sqlite-local/LocalSqliteProvider.ts";
import { TursoDatabaseProvider } from "../turso/TursoDatabaseProvider.ts";
import type { DatabaseProvider } from "./DatabaseProvider.ts";

export const DatabaseProviderFromConfig: Layer.Layer<DatabaseProvider, ConfigError, AppConfig> = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig;
    const org = config.TURSO_ORG;
    const token = config.TURSO_API_TOKEN;
    if (org !== undefined && token !== undefined) {
      return TursoDatabaseProvider.layer({ apiUrl: config.TURSO_API_URL, org, group: config.TURSO_GROUP ?? "default", token });
    }
    if (org !== undefined || token !== undefined) {
      const [set, missing] = org !== undefined ? ["TURSO_ORG", "TURSO_API_TOKEN"] : ["TURSO_API_TOKEN", "TURSO_ORG"];
      return yield* new ConfigError({
        variable: missing,
        message: `${set} is set but ${missing} is not: set both to keep databases on Turso, or neither to use local libSQL files under DATA_DIR.`,
      });
    }
    return LocalSqliteProvider.layer({ dataDir: config.DATA_DIR ?? ".data" });
  }),
);
