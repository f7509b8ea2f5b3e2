/**
 * Validates HTTP requests and responses against an OpenAPI 3.x document.
 *
 * Fakes of provider APIs use it to stay faithful: every request they accept and
 * every response they send must be allowed by the provider's published document.
 * Schemas are compiled lazily (first use of an operation) because provider
 * documents are large and a test touches few operations.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import * as ajvFormats from "ajv-formats";
import { isJsonObject, normalizeOpenApiDocument } from "./document.ts";
import type { JsonObject } from "./document.ts";

export interface OpenApiValidatorOptions {
  /**
   * Reject top-level JSON body fields an operation does not declare, as
   * Laravel-style APIs (Coolify) do, even though the document leaves
   * `additionalProperties` open. Default false (plain JSON Schema semantics).
   */
  readonly rejectUnknownBodyFields?: boolean;
  /** Prefix the server mounts the document's paths under (e.g. "/api/v1"); stripped before matching. */
  readonly basePath?: string;
}

export type IssueLocation = "path" | "query" | "body" | "response";

export interface ValidationIssue {
  readonly location: IssueLocation;
  /** Dot path of the offending value ("data.0.key"); "" for the value itself. */
  readonly field: string;
  /** ajv keyword that failed ("required", "type", "additionalProperties", …) or "status"/"content". */
  readonly keyword: string;
  readonly message: string;
}

export interface MatchedOperation {
  readonly method: string;
  /** The document's path template, e.g. "/applications/{uuid}". */
  readonly pathTemplate: string;
  readonly operationId: string | undefined;
  /** Raw (decoded, uncoerced) path parameters. */
  readonly rawPathParams: Readonly<Record<string, string>>;
}

export interface RequestInput {
  readonly method: string;
  /** URL pathname, including `basePath` if one was configured. */
  readonly path: string;
  readonly query?: URLSearchParams | Readonly<Record<string, string | ReadonlyArray<string>>>;
  /** Parsed JSON body; `undefined` when the request has none. */
  readonly body?: unknown;
}

export interface RequestValidation {
  readonly operation: MatchedOperation;
  /** Path parameters coerced to their schema types. */
  readonly pathParams: Readonly<Record<string, unknown>>;
  /** Declared query parameters coerced to their schema types (undeclared ones are dropped). */
  readonly query: Readonly<Record<string, unknown>>;
  readonly errors: ReadonlyArray<ValidationIssue>;
}

export interface OpenApiValidator {
  /** The normalised document the validator compiled from. */
  readonly document: JsonObject;
  /** Finds the operation for a method and pathname; literal segments win over templated ones. */
  readonly matchOperation: (method: string, path: string) => MatchedOperation | undefined;
  /** `undefined` when no operation matches the method and path. */
  readonly validateRequest: (input: RequestInput) => RequestValidation | undefined;
  /** Checks that `status` is documented for the operation and `body` fits its JSON schema. */
  readonly validateResponse: (operation: MatchedOperation, status: number, body: unknown) => ReadonlyArray<ValidationIssue>;
  /**
   * Validates a value against any schema in the document by JSON pointer
   * (e.g. "#/components/responses/422/content/application~1json/schema"), for
   * bodies a service sends outside what an operation documents.
   */
  readonly validateAt: (pointer: string, value: unknown) => ReadonlyArray<ValidationIssue>;
}

const DOC_ID = "openapi-document";
const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

interface Route {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly paramNames: ReadonlyArray<string>;
  readonly literalSegments: ReadonlyArray<boolean>;
  readonly operationId: string | undefined;
}

interface ParameterRef {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  readonly schemaPointer: string;
}

const escapePointer = (segment: string): string => segment.replace(/~/g, "~0").replace(/\//g, "~1");

const resolvePointer = (doc: JsonObject, pointer: string): unknown => {
  let node: unknown = doc;
  for (const raw of pointer.replace(/^#\//, "").split("/")) {
    if (!isJsonObject(node) && !Array.isArray(node)) return undefined;
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    node = Array.isArray(node) ? node[Number(key)] : node[key];
  }
  return node;
};

/** Follows `$ref`s (to e.g. `#/components/responses/404`) and returns the final object and its pointer. */
const derefWithPointer = (doc: JsonObject, pointer: string): { node: JsonObject; pointer: string } | undefined => {
  let current = pointer;
  for (let hops = 0; hops < 16; hops++) {
    const node = resolvePointer(doc, current);
    if (!isJsonObject(node)) return undefined;
    const ref = node["$ref"];
    if (typeof ref !== "string" || !ref.startsWith("#/")) return { node, pointer: current };
    current = ref;
  }
  return undefined;
};

const collectFormats = (node: unknown, into: Set<string>): Set<string> => {
  if (Array.isArray(node)) node.forEach((item) => collectFormats(item, into));
  else if (isJsonObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "format" && typeof value === "string") into.add(value);
      else collectFormats(value, into);
    }
  }
  return into;
};

const newAjv = (doc: JsonObject, coerce: boolean): Ajv2020 => {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    validateSchema: false,
    coerceTypes: coerce ? "array" : false,
  });
  // ajv-formats is CommonJS; its plugin is the module itself or its `default`.
  const plugin = (ajvFormats as unknown as { default: (a: Ajv2020) => Ajv2020 }).default;
  plugin(ajv);
  // Documents use vendor formats ("private-key", "int32" on strings…); accept what we cannot check.
  for (const format of collectFormats(doc, new Set())) {
    if (!ajv.formats[format]) ajv.addFormat(format, true);
  }
  ajv.addSchema(doc, DOC_ID);
  return ajv;
};

const buildRoutes = (doc: JsonObject): ReadonlyArray<Route> => {
  const routes: Array<Route> = [];
  const paths = doc["paths"];
  if (!isJsonObject(paths)) return routes;
  for (const [template, item] of Object.entries(paths)) {
    if (!isJsonObject(item)) continue;
    const segments = template.split("/").filter((s) => s !== "");
    const paramNames: Array<string> = [];
    const literalSegments = segments.map((s) => !/^\{[^}]+\}$/.test(s));
    const pattern = new RegExp(
      "^/" +
        segments
          .map((segment) => {
            const match = /^\{([^}]+)\}$/.exec(segment);
            if (match?.[1] !== undefined) {
              paramNames.push(match[1]);
              return "([^/]+)";
            }
            return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          })
          .join("/") +
        "/?$",
    );
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!isJsonObject(op)) continue;
      const operationId = typeof op["operationId"] === "string" ? op["operationId"] : undefined;
      routes.push({ method, template, pattern, paramNames, literalSegments, operationId });
    }
  }
  // Most specific first: at the first segment where two templates differ in kind, literal wins.
  return routes.sort((a, b) => {
    const length = Math.min(a.literalSegments.length, b.literalSegments.length);
    for (let i = 0; i < length; i++) {
      if (a.literalSegments[i] !== b.literalSegments[i]) return a.literalSegments[i] ? -1 : 1;
    }
    return 0;
  });
};

const UNKNOWN_PROPERTY_PARAM: Readonly<Record<string, string>> = {
  additionalProperties: "additionalProperty",
  unevaluatedProperties: "unevaluatedProperty",
};

const fieldOf = (error: ErrorObject): string => {
  const segments = error.instancePath.split("/").filter((s) => s !== "").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "required" && typeof params["missingProperty"] === "string") segments.push(params["missingProperty"]);
  const unknownParam = UNKNOWN_PROPERTY_PARAM[error.keyword];
  if (unknownParam !== undefined && typeof params[unknownParam] === "string") segments.push(params[unknownParam]);
  return segments.join(".");
};

const toIssues = (errors: ReadonlyArray<ErrorObject> | null | undefined, location: IssueLocation): Array<ValidationIssue> =>
  (errors ?? [])
    // anyOf/oneOf wrap the real failures, which ajv reports too (allErrors).
    .filter((error) => error.keyword !== "anyOf" && error.keyword !== "oneOf" && error.keyword !== "if")
    .map((error) => ({
      location,
      field: fieldOf(error),
      keyword: error.keyword in UNKNOWN_PROPERTY_PARAM ? "additionalProperties" : error.keyword,
      message: error.keyword in UNKNOWN_PROPERTY_PARAM ? "is not allowed" : (error.message ?? "is invalid"),
    }));

/**
 * Builds a validator for an OpenAPI 3.0/3.1 document (already parsed; see
 * `loadOpenApiDocument`). The document is normalised, not mutated.
 */
export const createOpenApiValidator = (document: JsonObject, options: OpenApiValidatorOptions = {}): OpenApiValidator => {
  const doc = normalizeOpenApiDocument(document);
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  if (options.rejectUnknownBodyFields) closeRequestBodies(doc);
  const routes = buildRoutes(doc);
  const strictAjv = newAjv(doc, false);
  const coercingAjv = newAjv(doc, true);
  const compiled = new Map<string, ValidateFunction>();

  const compile = (ajv: Ajv2020, key: string, schema: JsonObject): ValidateFunction => {
    const cacheKey = `${ajv === strictAjv ? "s" : "c"}:${key}`;
    let validate = compiled.get(cacheKey);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(cacheKey, validate);
    }
    return validate;
  };

  const operationPointer = (op: MatchedOperation): string => `#/paths/${escapePointer(op.pathTemplate)}/${op.method}`;

  const parametersOf = (op: MatchedOperation): ReadonlyArray<ParameterRef> => {
    const byKey = new Map<string, ParameterRef>();
    // Path-item parameters first; operation parameters override them (OpenAPI rule).
    for (const listPointer of [`#/paths/${escapePointer(op.pathTemplate)}/parameters`, `${operationPointer(op)}/parameters`]) {
      const list = resolvePointer(doc, listPointer);
      if (!Array.isArray(list)) continue;
      list.forEach((_, index) => {
        const resolved = derefWithPointer(doc, `${listPointer}/${index}`);
        if (!resolved) return;
        const { node, pointer } = resolved;
        if (typeof node["name"] !== "string" || typeof node["in"] !== "string") return;
        byKey.set(`${node["in"]}:${node["name"]}`, {
          name: node["name"],
          in: node["in"],
          required: node["required"] === true || node["in"] === "path",
          schemaPointer: isJsonObject(node["schema"]) ? `${pointer}/schema` : "",
        });
      });
    }
    return [...byKey.values()];
  };

  const validateParams = (
    op: MatchedOperation,
    location: "path" | "query",
    raw: Record<string, string | ReadonlyArray<string>>,
  ): { values: Record<string, unknown>; errors: Array<ValidationIssue> } => {
    const params = parametersOf(op).filter((p) => p.in === location);
    const values: Record<string, unknown> = {};
    for (const param of params) {
      const value = raw[param.name];
      if (value !== undefined) values[param.name] = Array.isArray(value) && value.length === 1 ? value[0] : value;
    }
    if (params.length === 0) return { values, errors: [] };
    const schema: JsonObject = {
      type: "object",
      properties: Object.fromEntries(
        params.map((p) => [p.name, p.schemaPointer === "" ? {} : { $ref: `${DOC_ID}${p.schemaPointer}` }]),
      ),
      required: params.filter((p) => p.required).map((p) => p.name),
    };
    const validate = compile(coercingAjv, `${operationPointer(op)}:${location}`, schema);
    validate(values); // coerces in place ("5" → 5, "true" → true)
    return { values, errors: toIssues(validate.errors, location) };
  };

  const matchOperation = (method: string, path: string): MatchedOperation | undefined => {
    const lower = method.toLowerCase();
    let relative = path;
    if (basePath !== "") {
      if (path !== basePath && !path.startsWith(`${basePath}/`)) return undefined;
      relative = path.slice(basePath.length) || "/";
    }
    for (const route of routes) {
      if (route.method !== lower) continue;
      const match = route.pattern.exec(relative);
      if (!match) continue;
      const rawPathParams: Record<string, string> = {};
      route.paramNames.forEach((name, index) => {
        rawPathParams[name] = decodeURIComponent(match[index + 1] ?? "");
      });
      return { method: lower, pathTemplate: route.template, operationId: route.operationId, rawPathParams };
    }
    return undefined;
  };

  const validateRequest = (input: RequestInput): RequestValidation | undefined => {
    const operation = matchOperation(input.method, input.path);
    if (!operation) return undefined;
    const rawQuery: Record<string, string | ReadonlyArray<string>> = {};
    if (input.query instanceof URLSearchParams) {
      for (const key of new Set(input.query.keys())) rawQuery[key] = input.query.getAll(key);
    } else if (input.query) {
      Object.assign(rawQuery, input.query);
    }
    const path = validateParams(operation, "path", { ...operation.rawPathParams });
    const query = validateParams(operation, "query", rawQuery);
    const errors = [...path.errors, ...query.errors, ...validateBody(operation, input.body)];
    return { operation, pathParams: path.values, query: query.values, errors };
  };

  const validateBody = (op: MatchedOperation, body: unknown): Array<ValidationIssue> => {
    const requestBody = derefWithPointer(doc, `${operationPointer(op)}/requestBody`);
    if (!requestBody) {
      return [];
    }
    if (body === undefined) {
      return requestBody.node["required"] === true
        ? [{ location: "body", field: "", keyword: "required", message: "a request body is required" }]
        : [];
    }
    const schemaPointer = `${requestBody.pointer}/content/application~1json/schema`;
    if (!isJsonObject(resolvePointer(doc, schemaPointer))) {
      return [{ location: "body", field: "", keyword: "content", message: "this operation does not take a JSON body" }];
    }
    const validate = compile(strictAjv, schemaPointer, { $ref: `${DOC_ID}${schemaPointer}` });
    validate(body);
    return toIssues(validate.errors, "body");
  };

  const validateResponse = (op: MatchedOperation, status: number, body: unknown): ReadonlyArray<ValidationIssue> => {
    const responsesPointer = `${operationPointer(op)}/responses`;
    const responses = resolvePointer(doc, responsesPointer);
    if (!isJsonObject(responses)) return [{ location: "response", field: "", keyword: "status", message: "operation documents no responses" }];
    const key = [String(status), `${String(status)[0]}XX`, `${String(status)[0]}xx`, "default"].find((k) => k in responses);
    if (key === undefined) {
      return [{ location: "response", field: "", keyword: "status", message: `status ${status} is not documented for ${op.method.toUpperCase()} ${op.pathTemplate}` }];
    }
    const response = derefWithPointer(doc, `${responsesPointer}/${escapePointer(key)}`);
    const schemaPointer = response ? `${response.pointer}/content/application~1json/schema` : "";
    if (!response || !isJsonObject(resolvePointer(doc, schemaPointer))) return []; // no JSON schema documented: anything goes
    const validate = compile(strictAjv, schemaPointer, { $ref: `${DOC_ID}${schemaPointer}` });
    validate(body);
    return toIssues(validate.errors, "response");
  };

  const validateAt = (pointer: string, value: unknown): ReadonlyArray<ValidationIssue> => {
    if (!isJsonObject(resolvePointer(doc, pointer))) {
      return [{ location: "response", field: "", keyword: "schema", message: `no schema at ${pointer}` }];
    }
    const validate = compile(strictAjv, pointer, { $ref: `${DOC_ID}${pointer}` });
    validate(value);
    return toIssues(validate.errors, "response");
  };

  return { document: doc, matchOperation, validateRequest, validateResponse, validateAt };
};

/** Sets `additionalProperties: false` on every top-level JSON request body schema that leaves it open. */
const closeRequestBodies = (doc: JsonObject): void => {
  const paths = doc["paths"];
  if (!isJsonObject(paths)) return;
  for (const [template, item] of Object.entries(paths)) {
    if (!isJsonObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const resolved = derefWithPointer(doc, `#/paths/${escapePointer(template)}/${method}/requestBody`);
      if (!resolved) continue;
      const schema = resolvePointer(doc, `${resolved.pointer}/content/application~1json/schema`);
      if (!isJsonObject(schema)) continue;
      if (typeof schema["$ref"] === "string") {
        // A shared component may also describe responses: close only this use of it.
        schema["unevaluatedProperties"] = false;
      } else if (isJsonObject(schema["properties"]) && schema["additionalProperties"] === undefined && schema["patternProperties"] === undefined) {
        schema["additionalProperties"] = false;
      }
    }
  }
};
