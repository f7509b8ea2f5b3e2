import { test } from "node:test"
import assert from "node:assert/strict"
import type { Condition } from "../../schemas/index.ts"
import type { StoredObject } from "../store/objects.ts"
import { judgeApp } from "./wait-for-app.ts"

const condition = (type: string, status: Condition["status"], reason: string, observedGeneration: number): Condition => ({
  type,
  status,
  reason,
  message: `${type} ${reason}`,
  observedGeneration,
  lastTransitionTime: "2026-01-01T00:00:00.000Z"
})

const app = (generation: number, conditions: ReadonlyArray<Condition>, deleting = false) =>
  ({
    apiVersion: "deploy.mcp/v1",
    kind: "App",
    metadata: {
      uid: "u",
      owner: "o",
      project: "default",
      name: "shop",
      generation,
      resourceVersion: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00.000Z" } : {}),
      finalizers: [],
      labels: {},
      annotations: {}
    },
    spec: { repo: "a/b", branch: "main", revision: null, buildPack: "nixpacks", runtimeMode: "on_demand", env: {}, resourceRefs: [], redeployNonce: 0 },
    status: { conditions, url: "https://shop.example" }
  }) as StoredObject<"App">

test("Ready and Deployed for the awaited generation end the wait as ready", () => {
  assert.equal(judgeApp(app(2, [condition("Ready", "True", "Running", 2), condition("Deployed", "True", "Deployed", 2)]), 2)?.outcome, "ready")
  assert.equal(judgeApp(app(1, [condition("Ready", "True", "Running", 1)]), 1)?.outcome, "ready", "Deployed is optional")
})

test("conditions about an older generation do not end the wait", () => {
  assert.equal(judgeApp(app(2, [condition("Ready", "True", "Running", 1), condition("Deployed", "False", "Queued", 2)]), 2), undefined)
  assert.equal(judgeApp(app(2, [condition("Ready", "True", "Running", 2), condition("Deployed", "True", "Deployed", 1)]), 2), undefined)
  assert.equal(judgeApp(app(2, [condition("Deployed", "False", "BuildFailed", 1)]), 2), undefined, "an old failure is history")
})

test("a terminal reason fails the wait, naming the detailed condition rather than Ready", () => {
  const failed = judgeApp(
    app(3, [condition("Ready", "True", "Running", 3), condition("Deployed", "False", "BuildFailed", 3)]),
    3
  )
  assert.deepEqual(failed, { outcome: "failed", message: "Deployed=False (BuildFailed): Deployed BuildFailed" })
  assert.equal(judgeApp(app(1, [condition("Ready", "False", "BuildFailed", 1), condition("Deployed", "False", "BuildFailed", 1)]), 1)?.message, "Deployed=False (BuildFailed): Deployed BuildFailed")
  assert.equal(judgeApp(app(1, [condition("Deployed", "False", "Building", 1)]), 1), undefined, "progress is not failure")
  assert.equal(judgeApp(app(1, [condition("Synced", "False", "ProviderError", 1)]), 1), undefined, "transient provider errors are retried")
})

test("a deleted app ends the wait", () => {
  assert.equal(judgeApp(app(1, [], true), 1)?.outcome, "deleted")
})
