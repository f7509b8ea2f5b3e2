/** An App spec for tests: a public nixpacks repo, persistent, no env and no resources — override what a test is about. */
import type { AppSpec } from "../../schemas/index.ts"

export const appSpec = (overrides: Partial<AppSpec> = {}): AppSpec => ({
  repo: "acme/web",
  branch: "main",
  revision: null,
  buildPack: "nixpacks",
  runtimeMode: "persistent",
  env: {},
  resourceRefs: [],
  redeployNonce: 0,
  ...overrides
})
