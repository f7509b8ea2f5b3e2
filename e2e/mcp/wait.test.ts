/**
 * `wait: true`: progress notifications stream as a (test) controller changes an App's conditions,
 * and the call returns on Ready, on a failure that needs the user, or at its time bound.
 */
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { startMcpSystem, structured, textOf, type McpTestSystem } from "./support.ts"
import { release, scriptedAppController } from "./test-controllers.ts"
import { deferred } from "../support/wait.ts"

interface WaitResult {
  app: { name: string; url?: string; ready: { status: string } }
  wait: { outcome: string; message: string; waitedSeconds: number }
}

let t: McpTestSystem
let client: Client

/** Call a tool with a progress token, collecting the progress messages. */
const callWithProgress = (name: string, args: Record<string, unknown>, onMessage: (message: string) => void = () => {}) => {
  const messages: Array<string> = []
  const result = client.callTool({ name, arguments: args }, undefined, {
    resetTimeoutOnProgress: true,
    onprogress: (progress) => {
      messages.push(progress.message ?? "")
      onMessage(progress.message ?? "")
    }
  })
  return { messages, result }
}

describe("wait: true", () => {
  before(async () => {
    t = await startMcpSystem({ controllers: [scriptedAppController] })
    const user = await t.createUser("waiter")
    client = await t.connect(user.key)
  })
  after(async () => {
    await t?.stop()
  })

  test("create_app streams progress as conditions change and returns when the app is Ready", async () => {
    const building = deferred<void>()
    const { messages, result } = callWithProgress("create_app", { repo: "octocat/slow", name: "slow-app", wait: true }, (message) => {
      if (message.includes("Deployed=False (Building)")) building.resolve()
    })
    // The controller parks after writing Building; the test lets it finish only once that
    // progress notification has arrived, so the order below is guaranteed, not timed.
    await building.promise
    release("slow-app")
    const done = await result
    assert.notEqual(done.isError, true, textOf(done))
    const outcome = structured<WaitResult>(done)
    assert.equal(outcome.wait.outcome, "ready")
    assert.equal(outcome.app.ready.status, "True")
    assert.equal(outcome.app.url, "https://slow-app.apps.test")
    assert.match(textOf(done), /App 'slow-app' is Ready at https:\/\/slow-app\.apps\.test/)
    const buildingAt = messages.findIndex((message) => message.includes("Deployed=False (Building)"))
    const readyAt = messages.findIndex((message) => message.includes("Ready=True (Running)"))
    assert.ok(buildingAt >= 0 && readyAt > buildingAt, `progress should go Building → Ready, got ${JSON.stringify(messages)}`)
  })

  test("a build failure ends the wait with the condition that explains it", async () => {
    const { messages, result } = callWithProgress("create_app", { repo: "octocat/broken", name: "broken-app", wait: true })
    const done = await result
    const outcome = structured<WaitResult>(done)
    assert.equal(outcome.wait.outcome, "failed")
    assert.match(outcome.wait.message, /Deployed=False \(BuildFailed\): The build failed: npm ERR! missing script: build/)
    assert.ok(messages.some((message) => message.includes("BuildFailed")))
  })

  test("redeploy waits for the new generation: a failed build fails the wait although the old version still serves", async () => {
    const first = structured<WaitResult>(await client.callTool({ name: "create_app", arguments: { repo: "octocat/flaky", name: "flaky-app", wait: true } }))
    assert.equal(first.wait.outcome, "ready")
    const { result } = callWithProgress("redeploy", { name: "flaky-app", wait: true })
    const outcome = structured<WaitResult>(await result)
    assert.equal(outcome.wait.outcome, "failed")
    assert.match(outcome.wait.message, /BuildFailed/)
    assert.equal(outcome.app.ready.status, "True", "the previous deployment keeps serving")
  })

  test("after wait_timeout_seconds the call returns with the current state", async () => {
    const { messages, result } = callWithProgress("create_app", { repo: "octocat/stuck", name: "stuck-app", wait: true, wait_timeout_seconds: 1 })
    const outcome = structured<WaitResult>(await result)
    assert.equal(outcome.wait.outcome, "timeout")
    assert.match(outcome.wait.message, /Still in progress after 1s .*Call get_app_details to check again/)
    assert.match(messages[0] ?? "", /waiting for the controller to pick up generation 1/)
  })

  test("without wait the call returns at once with the conditions as they are", async () => {
    const done = await client.callTool({ name: "create_app", arguments: { repo: "octocat/quick", name: "stuck-quick" } })
    assert.equal(structured<{ wait?: unknown }>(done).wait, undefined)
    assert.match(textOf(done), /Pass wait: true, or call get_app_details/)
  })
})
