/**
 * Checks webhook payloads against the schemas GitHub publishes for them (the
 * `x-webhooks` section of its OpenAPI description), so payloads the fake and
 * tests build are ones GitHub could really send.
 */
import { createOpenApiValidator, isJsonObject } from "../../../src/providers/openapi/index.ts";
import type { OpenApiValidator } from "../../../src/providers/openapi/index.ts";
import { gitHubOpenApi } from "./openapi.ts";

let validator: OpenApiValidator | undefined;

/** Serves each webhook as a POST operation at "/<webhook name>" so the shared validator can check bodies. */
const webhookValidator = (): OpenApiValidator => {
  if (validator) return validator;
  const document = gitHubOpenApi().document;
  const webhooks = document["x-webhooks"];
  if (!isJsonObject(webhooks)) throw new Error("GitHub's OpenAPI description has no x-webhooks section");
  validator = createOpenApiValidator({
    openapi: "3.0.3",
    paths: Object.fromEntries(Object.entries(webhooks).map(([name, item]) => [`/${name}`, item])),
    components: document["components"],
  });
  return validator;
};

/**
 * Problems with a payload for a webhook named as in GitHub's description:
 * "push", "installation-created", "installation-deleted", … Empty when it fits.
 */
export const webhookPayloadIssues = (webhook: string, payload: unknown): ReadonlyArray<string> => {
  const result = webhookValidator().validateRequest({ method: "POST", path: `/${webhook}`, body: payload });
  if (!result) return [`GitHub's description has no webhook "${webhook}"`];
  return result.errors.map((issue) => `${issue.field || "(payload)"} ${issue.message}`);
};
