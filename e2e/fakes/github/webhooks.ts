/**
 * Webhook deliveries as GitHub makes them: payloads built from the real
 * examples in `@octokit/webhooks-examples`, signed with the webhook secret
 * (X-Hub-Signature-256) and sent with GitHub's delivery headers.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { WebhookDefinition } from "@octokit/webhooks-examples";
import type { InstallationCreatedEvent, InstallationDeletedEvent, PushEvent } from "@octokit/webhooks-types";
import { Webhooks } from "@octokit/webhooks";

const require = createRequire(import.meta.url);
const definitions = require("@octokit/webhooks-examples") as ReadonlyArray<WebhookDefinition>;

export interface SendWebhookInput {
  readonly url: string;
  readonly secret: string;
  /** X-GitHub-Event, e.g. "push" or "installation". */
  readonly event: string;
  /** An object (serialised as JSON) or the exact body text to sign and send. */
  readonly payload: unknown;
  /** X-GitHub-Delivery; GitHub sends a fresh GUID per delivery and the same one on redelivery. */
  readonly deliveryId?: string;
  /** The App id, sent as X-GitHub-Hook-Installation-Target-ID. */
  readonly appId?: number;
}

export interface WebhookDelivery {
  readonly deliveryId: string;
  readonly status: number;
  readonly body: string;
}

/** Signs and POSTs one delivery; resolves with the receiver's answer (any status). */
export const sendWebhook = async (input: SendWebhookInput): Promise<WebhookDelivery> => {
  const body = typeof input.payload === "string" ? input.payload : JSON.stringify(input.payload);
  const deliveryId = input.deliveryId ?? randomUUID();
  const signature = await new Webhooks({ secret: input.secret }).sign(body);
  const response = await fetch(input.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/fake",
      "x-github-event": input.event,
      "x-github-delivery": deliveryId,
      "x-github-hook-id": "1",
      "x-github-hook-installation-target-type": "integration",
      "x-github-hook-installation-target-id": String(input.appId ?? 1),
      "x-hub-signature-256": signature,
    },
    body,
  });
  return { deliveryId, status: response.status, body: await response.text() };
};

const examplesOf = (name: string): ReadonlyArray<unknown> => {
  const definition = definitions.find((candidate) => candidate.name === name);
  if (!definition) throw new Error(`@octokit/webhooks-examples has no "${name}" examples`);
  return definition.examples;
};

const pick = <T>(name: string, matches: (example: T) => boolean): T => {
  const found = (examplesOf(name) as ReadonlyArray<T>).find(matches);
  if (found === undefined) throw new Error(`@octokit/webhooks-examples has no matching "${name}" example`);
  return structuredClone(found);
};

/** Replaces the example's names in every string of a payload (URLs, full names, logins). */
const rename = <T>(value: T, pairs: ReadonlyArray<readonly [string, string]>): T => {
  const walk = (node: unknown): unknown => {
    if (typeof node === "string") return pairs.reduce((text, [from, to]) => text.replaceAll(from, to), node);
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === "object" && node !== null) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return walk(value) as T;
};

const splitFullName = (fullName: string): { owner: string; name: string } => {
  const [owner, name, ...rest] = fullName.split("/");
  if (!owner || !name || rest.length > 0) throw new Error(`"${fullName}" is not owner/name`);
  return { owner, name };
};

const installationNodeId = (id: number): string => Buffer.from(`023:IntegrationInstallation${id}`).toString("base64");

export interface PushEventInput {
  /** "owner/name" of the pushed repository. */
  readonly repoFullName: string;
  /** A full ref ("refs/heads/main") or a branch name ("main"). */
  readonly ref: string;
  /** The commit SHA the ref now points to. */
  readonly after: string;
  /** The previous SHA; all zeros (a new branch) when omitted. */
  readonly before?: string;
  readonly repoId?: number;
  readonly private?: boolean;
  readonly defaultBranch?: string;
  /** Present on deliveries to a GitHub App: the installation the event belongs to. */
  readonly installationId?: number;
}

const ZERO_SHA = "0000000000000000000000000000000000000000";

/** A `push` payload for one new commit on a branch, from the real example. */
export const pushEvent = (input: PushEventInput): PushEvent => {
  const { owner, name } = splitFullName(input.repoFullName);
  const example = pick<PushEvent>("push", (candidate) => candidate.ref.startsWith("refs/heads/") && candidate.head_commit !== null);
  const exampleSha = example.after;
  const before = input.before ?? ZERO_SHA;
  const payload = rename(example, [
    [exampleSha, input.after],
    ["Codertocat/Hello-World", `${owner}/${name}`],
    ["Codertocat", owner],
    ["Hello-World", name],
  ]);
  const ref = input.ref.startsWith("refs/") ? input.ref : `refs/heads/${input.ref}`;
  const defaultBranch = input.defaultBranch ?? "main";
  const repository = {
    ...payload.repository,
    id: input.repoId ?? payload.repository.id,
    private: input.private ?? false,
    visibility: input.private ? ("private" as const) : ("public" as const),
    default_branch: defaultBranch,
    master_branch: defaultBranch,
    // Newer than the example: GitHub now always sends it.
    has_discussions: false,
  };
  const { installation: _exampleInstallation, ...rest } = payload;
  return {
    ...rest,
    ref,
    before,
    after: input.after,
    created: before === ZERO_SHA,
    deleted: false,
    compare: `https://github.com/${owner}/${name}/compare/${before.slice(0, 12)}...${input.after.slice(0, 12)}`,
    repository,
    ...(input.installationId === undefined ? {} : { installation: { id: input.installationId, node_id: installationNodeId(input.installationId) } }),
  };
};

export interface InstallationEventInput {
  readonly installationId: number;
  /** Login of the account the App is installed on. */
  readonly account: string;
  readonly accountId?: number;
  readonly appId?: number;
  readonly appSlug?: string;
  /** Repositories in the installation ("owner/name"); GitHub lists them on created and deleted. */
  readonly repositories?: ReadonlyArray<{ readonly fullName: string; readonly id?: number; readonly private?: boolean }>;
}

/** Example timestamps are sometimes Unix seconds; GitHub sends ISO 8601. */
const isoTime = (value: string | number): string => (typeof value === "number" ? new Date(value * 1000).toISOString().replace(/\.\d+Z$/, "Z") : value);

export type InstallationEvent = InstallationCreatedEvent | InstallationDeletedEvent;

/** An `installation` payload (`created` or `deleted`), from the real examples. */
export function installationEvent(action: "created", input: InstallationEventInput): InstallationCreatedEvent;
export function installationEvent(action: "deleted", input: InstallationEventInput): InstallationDeletedEvent;
export function installationEvent(action: "created" | "deleted", input: InstallationEventInput): InstallationEvent;
export function installationEvent(action: "created" | "deleted", input: InstallationEventInput): InstallationEvent {
  const example = pick<InstallationEvent>("installation", (candidate) => candidate.action === action);
  const exampleLogin = example.installation.account.login;
  const payload = rename(example, [
    [`/installations/${example.installation.id}`, `/installations/${input.installationId}`],
    [exampleLogin, input.account],
  ]);
  const accountId = input.accountId ?? payload.installation.account.id;
  const installation = {
    ...payload.installation,
    id: input.installationId,
    account: { ...payload.installation.account, login: input.account, id: accountId },
    target_id: accountId,
    app_id: input.appId ?? payload.installation.app_id,
    // The examples predate two changes GitHub's schema now requires: an app_slug, and ISO timestamps.
    app_slug: input.appSlug ?? "deploy-mcp",
    created_at: isoTime(payload.installation.created_at),
    updated_at: isoTime(payload.installation.updated_at),
    suspended_at: null,
    suspended_by: null,
    repository_selection: "selected" as const,
  };
  const repositories = (input.repositories ?? []).map((repo, index) => {
    const { name } = splitFullName(repo.fullName);
    const id = repo.id ?? 100000 + index;
    return { id, node_id: Buffer.from(`010:Repository${id}`).toString("base64"), name, full_name: repo.fullName, private: repo.private ?? false };
  });
  return { ...payload, installation, repositories } as InstallationEvent;
}

/** A random 40-character hex commit SHA. */
export const randomSha = (): string => randomBytes(20).toString("hex");
