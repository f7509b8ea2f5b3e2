/**
 * Client for the parts of Turso's platform API we use: databases in one group
 * of one organization, and their auth tokens. Statuses become typed provider
 * errors (see request.ts); answers are decoded with Schema.
 */
import { Context, Effect, flow, Layer, Option, Schema } from "effect";
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http";
import { ProviderInvalid, ProviderNotFound } from "../database/errors.ts";
import { resolveTursoApiConfig } from "./config.ts";
import type { TursoApiConfig } from "./config.ts";
import { makeTursoRequester } from "./request.ts";
import type { TursoAnswer, TursoError } from "./request.ts";
import { CreateDatabaseResponse, CreateTokenResponse, GetDatabaseResponse, ListDatabasesResponse } from "./schemas.ts";
import type { CreateDatabaseInput, CreatedDatabase, TokenAuthorization, TursoDatabase } from "./schemas.ts";

export interface CreateTokenOptions {
  /** Turso duration ("2w", "1d12h") or "never" (default): rotation is how tokens are revoked. */
  readonly expiration?: string;
  /** Default "full-access". */
  readonly authorization?: TokenAuthorization;
}

export class TursoApi extends Context.Service<
  TursoApi,
  {
    readonly org: string;
    readonly group: string;
    /** Creates a database in the configured group. Not retried after a timeout or 5xx: it may have happened. */
    readonly createDatabase: (name: string) => Effect.Effect<CreatedDatabase, TursoError>;
    /** None when Turso has no database by that name. */
    readonly getDatabase: (name: string) => Effect.Effect<Option.Option<TursoDatabase>, TursoError>;
    /** Databases in the configured group: one call observes all of them. */
    readonly listDatabases: () => Effect.Effect<ReadonlyArray<TursoDatabase>, TursoError>;
    /** Mints a database auth token (a JWT). */
    readonly createToken: (name: string, options?: CreateTokenOptions) => Effect.Effect<string, TursoError | ProviderNotFound>;
    /** Invalidates every token minted for the database so far. */
    readonly rotateTokens: (name: string) => Effect.Effect<void, TursoError | ProviderNotFound>;
    /** Fails with ProviderNotFound when the database does not exist. */
    readonly deleteDatabase: (name: string) => Effect.Effect<void, TursoError | ProviderNotFound>;
  }
>()("deploy-mcp/providers/turso/TursoApi") {
  /** Needs an HttpClient (tests may provide their own). */
  static readonly layerNoDeps = (config: TursoApiConfig): Layer.Layer<TursoApi, never, HttpClient.HttpClient> =>
    Layer.effect(TursoApi, makeTursoApi(config));

  static readonly layer = (config: TursoApiConfig): Layer.Layer<TursoApi> =>
    TursoApi.layerNoDeps(config).pipe(Layer.provide(FetchHttpClient.layer));
}

const makeTursoApi = (rawConfig: TursoApiConfig) =>
  Effect.gen(function* () {
    const config = resolveTursoApiConfig(rawConfig);
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(flow(HttpClientRequest.prependUrl(config.apiUrl), HttpClientRequest.bearerToken(config.token), HttpClientRequest.acceptJson)),
    );
    const send = makeTursoRequester(client, config);
    const databases = `/v1/organizations/${encodeURIComponent(config.org)}/databases`;
    const databasePath = (name: string) => `${databases}/${encodeURIComponent(name)}`;

    const decode =
      <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, operation: string, action: string) =>
      (answer: TursoAnswer): Effect.Effect<S["Type"], ProviderInvalid> =>
        Schema.decodeUnknownEffect(schema)(answer.body).pipe(
          Effect.mapError(
            (issue) =>
              new ProviderInvalid({
                provider: "turso",
                operation,
                message: `Turso's answer to ${action} did not have the expected shape: ${issue.message}`,
              }),
          ),
        );

    /** For calls on one database: Turso's 404 means it does not exist. */
    const existing =
      (operation: string, name: string) =>
      (answer: TursoAnswer): Effect.Effect<TursoAnswer, ProviderNotFound> =>
        answer.status === 404
          ? Effect.fail(
              new ProviderNotFound({
                provider: "turso",
                operation,
                externalName: name,
                message: `Turso has no database "${name}" in organization "${config.org}".`,
              }),
            )
          : Effect.succeed(answer);

    const createDatabase = (name: string) => {
      const action = `create database "${name}" in group "${config.group}"`;
      const input: CreateDatabaseInput = { name, group: config.group };
      return send({
        operation: "createDatabase",
        action,
        request: HttpClientRequest.post(databases).pipe(HttpClientRequest.bodyJsonUnsafe(input)),
        retry: "once",
      }).pipe(
        Effect.flatMap(decode(CreateDatabaseResponse, "createDatabase", action)),
        Effect.map((response) => response.database),
      );
    };

    const getDatabase = (name: string) => {
      const action = `look up database "${name}"`;
      return send({
        operation: "getDatabase",
        action,
        request: HttpClientRequest.get(databasePath(name)),
        retry: "idempotent",
        databaseName: name,
        accept: [404],
      }).pipe(
        Effect.flatMap((answer) =>
          answer.status === 404
            ? Effect.succeed(Option.none<TursoDatabase>())
            : decode(GetDatabaseResponse, "getDatabase", action)(answer).pipe(Effect.map((response) => Option.some(response.database))),
        ),
      );
    };

    const listDatabases = () => {
      const action = `list databases in group "${config.group}"`;
      return send({
        operation: "listDatabases",
        action,
        request: HttpClientRequest.get(databases).pipe(HttpClientRequest.setUrlParams({ group: config.group })),
        retry: "idempotent",
      }).pipe(
        Effect.flatMap(decode(ListDatabasesResponse, "listDatabases", action)),
        Effect.map((response) => response.databases),
      );
    };

    const createToken = (name: string, options: CreateTokenOptions = {}) => {
      const action = `mint a token for database "${name}"`;
      return send({
        operation: "createDatabaseToken",
        action,
        request: HttpClientRequest.post(`${databasePath(name)}/auth/tokens`).pipe(
          HttpClientRequest.setUrlParams({ expiration: options.expiration ?? "never", authorization: options.authorization ?? "full-access" }),
        ),
        // Minting twice leaves an extra valid token, nothing worse; rotation revokes both.
        retry: "idempotent",
        databaseName: name,
        accept: [404],
      }).pipe(
        Effect.flatMap(existing("createDatabaseToken", name)),
        Effect.flatMap(decode(CreateTokenResponse, "createDatabaseToken", action)),
        Effect.map((response) => response.jwt),
      );
    };

    const rotateTokens = (name: string) =>
      send({
        operation: "invalidateDatabaseTokens",
        action: `rotate the tokens of database "${name}"`,
        request: HttpClientRequest.post(`${databasePath(name)}/auth/rotate`),
        retry: "idempotent",
        databaseName: name,
        accept: [404],
      }).pipe(Effect.flatMap(existing("invalidateDatabaseTokens", name)), Effect.asVoid);

    const deleteDatabase = (name: string) =>
      send({
        operation: "deleteDatabase",
        action: `delete database "${name}"`,
        request: HttpClientRequest.delete(databasePath(name)),
        retry: "idempotent",
        databaseName: name,
        accept: [404],
      }).pipe(Effect.flatMap(existing("deleteDatabase", name)), Effect.asVoid);

    return TursoApi.of({ org: config.org, group: config.group, createDatabase, getDatabase, listDatabases, createToken, rotateTokens, deleteDatabase });
  });
