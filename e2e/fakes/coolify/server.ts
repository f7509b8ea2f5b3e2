/**
 * An in-process fake of Coolify's REST API (v4, /api/v1) for tests and
 * benchmarks. Every request is checked against Coolify's OpenAPI document
 * before a handler sees it, and every answer is checked on the way out: a
 * response the document (as patched in spec.ts) does not allow is a bug of the
 * fake, reported in `violations` and sent as a 500.
 *
 *   const fake = await startCoolifyFake({ clock: "manual" });
 *   // client config: { url: fake.url, token: fake.token }
 *   fake.advance(); fake.settle();   // move deployments along
 *   fake.calls.count({ endpoint: "GET /applications" });
 *   await fake.close();
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CallLog } from "./calls.ts";
import { makeEngine } from "./engine.ts";
import { CoolifyFaults } from "./faults.ts";
import { HANDLERS, validationFailed } from "./handlers.ts";
import type { FakeResponse, HandlerContext } from "./handlers.ts";
import { COOLIFY_BASE_PATH, coolifyValidator } from "./spec.ts";
import { CoolifyFakeState } from "./state.ts";
import type { FakeEnvironment, FakeGithubApp, FakeProject, FakeServer, SourceBehaviour } from "./state.ts";
import type { MatchedOperation, ValidationIssue } from "../../../src/providers/openapi/index.ts";

export interface CoolifyFakeOptions {
  /** The API token the fake accepts (default: a fresh random-looking one). */
  readonly token?: string;
  /** Seed for uuids and the random 5xx fault (default 1). */
  readonly seed?: number;
  /**
   * How time passes for deployments and deletions: "manual" (tests call
   * `advance`/`settle`) or a real timer stepping every `stepMs` (default 10 ms).
   */
  readonly clock?: "manual" | { readonly stepMs: number };
  /** Steps a build stays in_progress (default 2). */
  readonly buildSteps?: number;
  /** Steps a deleted application stays listed (default 2). */
  readonly deleteSteps?: number;
  /** Coolify's per-token API rate limit (default 200 per 60 s); false disables it. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs?: number } | false;
  /** Retry-After (s) sent when a server's deployment queue is full (default 60). */
  readonly queueFullRetryAfterSeconds?: number;
  /** Clock for timestamps and the rate-limit window (default Date.now). */
  readonly now?: () => number;
}

export interface ResponseViolation {
  readonly endpoint: string;
  readonly status: number;
  readonly issues: ReadonlyArray<ValidationIssue>;
}

export interface CoolifyFake {
  /** Instance base URL (clients append /api/v1). */
  readonly url: string;
  readonly token: string;
  readonly state: CoolifyFakeState;
  readonly faults: CoolifyFaults;
  readonly calls: CallLog;
  /** Responses the fake produced that the OpenAPI document does not allow (should stay empty). */
  readonly violations: ReadonlyArray<ResponseViolation>;
  /** The seeded server, project, environment and GitHub App, for create calls. */
  readonly server: FakeServer;
  readonly project: FakeProject;
  readonly environment: FakeEnvironment;
  readonly githubApp: FakeGithubApp;
  /** Declares how a repository ("owner/name" or URL) or image name builds and runs. */
  readonly setSource: (source: string, behaviour: SourceBehaviour) => void;
  /** Accepts another token; `team: false` makes it a token Coolify answers 400 "Invalid token." for. */
  readonly addToken: (token: string, options?: { readonly team?: boolean }) => void;
  /** Moves deployments and deletions `steps` steps forward. */
  readonly advance: (steps?: number) => void;
  /** Steps until nothing moves (bounded); returns the steps taken. */
  readonly settle: (maxSteps?: number) => number;
  readonly close: () => Promise<void>;
}

/** Laravel's wording for a failed rule, keyed by the ajv keyword. */
const laravelMessage = (issue: ValidationIssue): string => {
  const attribute = issue.field.replace(/_/g, " ");
  switch (issue.keyword) {
    case "additionalProperties":
      return "This field is not allowed.";
    case "required":
      return issue.field === "" ? "The request body is required." : `The ${attribute} field is required.`;
    case "enum":
      return `The selected ${attribute} is invalid.`;
    case "type":
      return `The ${attribute} field ${issue.message.replace(/^must be /, "must be ")}.`;
    default:
      return `The ${attribute} field format is invalid (${issue.message}).`;
  }
};

const toLaravelErrors = (issues: ReadonlyArray<ValidationIssue>): Record<string, Array<string>> => {
  const errors: Record<string, Array<string>> = {};
  for (const issue of issues) {
    const key = issue.field === "" ? "body" : issue.field;
    (errors[key] ??= []).push(laravelMessage(issue));
  }
  return errors;
};

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });

const invalidRequest = (error: string): FakeResponse => ({ status: 400, body: { message: "Invalid request.", error } });

/** Coolify's validateIncomingRequest: JSON content type, valid JSON, not empty. */
const parseJsonBody = (request: IncomingMessage, text: string): { body: Record<string, unknown> } | FakeResponse => {
  if (!String(request.headers["content-type"] ?? "").includes("json")) return invalidRequest("Content-Type must be application/json.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return invalidRequest("Invalid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return invalidRequest("Invalid JSON.");
  if (Object.keys(parsed).length === 0) return invalidRequest("Empty JSON.");
  return { body: parsed as Record<string, unknown> };
};

const hasRequestBody = (operation: MatchedOperation): boolean => {
  const doc = coolifyValidator().document as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
  return doc.paths[operation.pathTemplate]?.[operation.method]?.requestBody !== undefined;
};

export const startCoolifyFake = async (options: CoolifyFakeOptions = {}): Promise<CoolifyFake> => {
  const seed = options.seed ?? 1;
  const now = options.now ?? Date.now;
  const state = new CoolifyFakeState({ seed, now });
  const faults = new CoolifyFaults(seed);
  const calls = new CallLog();
  const violations: Array<ResponseViolation> = [];
  const validator = coolifyValidator();
  const engine = makeEngine(state, () => faults.stuckQueued);
  const context: HandlerContext = {
    state,
    buildSteps: options.buildSteps ?? 2,
    deleteSteps: options.deleteSteps ?? 2,
    queueFullRetryAfterSeconds: options.queueFullRetryAfterSeconds ?? 60,
  };

  const server = state.addServer();
  const project = state.addProject();
  const environment = project.environments[0];
  if (!environment) throw new Error("the seeded project has no environment");
  const githubApp = state.addGithubApp();

  const token = options.token ?? `1|fake${state.uuid()}`;
  const tokens = new Map<string, { team: boolean }>([[token, { team: true }]]);
  const rateLimit = options.rateLimit === false ? undefined : { limit: options.rateLimit?.limit ?? 200, windowMs: options.rateLimit?.windowMs ?? 60_000 };
  const windows = new Map<string, { start: number; count: number }>();

  /** Laravel's throttle: a fixed window per key, opened by its first hit. */
  const throttle = (key: string): { limited: boolean; headers: Record<string, string> } => {
    if (!rateLimit) return { limited: false, headers: {} };
    const at = now();
    let window = windows.get(key);
    if (!window || at - window.start >= rateLimit.windowMs) {
      window = { start: at, count: 0 };
      windows.set(key, window);
    }
    window.count++;
    const remaining = Math.max(0, rateLimit.limit - window.count);
    const headers: Record<string, string> = { "X-RateLimit-Limit": String(rateLimit.limit), "X-RateLimit-Remaining": String(remaining) };
    if (window.count <= rateLimit.limit) return { limited: false, headers };
    const retryAfter = Math.max(1, Math.ceil((window.start + rateLimit.windowMs - at) / 1000));
    return { limited: true, headers: { ...headers, "Retry-After": String(retryAfter) } };
  };

  /** Checks an answer against the document: documented statuses by the operation, others by Coolify's shared responses. */
  const checkResponse = (operation: MatchedOperation, response: FakeResponse): ReadonlyArray<ValidationIssue> => {
    const issues = validator.validateResponse(operation, response.status, response.body);
    if (issues.length !== 1 || issues[0]?.keyword !== "status") return issues;
    // Coolify answers statuses its document leaves out (422, 404 on /deploy, 409 on env create, 429, 5xx):
    // hold those to the shared response schemas, or at least to {message}.
    const shared = validator.validateAt(`#/components/responses/${response.status}/content/application~1json/schema`, response.body);
    if (shared.length === 0) return [];
    if (shared[0]?.keyword !== "schema") return shared;
    const body = response.body as { message?: unknown } | null;
    return typeof body === "object" && body !== null && typeof body.message === "string"
      ? []
      : [{ location: "response", field: "message", keyword: "required", message: "an undocumented status must carry {message}" }];
  };

  const handle = async (
    request: IncomingMessage,
    url: URL,
    method: string,
    operation: MatchedOperation | undefined,
    endpoint: string,
  ): Promise<FakeResponse | "hang"> => {
    const text = await readBody(request);
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));

    const header = request.headers.authorization ?? "";
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    const tokenInfo = presented === undefined ? undefined : tokens.get(presented);
    if (!url.pathname.startsWith(COOLIFY_BASE_PATH)) return { status: 404, body: { message: "Not found." } };
    if (!tokenInfo) return { status: 401, body: { message: "Unauthenticated." } };

    const throttled = throttle(presented ?? "");
    if (throttled.limited) return { status: 429, body: { message: "Too Many Attempts." }, headers: throttled.headers };

    const fault = faults.decide(endpoint);
    if (fault?.kind === "hang") return "hang";
    if (fault) return { status: fault.status, body: fault.body, headers: { ...throttled.headers, ...fault.headers } };

    if (!tokenInfo.team) return { status: 400, body: { message: "Invalid token." } };
    if (!operation) return { status: 404, body: { message: `The route ${url.pathname.slice(1)} could not be found.` } };

    let body: Record<string, unknown> | undefined;
    if (hasRequestBody(operation)) {
      const parsed = parseJsonBody(request, text);
      if ("status" in parsed) return parsed;
      body = parsed.body;
    }
    const validation = validator.validateRequest({ method, path: url.pathname, query: url.searchParams, body });
    if (!validation) return { status: 404, body: { message: "Not found." } };
    if (validation.errors.length > 0) return validationFailed(toLaravelErrors(validation.errors));

    const handler = HANDLERS[endpoint];
    if (!handler) return { status: 501, body: { message: `The Coolify fake does not implement ${endpoint}.` } };
    const response = handler({ pathParams: validation.pathParams, query: validation.query, body: body ?? {} }, context);
    const issues = checkResponse(operation, response);
    if (issues.length > 0) {
      violations.push({ endpoint, status: response.status, issues });
      return { status: 500, body: { message: `Coolify fake bug: ${endpoint} answered ${response.status} outside the OpenAPI document`, issues } };
    }
    return { ...response, headers: { ...throttled.headers, ...response.headers } };
  };

  const httpServer = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://fake.invalid");
    const method = (request.method ?? "GET").toUpperCase();
    const operation = validator.matchOperation(method, url.pathname);
    const endpoint = operation ? `${method} ${operation.pathTemplate}` : `${method} ${url.pathname}`;
    const presented = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]?.trim();
    const call = calls.record(endpoint, presented, now());
    handle(request, url, method, operation, endpoint)
      .then((result) => {
        if (result === "hang") return; // left open until close() drops the connection
        call.status = result.status;
        response.writeHead(result.status, { "Content-Type": "application/json", ...result.headers });
        response.end(JSON.stringify(result.body));
      })
      .catch((error: unknown) => {
        call.status = 500;
        response.writeHead(500, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ message: `Coolify fake crashed: ${String(error)}` }));
      });
  });

  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const address = httpServer.address() as AddressInfo;

  const clock = options.clock ?? { stepMs: 10 };
  const timer = clock === "manual" ? undefined : setInterval(() => engine.step(), clock.stepMs);
  timer?.unref();

  const advance = (steps = 1): void => {
    for (let i = 0; i < steps; i++) engine.step();
  };
  const settle = (maxSteps = 1000): number => {
    let steps = 0;
    while (engine.busy() && steps < maxSteps) {
      engine.step();
      steps++;
    }
    return steps;
  };

  return {
    url: `http://127.0.0.1:${address.port}`,
    token,
    state,
    faults,
    calls,
    violations,
    server,
    project,
    environment,
    githubApp,
    setSource: (source, behaviour) => state.setSource(source, behaviour),
    addToken: (extra, tokenOptions) => {
      tokens.set(extra, { team: tokenOptions?.team ?? true });
    },
    advance,
    settle,
    close: async () => {
      if (timer) clearInterval(timer);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve, reject) => httpServer.close((error) => (error ? reject(error) : resolve())));
    },
  };
};
