import assert from "node:assert/strict"
import { Writable } from "node:stream"
import { test } from "node:test"
import { makeLogger, registerSecret } from "./logger.ts"

const capture = () => {
  const lines: Array<string> = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString())
      done()
    }
  })
  return { lines, logger: makeLogger({ level: "info", destination }) }
}

test("credentials never reach the log", () => {
  registerSecret("config-secret-value-42")
  const { lines, logger } = capture()
  logger.info(
    {
      req: { headers: { authorization: "Bearer dk_live_abcdefghijkl", cookie: "session=xyz" } },
      env: { DATABASE_URL: "libsql://x" },
      apiToken: "tok-123",
      nested: { clientSecret: "s", password: "p", note: "uses config-secret-value-42" }
    },
    "calling with dk_live_zzzzzzzzzz and config-secret-value-42"
  )
  logger.error({ err: new Error("failed with config-secret-value-42") }, "boom")
  const text = lines.join("")
  for (const secret of ["dk_live_abcdefghijkl", "session=xyz", "libsql://x", "tok-123", "config-secret-value-42", "dk_live_zzzzzzzzzz"]) {
    assert.ok(!text.includes(secret), `${secret} leaked`)
  }
  assert.match(text, /\[redacted\]/)
  assert.match(text, /calling with/)
})
