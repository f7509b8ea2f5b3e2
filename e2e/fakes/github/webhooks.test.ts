import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhooks } from "@octokit/webhooks";
import { installationEvent, pushEvent, randomSha, sendWebhook } from "./webhooks.ts";
import { webhookPayloadIssues } from "./webhook-schema.ts";

describe("webhook payloads", () => {
  test("push: the given repository, ref and SHA, valid against GitHub's push schema", () => {
    const after = randomSha();
    const payload = pushEvent({ repoFullName: "alice/my-saas", ref: "main", after, installationId: 77, private: true });
    assert.equal(payload.ref, "refs/heads/main");
    assert.equal(payload.after, after);
    assert.equal(payload.head_commit?.id, after);
    assert.equal(payload.repository.full_name, "alice/my-saas");
    assert.equal(payload.repository.name, "my-saas");
    assert.equal(payload.repository.owner.login, "alice");
    assert.equal(payload.repository.private, true);
    assert.equal(payload.installation?.id, 77);
    assert.deepEqual(webhookPayloadIssues("push", payload), []);
  });

  test("push without an installation carries none; a full ref is kept", () => {
    const payload = pushEvent({ repoFullName: "alice/my-saas", ref: "refs/heads/feature/x", after: randomSha(), before: randomSha() });
    assert.equal(payload.ref, "refs/heads/feature/x");
    assert.equal(payload.installation, undefined);
    assert.equal(payload.created, false);
    assert.deepEqual(webhookPayloadIssues("push", payload), []);
  });

  test("installation created and deleted: the given installation, account and repositories", () => {
    const created = installationEvent("created", { installationId: 9, account: "alice", repositories: [{ fullName: "alice/my-saas", private: true }] });
    assert.equal(created.action, "created");
    assert.equal(created.installation.id, 9);
    assert.equal(created.installation.account.login, "alice");
    assert.deepEqual(created.repositories?.map((repo) => repo.full_name), ["alice/my-saas"]);
    assert.deepEqual(webhookPayloadIssues("installation-created", created), []);

    const deleted = installationEvent("deleted", { installationId: 9, account: "alice" });
    assert.equal(deleted.action, "deleted");
    assert.equal(deleted.installation.id, 9);
    assert.deepEqual(webhookPayloadIssues("installation-deleted", deleted), []);
  });

  test("a payload that breaks the schema is reported", () => {
    const payload = { ...pushEvent({ repoFullName: "a/b", ref: "main", after: randomSha() }), ref: 42 };
    assert.notDeepEqual(webhookPayloadIssues("push", payload), []);
  });
});

describe("sendWebhook", () => {
  let server: Server;
  let url: string;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/github`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("signs the exact body with the secret and sets GitHub's delivery headers", async () => {
    const payload = pushEvent({ repoFullName: "alice/my-saas", ref: "main", after: randomSha() });
    const delivery = await sendWebhook({ url, secret: "s3cret", event: "push", payload, deliveryId: "d-1" });
    assert.deepEqual(delivery, { deliveryId: "d-1", status: 200, body: "ok" });

    const request = received.at(-1);
    assert.ok(request);
    assert.equal(request.headers["x-github-event"], "push");
    assert.equal(request.headers["x-github-delivery"], "d-1");
    assert.equal(request.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(request.body), payload);
    const signature = String(request.headers["x-hub-signature-256"]);
    assert.equal(await new Webhooks({ secret: "s3cret" }).verify(request.body, signature), true);
    assert.equal(await new Webhooks({ secret: "other" }).verify(request.body, signature), false);
  });

  test("a fresh delivery id per delivery unless one is given (redelivery reuses it)", async () => {
    const payload = installationEvent("created", { installationId: 1, account: "alice" });
    const first = await sendWebhook({ url, secret: "s", event: "installation", payload });
    const second = await sendWebhook({ url, secret: "s", event: "installation", payload });
    assert.notEqual(first.deliveryId, second.deliveryId);
    assert.match(first.deliveryId, /^[0-9a-f-]{36}$/);
  });
});
