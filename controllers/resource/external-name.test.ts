import assert from "node:assert/strict"
import { test } from "node:test"
import fc from "fast-check"
import { Effect, Exit } from "effect"
import { checkExternalName } from "../../src/providers/database/index.ts"
import { deriveExternalName, MAX_EXTERNAL_NAME_LENGTH } from "./external-name.ts"

const dnsLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/)
const key = fc.tuple(fc.uuid(), dnsLabel, dnsLabel)

test("external names are stable, valid for every provider, fit Turso's hostname label, and start with the resource name", () => {
  fc.assert(
    fc.property(key, ([owner, project, name]) => {
      const derived = deriveExternalName(owner, project, name)
      assert.equal(deriveExternalName(owner, project, name), derived, "deterministic")
      assert.ok(derived.length <= MAX_EXTERNAL_NAME_LENGTH)
      assert.ok(Exit.isSuccess(Effect.runSyncExit(checkExternalName("test", "derive", derived))), `${derived} passes checkExternalName`)
      assert.ok(derived.startsWith(`dm-${name.slice(0, 20).replace(/-+$/, "")}-`), `${derived} starts with the resource name`)
    })
  )
  // 63-character label "<db>-<org>": organisations up to 26 characters fit.
  assert.equal(MAX_EXTERNAL_NAME_LENGTH, 36)
})

test("different tenants, projects or names never share a database", () => {
  fc.assert(
    fc.property(key, key, (a, b) => {
      fc.pre(a.join("\n") !== b.join("\n"))
      assert.notEqual(deriveExternalName(...a), deriveExternalName(...b))
    })
  )
  const owner = "5f0c7d43-3d5d-4a57-9a62-2c1e2b7d1c11"
  const one = deriveExternalName(owner, "default", "db")
  assert.notEqual(deriveExternalName("0a1b2c3d-0000-4000-8000-000000000000", "default", "db"), one)
  assert.notEqual(deriveExternalName(owner, "staging", "db"), one)
})

test("a name cut at 20 characters never leaves a dash before the hash's dash", () => {
  const derived = deriveExternalName("5f0c7d43-3d5d-4a57-9a62-2c1e2b7d1c11", "default", `${"a".repeat(19)}-tail`)
  assert.match(derived, /^dm-a{19}-[0-9a-f]{12}$/)
})
