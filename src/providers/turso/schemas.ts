/**
 * The parts of Turso's answers we rely on, decoded at the boundary. Turso's
 * document marks every field optional; these say which ones we need, and the
 * type checks below keep them in line with the generated document types.
 */
import { Schema } from "effect";
import type { components, operations } from "./openapi.d.ts";

export const TursoDatabase = Schema.Struct({
  Name: Schema.String,
  DbId: Schema.String,
  Hostname: Schema.String,
  group: Schema.optional(Schema.String),
  primaryRegion: Schema.optional(Schema.String),
});
export type TursoDatabase = typeof TursoDatabase.Type;

export const CreatedDatabase = Schema.Struct({ DbId: Schema.String, Hostname: Schema.String, Name: Schema.String });
export type CreatedDatabase = typeof CreatedDatabase.Type;

export const CreateDatabaseResponse = Schema.Struct({ database: CreatedDatabase });
export const GetDatabaseResponse = Schema.Struct({ database: TursoDatabase });
export const ListDatabasesResponse = Schema.Struct({ databases: Schema.Array(TursoDatabase) });
export const CreateTokenResponse = Schema.Struct({ jwt: Schema.String });

/** Turso's error body: `{"error": "…"}`. */
export const ErrorBody = Schema.Struct({ error: Schema.String });

export type CreateDatabaseInput = components["schemas"]["CreateDatabaseInput"];
export type TokenAuthorization = NonNullable<NonNullable<operations["createDatabaseToken"]["parameters"]["query"]>["authorization"]>;

// Compile-time drift checks: our decoded shapes must fit the document's.
type Fits<A extends B, B> = [A, B];
export type DocumentChecks = [
  Fits<TursoDatabase, components["schemas"]["Database"]>,
  Fits<CreatedDatabase, components["schemas"]["CreateDatabaseOutput"]>,
];
