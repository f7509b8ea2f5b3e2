import assert from "node:assert/strict"
import { test } from "node:test"
import { envPrefix, resourceEnv } from "./resources.ts"

test("the first resource keeps DATABASE_URL when a second one is added", () => {
  const one = resourceEnv([{ name: "db", url: "libsql://db", authToken: "t" }])
  assert.deepEqual(one, { DATABASE_URL: "libsql://db", DATABASE_AUTH_TOKEN: "t", DB_DATABASE_URL: "libsql://db", DB_DATABASE_AUTH_TOKEN: "t" })
  const two = resourceEnv([
    { name: "db", url: "libsql://db", authToken: "t" },
    { name: "main-cache", url: "file:/cache.db" }
  ])
  for (const [name, value] of Object.entries(one)) assert.equal(two[name], value, `${name} is unchanged by adding a resource`)
  assert.deepEqual(two, { ...one, MAIN_CACHE_DATABASE_URL: "file:/cache.db" })
})

test("prefixes are the resource name in upper snake case", () => {
  assert.equal(envPrefix("main-db"), "MAIN_DB_")
  assert.deepEqual(resourceEnv([]), {})
})
