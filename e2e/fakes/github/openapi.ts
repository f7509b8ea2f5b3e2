/**
 * GitHub's published OpenAPI description (from `@octokit/openapi`) as a validator.
 *
 * The document is 13 MB: it is parsed once per process, on first use, and the
 * shared validator compiles only the operations a test actually touches.
 */
import { createRequire } from "node:module";
import { createOpenApiValidator, loadOpenApiDocument } from "../../../src/providers/openapi/index.ts";
import type { OpenApiValidator } from "../../../src/providers/openapi/index.ts";

const require = createRequire(import.meta.url);

let validator: OpenApiValidator | undefined;

export const gitHubOpenApi = (): OpenApiValidator => {
  validator ??= createOpenApiValidator(loadOpenApiDocument(require.resolve("@octokit/openapi/generated/api.github.com.json")));
  return validator;
};
