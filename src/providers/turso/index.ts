export { TursoApi } from "./TursoApi.ts";
export type { CreateTokenOptions } from "./TursoApi.ts";
export { TursoDatabaseProvider, makeTursoDatabaseProvider } from "./TursoDatabaseProvider.ts";
export { resolveTursoApiConfig } from "./config.ts";
export type { ResolvedTursoApiConfig, TursoApiConfig } from "./config.ts";
export type { TursoError } from "./request.ts";
export type { CreatedDatabase, TokenAuthorization, TursoDatabase } from "./schemas.ts";
