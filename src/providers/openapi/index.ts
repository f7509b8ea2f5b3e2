export { isJsonObject, loadOpenApiDocument, normalizeOpenApiDocument } from "./document.ts";
export type { JsonObject } from "./document.ts";
export { createOpenApiValidator } from "./validator.ts";
export type {
  IssueLocation,
  MatchedOperation,
  OpenApiValidator,
  OpenApiValidatorOptions,
  RequestInput,
  RequestValidation,
  ValidationIssue,
} from "./validator.ts";
