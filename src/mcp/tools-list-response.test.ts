import { test } from "node:test"
import assert from "node:assert/strict"
import { tools } from "./tools/index.ts"
import { listToolsResult } from "./server.ts"
import { makeToolsListResponder } from "./tools-list-response.ts"

const respond = makeToolsListResponder(tools)
const accept = "application/json, text/event-stream"

test("a plain tools/list gets the cached answer with its own id", () => {
  for (const id of [7, "req-7"]) {
    const answer = respond({ jsonrpc: "2.0", id, method: "tools/list" }, { accept, protocolVersion: "2025-06-18" })
    assert.ok(answer)
    assert.deepEqual(JSON.parse(answer), { jsonrpc: "2.0", id, result: JSON.parse(JSON.stringify(listToolsResult(tools))) })
  }
  assert.ok(respond({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: {} } }, { accept }), "no protocol version header: the default applies")
})

test("anything else is left to the SDK", () => {
  const cases: ReadonlyArray<[unknown, { accept?: string; protocolVersion?: string }]> = [
    [{ jsonrpc: "2.0", id: 1, method: "tools/list", params: { cursor: "x" } }, { accept }],
    [{ jsonrpc: "2.0", id: 1, method: "tools/call" }, { accept }],
    [{ jsonrpc: "2.0", method: "tools/list" }, { accept }],
    [{ jsonrpc: "2.0", id: null, method: "tools/list" }, { accept }],
    [{ jsonrpc: "1.0", id: 1, method: "tools/list" }, { accept }],
    [[{ jsonrpc: "2.0", id: 1, method: "tools/list" }], { accept }],
    [{ jsonrpc: "2.0", id: 1, method: "tools/list", params: [] }, { accept }],
    [{ jsonrpc: "2.0", id: 1, method: "tools/list" }, { accept, protocolVersion: "1999-01-01" }],
    [{ jsonrpc: "2.0", id: 1, method: "tools/list" }, { accept: "text/event-stream" }]
  ]
  for (const [body, headers] of cases) assert.equal(respond(body, headers), undefined, JSON.stringify([body, headers]))
})
