/**
 * tools/list is read by the model at the start of every session: its size is a cost in every
 * conversation. It was 46 KB before it was made lean; this budget keeps it from creeping back.
 * Raise it only for a tool or an argument an agent needs, never for prose.
 */
import { test } from "node:test"
import assert from "node:assert/strict"
import { listToolsResult } from "./server.ts"
import { tools } from "./tools/index.ts"

/** Half of the 46,174 bytes it was: the lean list must stay at least that much smaller. */
const BUDGET_BYTES = Math.floor(46_174 / 2)

test(`the serialized tools/list stays within ${BUDGET_BYTES} bytes`, () => {
  const listed = JSON.stringify(listToolsResult(tools))
  const bytes = Buffer.byteLength(listed)
  const perTool = listToolsResult(tools).tools.map((tool) => `${tool.name} ${Buffer.byteLength(JSON.stringify(tool))}`).join(", ")
  assert.ok(bytes <= BUDGET_BYTES, `tools/list is ${bytes} bytes, over the budget of ${BUDGET_BYTES} (${perTool}). Shorten descriptions or schemas first.`)
})

test("every tool still states its four annotations and a title, once", () => {
  for (const tool of listToolsResult(tools).tools) {
    assert.deepEqual(Object.keys(tool.annotations).sort(), ["destructiveHint", "idempotentHint", "openWorldHint", "readOnlyHint"], tool.name)
    assert.ok(tool.title.length > 0)
  }
})
