/**
 * Coolify's published OpenAPI document, adjusted where the real service is known
 * to differ from it (src/providers/coolify/spec/README.md): the fake follows the service, and
 * every adjustment is listed here so nobody mistakes it for a fake's invention.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createOpenApiValidator, isJsonObject, loadOpenApiDocument } from "../../../src/providers/openapi/index.ts";
import type { JsonObject, OpenApiValidator } from "../../../src/providers/openapi/index.ts";

export const COOLIFY_BASE_PATH = "/api/v1";

/** The document vendored beside the Coolify provider (src/providers/coolify/spec/); COOLIFY_OPENAPI_PATH overrides. */
export const coolifySpecPath = (): string => {
  const override = process.env["COOLIFY_OPENAPI_PATH"];
  if (override) return override;
  const path = fileURLToPath(new URL("../../../src/providers/coolify/spec/openapi.json", import.meta.url));
  if (!existsSync(path)) throw new Error(`Coolify OpenAPI document not found at ${path}; set COOLIFY_OPENAPI_PATH`);
  return path;
};

const object = (parent: unknown, ...keys: ReadonlyArray<string>): JsonObject => {
  let node = parent;
  for (const key of keys) {
    if (!isJsonObject(node)) throw new Error(`Coolify document changed: no object at ${keys.join(" / ")}`);
    node = node[key];
  }
  if (!isJsonObject(node)) throw new Error(`Coolify document changed: no object at ${keys.join(" / ")}`);
  return node;
};

const jsonSchemaOf = (doc: JsonObject, path: string, method: string, where: "request" | string): JsonObject =>
  where === "request"
    ? object(doc, "paths", path, method, "requestBody", "content", "application/json", "schema")
    : object(doc, "paths", path, method, "responses", where, "content", "application/json", "schema");

/** Applies the known real-versus-document differences, in place. */
export const patchCoolifyDocument = (doc: JsonObject): JsonObject => {
  const paths = object(doc, "paths");

  // 1. GET /deployments/applications/{uuid} answers {count, deployments}, not an array of Applications.
  const byApp = object(paths, "/deployments/applications/{uuid}", "get", "responses", "200", "content", "application/json");
  byApp["schema"] = {
    type: "object",
    required: ["count", "deployments"],
    properties: {
      count: { type: "integer" },
      deployments: { type: "array", items: { $ref: "#/components/schemas/ApplicationDeploymentQueue" } },
    },
  };

  // 2. GET /deploy is the deprecated twin of POST /deploy; Coolify still serves it.
  const deploy = object(paths, "/deploy");
  deploy["get"] = structuredClone(object(deploy, "post"));

  // 3. Creates list both environment_name and environment_uuid as required; the service
  //    wants at least one of them (checked by the handler).
  for (const path of ["/applications/public", "/applications/private-github-app", "/applications/dockerimage"]) {
    const schema = jsonSchemaOf(doc, path, "post", "request");
    const required = schema["required"];
    if (Array.isArray(required)) {
      schema["required"] = required.filter((name) => name !== "environment_name" && name !== "environment_uuid");
    }
  }

  // 4. Unset commands and directories come back as null (nullable columns), though typed string.
  const application = object(doc, "components", "schemas", "Application", "properties");
  for (const field of ["install_command", "build_command", "start_command", "publish_directory", "base_directory"]) {
    object(application, field)["nullable"] = true;
  }

  // 5. Apps created from a Docker image are stored with build_pack "dockerimage", missing from the enum.
  const buildPack = object(application, "build_pack");
  const values = buildPack["enum"];
  if (Array.isArray(values) && !values.includes("dockerimage")) buildPack["enum"] = [...values, "dockerimage"];
  return doc;
};

let cached: OpenApiValidator | undefined;

/** The (patched) Coolify validator; compiled once per process since it never changes. */
export const coolifyValidator = (): OpenApiValidator => {
  cached ??= createOpenApiValidator(patchCoolifyDocument(loadOpenApiDocument(coolifySpecPath())), {
    basePath: COOLIFY_BASE_PATH,
    // Coolify's controllers compare the body with an allow-list: "This field is not allowed."
    rejectUnknownBodyFields: true,
  });
  return cached;
};
