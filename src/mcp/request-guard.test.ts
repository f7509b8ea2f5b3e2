import { test } from "node:test"
import assert from "node:assert/strict"
import { checkRequest, makeGuardPolicy, originAllowed } from "./request-guard.ts"

const policy = makeGuardPolicy({ publicUrl: "https://deploy.example.com", bindHost: "0.0.0.0", allowedOrigins: "https://claude.ai, not a url" })

test("Host must be loopback or PUBLIC_URL's host (any port)", () => {
  for (const host of ["localhost:8081", "127.0.0.1:1", "[::1]:8081", "deploy.example.com", "DEPLOY.example.com:443"]) {
    assert.deepEqual(checkRequest(policy, { host }), { ok: true }, host)
  }
  for (const host of ["attacker.example", "127.0.0.1.nip.io", "deploy.example.com.evil.net", "", "0.0.0.0:8081"]) {
    const result = checkRequest(policy, { host })
    assert.equal(result.ok, false, host)
  }
  assert.equal(checkRequest(policy, {}).ok, false)
})

test("the bind address counts when it is a specific one", () => {
  assert.deepEqual(checkRequest(makeGuardPolicy({ bindHost: "10.0.0.5" }), { host: "10.0.0.5:8081" }), { ok: true })
})

test("Origin: absent is fine; loopback, PUBLIC_URL and ALLOWED_ORIGINS pass; others, null and non-http fail", () => {
  assert.deepEqual(checkRequest(policy, { host: "localhost" }), { ok: true })
  for (const origin of ["http://localhost:6274", "http://127.0.0.1:3000", "https://deploy.example.com", "https://claude.ai"]) assert.ok(originAllowed(policy, origin), origin)
  for (const origin of ["https://evil.example", "null", "file://", "https://claude.ai.evil.example", "chrome-extension://abc"]) {
    assert.equal(originAllowed(policy, origin), false, origin)
    assert.equal(checkRequest(policy, { host: "localhost", origin }).ok, false)
  }
})
