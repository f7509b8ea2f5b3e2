export { DatabaseProvider } from "./DatabaseProvider.ts";
export type { DatabaseCredentials, ProvisionedDatabase } from "./DatabaseProvider.ts";
export {
  ProviderConflict,
  ProviderInvalid,
  ProviderNotFound,
  ProviderRateLimited,
  ProviderUnauthorized,
  ProviderUnavailable,
} from "./errors.ts";
export type { DatabaseProviderError } from "./errors.ts";
export { checkExternalName } from "./external-name.ts";
export { DatabaseProviderFromConfig } from "./from-config.ts";
