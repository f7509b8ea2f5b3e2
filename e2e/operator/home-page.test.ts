/**
 * No dead links on the embedded default (no GitHub configured): `/` tells a newcomer what this
 * server is and how to connect an agent, and every URL that the 401 message and whoami name
 * answers — nothing points at a dashboard or sign-in that is not there.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { initializeRequest, rawPost, startMcpSystem, structured, type McpTestSystem } from "../mcp/support.ts"

let t: McpTestSystem

/** Every http(s) URL in a text, without trailing punctuation. */
const urlsIn = (text: string) => [...text.matchAll(/https?:\/\/[^\s"'`<>)]+/g)].map((match) => match[0].replace(/[.,;:]+$/, ""))

/** URLs of this server that a person would open (not the MCP endpoint, not app hosts or templates). */
const ownPages = (urls: ReadonlyArray<string>) =>
  urls.filter((url) => url.startsWith(t.system.config.PUBLIC_URL ?? `http://localhost:${t.system.config.PORT}`) && !url.includes("<") && !url.endsWith("/mcp"))

const status = async (url: string) => {
  const local = new URL(url)
  const response = await fetch(`${t.system.url}${local.pathname}${local.search}`, { redirect: "manual" })
  await response.body?.cancel()
  return response.status
}

describe("the embedded default's first page", () => {
  before(async () => {
    t = await startMcpSystem()
  })
  after(async () => {
    await t?.stop()
  })

  test("/ says what the server is, how to connect an agent and get a key, and what it can do now", async () => {
    const response = await fetch(`${t.system.url}/`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/)
    const body = await response.text()
    assert.match(body, /claude mcp add --transport http deploy http:\/\/localhost:\d+\/mcp/)
    assert.match(body, /apikey create --user &lt;login&gt;/)
    assert.match(body, /the local runtime/)
    assert.match(body, /Apps can deploy\./)
  })

  test("every page the 401 message and whoami name answers (no 404)", async () => {
    const refused = await rawPost(t.mcpUrl, initializeRequest)
    assert.equal(refused.status, 401)
    const named = urlsIn(await refused.text())
    const user = await t.createUser("newcomer", { github: false })
    const client = await t.connect(user.key)
    const who = structured<{ github: { hint?: string }; server: { missing: Array<string> } }>(await client.callTool({ name: "whoami", arguments: {} }))
    assert.match(who.github.hint ?? "", /GitHub is not configured on this server/)
    named.push(...urlsIn(JSON.stringify(who)))
    const pages = ownPages(named)
    assert.ok(pages.length > 0, `the messages name this server's pages: ${named.join(" ")}`)
    for (const page of pages) assert.notEqual(await status(page), 404, `${page} is named in a message but answers 404`)
  })
})
