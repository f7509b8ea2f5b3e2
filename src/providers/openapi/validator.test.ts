import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createOpenApiValidator, loadOpenApiDocument, normalizeOpenApiDocument } from "./index.ts";
import type { JsonObject } from "./index.ts";

const petDoc: JsonObject = {
  openapi: "3.1.0",
  info: { title: "pets", version: "1" },
  paths: {
    "/pets": {
      post: {
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/NewPet" } } },
        },
        responses: { "201": { content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } } } },
      },
    },
    "/pets/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }],
      get: {
        parameters: [{ name: "verbose", in: "query", schema: { type: "boolean" } }],
        responses: {
          "200": { content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } } },
          "404": { $ref: "#/components/responses/NotFound" },
        },
      },
    },
    "/pets/mine": {
      get: { responses: { "200": { content: { "application/json": { schema: { type: "array" } } } } } },
    },
    "/owners": {
      post: {
        requestBody: {
          content: {
            "application/json": {
              schema: { type: "object", required: ["name"], properties: { name: { type: "string" }, tags: { type: "array", items: { type: "string" } } } },
            },
          },
        },
        responses: { "201": { description: "created" } },
      },
    },
  },
  components: {
    schemas: {
      NewPet: { type: "object", required: ["name"], properties: { name: { type: "string" }, born: { type: "string", format: "date-time" } } },
      Pet: {
        type: "object",
        required: ["id", "name"],
        properties: {
          id: { type: "integer" },
          name: { type: "string" },
          owner: { type: "string", nullable: true },
          size: { type: "string", enum: ["s", "m"], nullable: true },
          key: { type: "string", format: "private-key" },
        },
      },
    },
    responses: {
      NotFound: { description: "nope", content: { "application/json": { schema: { type: "object", required: ["message"], properties: { message: { type: "string" } } } } } },
    },
  },
};

describe("normalizeOpenApiDocument", () => {
  test("turns 3.0 nullable into 3.1 type arrays (and null into enums) without touching the input", () => {
    const normalized = normalizeOpenApiDocument(petDoc);
    const pet = (normalized["components"] as JsonObject)["schemas"] as Record<string, { properties: Record<string, JsonObject> }>;
    assert.deepEqual(pet["Pet"]?.properties["owner"], { type: ["string", "null"] });
    assert.deepEqual(pet["Pet"]?.properties["size"], { type: ["string", "null"], enum: ["s", "m", null] });
    const original = (petDoc["components"] as { schemas: { Pet: { properties: { owner: JsonObject } } } }).schemas.Pet.properties.owner;
    assert.equal(original["nullable"], true);
  });

  test("a nullable $ref becomes anyOf [ref, null]", () => {
    const normalized = normalizeOpenApiDocument({ openapi: "3.0.0", paths: {}, x: { $ref: "#/a", nullable: true } });
    assert.deepEqual(normalized["x"], { anyOf: [{ $ref: "#/a" }, { type: "null" }] });
  });
});

describe("createOpenApiValidator", () => {
  const validator = createOpenApiValidator(petDoc, { basePath: "/api", rejectUnknownBodyFields: true });

  test("matches a method and path template; literal segments win over parameters", () => {
    assert.equal(validator.matchOperation("GET", "/api/pets/mine")?.pathTemplate, "/pets/mine");
    assert.deepEqual(validator.matchOperation("GET", "/api/pets/7")?.rawPathParams, { id: "7" });
    assert.equal(validator.matchOperation("DELETE", "/api/pets/7"), undefined);
    assert.equal(validator.matchOperation("GET", "/pets/7"), undefined, "outside basePath");
  });

  test("coerces path and query parameters and reports bad ones", () => {
    const ok = validator.validateRequest({ method: "GET", path: "/api/pets/7", query: new URLSearchParams("verbose=true&other=x") });
    assert.deepEqual(ok?.errors, []);
    assert.deepEqual(ok?.pathParams, { id: 7 });
    assert.deepEqual(ok?.query, { verbose: true });
    const bad = validator.validateRequest({ method: "GET", path: "/api/pets/seven", query: { verbose: "maybe" } });
    assert.deepEqual(
      bad?.errors.map((e) => [e.location, e.field, e.keyword]),
      [["path", "id", "type"], ["query", "verbose", "type"]],
    );
  });

  test("validates JSON bodies: required, types, formats, unknown fields when asked", () => {
    assert.deepEqual(validator.validateRequest({ method: "POST", path: "/api/pets", body: { name: "rex" } })?.errors, []);
    const missing = validator.validateRequest({ method: "POST", path: "/api/pets" });
    assert.deepEqual(missing?.errors.map((e) => e.message), ["a request body is required"]);
    const bad = validator.validateRequest({ method: "POST", path: "/api/pets", body: { born: "yesterday", colour: "red" } });
    assert.deepEqual(
      bad?.errors.map((e) => [e.field, e.keyword]).sort(),
      [["born", "format"], ["colour", "additionalProperties"], ["name", "required"]],
    );
    const nested = validator.validateRequest({ method: "POST", path: "/api/owners", body: { name: "a", tags: ["x", 1], extra: 1 } });
    assert.deepEqual(nested?.errors.map((e) => [e.field, e.keyword]).sort(), [["extra", "additionalProperties"], ["tags.1", "type"]]);
  });

  test("validates responses against the documented status, following $refs and nullable", () => {
    const op = validator.matchOperation("GET", "/api/pets/1");
    assert.ok(op);
    assert.deepEqual(validator.validateResponse(op, 200, { id: 1, name: "rex", owner: null, size: null, key: "k", extra: true }), []);
    assert.deepEqual(validator.validateResponse(op, 200, { id: "1", name: "rex" }).map((e) => e.field), ["id"]);
    assert.deepEqual(validator.validateResponse(op, 404, {}).map((e) => e.field), ["message"]);
    assert.deepEqual(validator.validateResponse(op, 500, {}).map((e) => e.keyword), ["status"]);
    const created = validator.matchOperation("POST", "/api/owners");
    assert.ok(created);
    assert.deepEqual(validator.validateResponse(created, 201, undefined), [], "a response without content takes any body");
  });

  test("closing request bodies leaves shared components open for responses", () => {
    const op = validator.matchOperation("POST", "/api/pets");
    assert.ok(op);
    assert.deepEqual(validator.validateResponse(op, 201, { id: 1, name: "rex", extra: "fine in a response" }), []);
  });
});

describe("with a real provider document", () => {
  test("compiles Coolify's operations (3.1 with 3.0 nullable)", () => {
    const specPath = fileURLToPath(new URL("../coolify/spec/openapi.json", import.meta.url));
    const validator = createOpenApiValidator(loadOpenApiDocument(specPath), { basePath: "/api/v1", rejectUnknownBodyFields: true });
    const result = validator.validateRequest({ method: "PATCH", path: "/api/v1/applications/abc/envs/bulk", body: { data: [{ key: "A", value: 1 }] } });
    assert.equal(result?.operation.operationId, "update-envs-by-application-uuid");
    assert.deepEqual(result?.errors.map((e) => [e.field, e.keyword]), [["data.0.value", "type"]]);
    const get = validator.matchOperation("GET", "/api/v1/applications/abc");
    assert.ok(get);
    assert.deepEqual(validator.validateResponse(get, 200, { uuid: "abc", fqdn: null, redirect: null, status: "running:healthy" }), []);
  });
});

describe("validateAt", () => {
  test("validates against a schema anywhere in the document", () => {
    const validator = createOpenApiValidator(petDoc);
    const pointer = "#/components/responses/NotFound/content/application~1json/schema";
    assert.deepEqual(validator.validateAt(pointer, { message: "gone" }), []);
    assert.deepEqual(validator.validateAt(pointer, {}).map((e) => e.field), ["message"]);
    assert.deepEqual(validator.validateAt("#/nowhere", {}).map((e) => e.keyword), ["schema"]);
  });
});
