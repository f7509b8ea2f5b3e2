export { resourceController } from "./ResourceController.ts"
export { deriveExternalName, externalNameOf, MAX_EXTERNAL_NAME_LENGTH } from "./external-name.ts"
export { describeFailure, isProviderFailure } from "./provider-failure.ts"
export type { FailureReport, ProviderFailure } from "./provider-failure.ts"
