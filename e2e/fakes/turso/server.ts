/**
 * A fake of Turso's platform API (databases, groups, database tokens) on
 * 127.0.0.1, faithful to Turso's published OpenAPI document: every request it
 * accepts and every response it sends is checked against that document.
 * Behaviour the document leaves out follows the real service
 * (src/providers/turso/spec/README.md): 409 on a duplicate name, a group that must exist,
 * `{error}` bodies on 401/429/5xx.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createOpenApiValidator, loadOpenApiDocument } from "../../../src/providers/openapi/index.ts";
import type { OpenApiValidator, RequestValidation } from "../../../src/providers/openapi/index.ts";
import { CallLog } from "./calls.ts";
import { FaultInjector } from "./faults.ts";
import type { FaultOutcome } from "./faults.ts";
import { FakeTursoState } from "./state.ts";
import { DatabaseTokenAuthority, parseExpiration } from "./tokens.ts";
import type { TokenAuthorization } from "./tokens.ts";

export interface TursoFakeOptions {
  readonly org: string;
  /** Groups that exist in the organization; default ["default"]. */
  readonly groups?: ReadonlyArray<string>;
  /** The platform API token clients must present; random when omitted. */
  readonly token?: string;
}

export interface TursoFake {
  /** Base URL, e.g. http://127.0.0.1:41234 — the `apiUrl` for a client. */
  readonly url: string;
  readonly token: string;
  readonly state: FakeTursoState;
  readonly faults: FaultInjector;
  readonly calls: CallLog;
  /** Responses the fake produced that its OpenAPI document does not allow (a bug in the fake). */
  readonly violations: ReadonlyArray<string>;
  /** True when `jwt` is a token for database `dbName` that Turso would accept right now. */
  verifyDatabaseToken(dbName: string, jwt: string): Promise<boolean>;
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  /** JSON body; none when undefined. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

const SPEC_PATH = process.env["TURSO_OPENAPI_PATH"] ?? fileURLToPath(new URL("../../../src/providers/turso/spec/openapi.json", import.meta.url));

let sharedValidator: OpenApiValidator | undefined;
// One validator for every fake in the process: the document is large and the validator compiles schemas lazily.
const validatorInstance = (): OpenApiValidator => (sharedValidator ??= createOpenApiValidator(loadOpenApiDocument(SPEC_PATH)));

// Statuses the real service answers that the document does not list for every
// operation; their body is Turso's usual `{error}`.
const UNDOCUMENTED_ERROR_STATUSES = new Set([400, 401, 404, 429, 500, 501, 502, 503, 504]);

const error = (status: number, message: string, headers?: Record<string, string>): Reply =>
  headers === undefined ? { status, body: { error: message } } : { status, body: { error: message }, headers };

const notFound = (name: string): Reply => error(404, `could not find database with name ${name}: record not found`);

const DATABASE_NAME = /^[a-z0-9-]{1,64}$/;

export const startTursoFake = async (options: TursoFakeOptions): Promise<TursoFake> => {
  const validator = validatorInstance();
  const token = options.token ?? `turso-platform-${randomBytes(12).toString("hex")}`;
  const state = new FakeTursoState(options.org, options.groups ?? ["default"]);
  const faults = new FaultInjector();
  const calls = new CallLog();
  const tokens = new DatabaseTokenAuthority();
  const violations: Array<string> = [];
  const hanging = new Set<ServerResponse>();

  type Handler = (request: RequestValidation, body: unknown) => Promise<Reply> | Reply;

  const databaseOf = (request: RequestValidation) => state.databases.get(String(request.pathParams["databaseName"]));

  const handlers: Readonly<Record<string, Handler>> = {
    listDatabases: (request) => {
      const group = request.query["group"];
      const databases = [...state.databases.values()].filter((db) => group === undefined || db.group === group);
      return { status: 200, body: { databases: databases.map((db) => state.describe(db)) } };
    },
    createDatabase: async (_request, body) => {
      const { name, group } = body as { name: string; group: string };
      if (!DATABASE_NAME.test(name) || name.startsWith("-") || name.endsWith("-")) {
        return error(400, `invalid database name ${name}: use only lowercase letters, numbers and dashes, at most 64 characters`);
      }
      if (!state.groups.has(group)) return error(400, "group not found");
      if (state.databases.has(name)) return error(409, `database with name ${name} already exists`);
      const db = state.addDatabase(name, group);
      await tokens.rotate(db.DbId);
      return { status: 200, body: { database: { DbId: db.DbId, Hostname: db.Hostname, Name: db.Name } } };
    },
    getDatabase: (request) => {
      const db = databaseOf(request);
      return db === undefined ? notFound(String(request.pathParams["databaseName"])) : { status: 200, body: { database: state.describe(db) } };
    },
    deleteDatabase: (request) => {
      const db = databaseOf(request);
      if (db === undefined) return notFound(String(request.pathParams["databaseName"]));
      state.databases.delete(db.Name);
      tokens.forget(db.DbId);
      return { status: 200, body: { database: db.Name } };
    },
    createDatabaseToken: async (request) => {
      const db = databaseOf(request);
      if (db === undefined) return notFound(String(request.pathParams["databaseName"]));
      const expiresInSeconds = parseExpiration(String(request.query["expiration"] ?? "never"));
      if (expiresInSeconds === undefined) return error(400, "Invalid expiration format");
      const authorization = (request.query["authorization"] ?? "full-access") as TokenAuthorization;
      return { status: 200, body: { jwt: await tokens.mint(db.DbId, { authorization, expiresInSeconds }) } };
    },
    invalidateDatabaseTokens: async (request) => {
      const db = databaseOf(request);
      if (db === undefined) return notFound(String(request.pathParams["databaseName"]));
      await tokens.rotate(db.DbId);
      return { status: 200 };
    },
    listGroups: () => ({
      status: 200,
      body: { groups: [...state.groups.values()].map((g) => ({ name: g.name, uuid: g.uuid, primary: g.primary, locations: [g.primary] })) },
    }),
    getGroup: (request) => {
      const group = state.groups.get(String(request.pathParams["groupName"]));
      return group === undefined
        ? error(404, "group not found")
        : { status: 200, body: { group: { name: group.name, uuid: group.uuid, primary: group.primary, locations: [group.primary] } } };
    },
    validateAPIToken: () => ({ status: 200, body: { exp: -1 } }),
  };

  /** Checks the reply against the document; an undocumented error status must still carry `{error: string}`. */
  const checkResponse = (request: RequestValidation, reply: Reply): Array<string> => {
    const issues = validator.validateResponse(request.operation, reply.status, reply.body);
    const onlyUndocumentedStatus = issues.length === 1 && issues[0]?.keyword === "status";
    if (onlyUndocumentedStatus && UNDOCUMENTED_ERROR_STATUSES.has(reply.status)) {
      const body = reply.body as { error?: unknown } | undefined;
      return typeof body?.error === "string" ? [] : [`status ${reply.status} without an {error} body`];
    }
    return issues.map((issue) => `${issue.location} ${issue.field}: ${issue.message}`);
  };

  const faultReply = (outcome: Extract<FaultOutcome, { kind: "status" }>): Reply =>
    outcome.retryAfterSeconds === undefined
      ? error(outcome.status, outcome.status === 429 ? "rate limit exceeded" : "internal error (injected)")
      : error(outcome.status, "rate limit exceeded", { "retry-after": String(outcome.retryAfterSeconds) });

  const send = (res: ServerResponse, reply: Reply): void => {
    const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(text === "" ? {} : { "content-type": "application/json" }),
      "content-length": String(Buffer.byteLength(text)),
      ...reply.headers,
    });
    res.end(text);
  };

  // Keep the response open; close() or the client giving up ends it.
  const hang = (res: ServerResponse, name: string, method: string, path: string): void => {
    hanging.add(res);
    res.on("close", () => hanging.delete(res));
    calls.record({ operation: name, method, path, outcome: "hang" });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const rawBody = await readBody(req);
    const operation = validator.matchOperation(method, url.pathname);
    const answer = (name: string, reply: Reply): void => {
      send(res, reply);
      calls.record({ operation: name, method, path: url.pathname, outcome: reply.status });
    };

    if (operation === undefined) return answer("unknown", error(404, `no route for ${method} ${url.pathname}`));
    const name = operation.operationId ?? `${method} ${operation.pathTemplate}`;

    const latency = faults.latencyFor(name);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const injected = faults.outcomeFor(name, "before");
    if (injected?.kind === "hang") return hang(res, name, method, url.pathname);
    if (injected !== undefined) return answer(name, faultReply(injected));

    if (req.headers.authorization !== `Bearer ${token}`) {
      return answer(name, error(401, "Unauthorized: invalid or missing API token"));
    }

    let body: unknown;
    try {
      body = rawBody === "" ? undefined : JSON.parse(rawBody);
    } catch {
      return answer(name, error(400, "request body is not valid JSON"));
    }
    const request = validator.validateRequest({ method, path: url.pathname, query: url.searchParams, body });
    if (request === undefined) return answer(name, error(404, `no route for ${method} ${url.pathname}`));
    if (request.errors.length > 0) {
      return answer(name, error(400, request.errors.map((issue) => `${issue.location} ${issue.field}: ${issue.message}`).join("; ")));
    }
    if (request.pathParams["organizationSlug"] !== undefined && request.pathParams["organizationSlug"] !== state.org) {
      return answer(name, error(404, "organization not found"));
    }

    const handler = handlers[name];
    const reply = handler === undefined ? error(501, `${name} is not implemented by the Turso fake`) : await handler(request, body);
    const problems = checkResponse(request, reply);
    if (problems.length > 0) {
      violations.push(`${method} ${operation.pathTemplate} → ${reply.status}: ${problems.join("; ")}`);
      return answer(name, error(500, `the fake's response violates Turso's OpenAPI document: ${problems.join("; ")}`));
    }

    const late = faults.outcomeFor(name, "after");
    if (late?.kind === "hang") return hang(res, name, method, url.pathname);
    answer(name, late === undefined ? reply : faultReply(late));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((cause: unknown) => {
      violations.push(`fake crashed: ${String(cause)}`);
      if (!res.headersSent) send(res, error(500, "the Turso fake crashed"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    state,
    faults,
    calls,
    violations,
    verifyDatabaseToken: async (dbName, jwt) => {
      const db = state.databases.get(dbName);
      return db !== undefined && tokens.verify(db.DbId, jwt);
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((cause) => (cause ? reject(cause) : resolve())));
    },
  };
};

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Array<Buffer> = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};
