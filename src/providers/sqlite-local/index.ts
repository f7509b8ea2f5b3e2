export { LocalSqliteProvider, makeLocalSqliteProvider } from "./LocalSqliteProvider.ts";
export type { LocalSqliteConfig } from "./LocalSqliteProvider.ts";
