/**
 * The one interface the Resource controller uses for SQLite databases, whoever
 * hosts them (Turso, or local libSQL files when Turso is not configured).
 *
 * The verbs follow crossplane's managed-resource contract. A database is keyed
 * by a deterministic external name the controller derives (e.g.
 * `dm-<ownerShort>-<name>`), so a create whose answer was lost is found again
 * by `observe` and adopted instead of leaking a second database.
 */
import { Context } from "effect";
import type { Effect, Option } from "effect";
import type { DatabaseProviderError, ProviderNotFound } from "./errors.ts";

export interface ProvisionedDatabase {
  readonly externalName: string;
  /** What a libSQL client connects to: `libsql://…` for Turso, `file:…` for local files. */
  readonly url: string;
}

export interface DatabaseCredentials {
  /** Token for the database's URL; undefined when the provider needs none (local files). */
  readonly authToken: string | undefined;
}

export class DatabaseProvider extends Context.Service<
  DatabaseProvider,
  {
    /** Short provider name for messages and status ("turso", "sqlite-local"). */
    readonly provider: string;
    /** The database if it exists. */
    readonly observe: (externalName: string) => Effect.Effect<Option.Option<ProvisionedDatabase>, DatabaseProviderError>;
    /** Creates the database; an existing one with that name is adopted, so create is safe to repeat. */
    readonly create: (externalName: string) => Effect.Effect<ProvisionedDatabase, DatabaseProviderError>;
    /** A fresh credential for the database (store it encrypted; never put it in status). */
    readonly mintToken: (externalName: string) => Effect.Effect<DatabaseCredentials, DatabaseProviderError | ProviderNotFound>;
    /** Invalidates every credential minted so far; mint a new one afterwards. */
    readonly rotate: (externalName: string) => Effect.Effect<void, DatabaseProviderError | ProviderNotFound>;
    /** Deletes the database; one that is already gone counts as deleted. */
    readonly delete: (externalName: string) => Effect.Effect<void, DatabaseProviderError>;
  }
>()("deploy-mcp/providers/database/DatabaseProvider") {}
