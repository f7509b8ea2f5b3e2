/**
 * DatabaseProvider on Turso: one Turso database per external name, in the
 * configured group, reached at `libsql://<Hostname>`.
 */
import { Effect, Layer, Option } from "effect";
import { DatabaseProvider } from "../database/DatabaseProvider.ts";
import type { ProvisionedDatabase } from "../database/DatabaseProvider.ts";
import { ProviderConflict, ProviderInvalid } from "../database/errors.ts";
import { checkExternalName } from "../database/external-name.ts";
import type { TursoApiConfig } from "./config.ts";
import { TursoApi } from "./TursoApi.ts";

const PROVIDER = "turso";

// The hostname `<db>-<org>.turso.io` carries both names in one DNS label.
const MAX_DNS_LABEL = 63;

const provisioned = (externalName: string, hostname: string): ProvisionedDatabase => ({ externalName, url: `libsql://${hostname}` });

export const makeTursoDatabaseProvider = Effect.gen(function* () {
  const turso = yield* TursoApi;

  const checkName = (operation: string, externalName: string) =>
    checkExternalName(PROVIDER, operation, externalName).pipe(
      Effect.filterOrFail(
        (name) => name.length + 1 + turso.org.length <= MAX_DNS_LABEL,
        (name) =>
          new ProviderInvalid({
            provider: PROVIDER,
            operation,
            message: `Database name "${name}" is too long for organization "${turso.org}": "<name>-<org>" must fit in ${MAX_DNS_LABEL} characters.`,
          }),
      ),
    );

  const observe = Effect.fn("TursoDatabaseProvider.observe")(function* (externalName: string) {
    yield* checkName("observe", externalName);
    const found = yield* turso.getDatabase(externalName);
    return Option.map(found, (db) => provisioned(externalName, db.Hostname));
  });

  /** 409 means the name is taken — by us, after a lost answer or a crash. Adopt it, unless it lives in another group. */
  const adopt = Effect.fn("TursoDatabaseProvider.adopt")(function* (externalName: string, conflict: ProviderConflict) {
    const existing = yield* turso.getDatabase(externalName);
    if (Option.isNone(existing)) return yield* conflict; // deleted in between: let the next reconcile create it
    const db = existing.value;
    if (db.group !== undefined && db.group !== turso.group) {
      return yield* new ProviderConflict({
        provider: PROVIDER,
        operation: "create",
        message: `A Turso database named "${externalName}" already exists in group "${db.group}", not in "${turso.group}"; it was not adopted.`,
      });
    }
    return provisioned(externalName, db.Hostname);
  });

  const create = Effect.fn("TursoDatabaseProvider.create")(function* (externalName: string) {
    yield* checkName("create", externalName);
    return yield* turso.createDatabase(externalName).pipe(
      Effect.map((db) => provisioned(externalName, db.Hostname)),
      Effect.catchTag("ProviderConflict", (conflict) => adopt(externalName, conflict)),
    );
  });

  const mintToken = Effect.fn("TursoDatabaseProvider.mintToken")(function* (externalName: string) {
    yield* checkName("mintToken", externalName);
    const authToken = yield* turso.createToken(externalName);
    return { authToken };
  });

  const rotate = Effect.fn("TursoDatabaseProvider.rotate")(function* (externalName: string) {
    yield* checkName("rotate", externalName);
    yield* turso.rotateTokens(externalName);
  });

  const remove = Effect.fn("TursoDatabaseProvider.delete")(function* (externalName: string) {
    yield* checkName("delete", externalName);
    yield* turso.deleteDatabase(externalName).pipe(Effect.catchTag("ProviderNotFound", () => Effect.void));
  });

  return DatabaseProvider.of({ provider: PROVIDER, observe, create, mintToken, rotate, delete: remove });
});

export const TursoDatabaseProvider = {
  /** DatabaseProvider over an already-provided TursoApi (tests swap that layer). */
  layerNoDeps: Layer.effect(DatabaseProvider, makeTursoDatabaseProvider),
  /** DatabaseProvider talking to Turso over fetch. */
  layer: (config: TursoApiConfig): Layer.Layer<DatabaseProvider> =>
    Layer.effect(DatabaseProvider, makeTursoDatabaseProvider).pipe(Layer.provide(TursoApi.layer(config))),
} as const;
