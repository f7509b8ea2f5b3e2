import assert from "node:assert/strict"
import { describe, test } from "node:test"
import type { AppSpec } from "../../schemas/index.ts"
import type { CoolifyApplication } from "../../src/providers/coolify/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import { configHash, createInput, desiredSettings, dockerRunOptions, settingsPatch, splitImage, sourceKindChanged } from "./desired.ts"
import { coolifyAppName } from "./names.ts"
import { appSpec } from "../../e2e/support/app-spec.ts"
import { Effect, Layer } from "effect"
import { chooseSource, RUNTIME_UNSUPPORTED_MESSAGE } from "./create.ts"
import { RepoAccess } from "./source.ts"
import { CoolifyTarget } from "./target.ts"

/** chooseSource never asks Coolify about these sources: any call fails the test. */
const neverTarget = Layer.succeed(CoolifyTarget, new Proxy({}, { get: () => () => assert.fail("CoolifyTarget must not be asked") }) as never)

const spec = appSpec

const app = (overrides: Partial<AppSpec> = {}): StoredObject<"App"> => ({
  apiVersion: "deploy.mcp/v1",
  kind: "App",
  metadata: {
    uid: "9b2c7f3e-0000-4000-8000-000000000001",
    owner: "0f0e0d0c-0000-4000-8000-000000000002",
    project: "default",
    name: "web",
    generation: 1,
    resourceVersion: 1,
    createdAt: "2026-01-01T00:00:00.000Z",
    finalizers: [],
    labels: {},
    annotations: {}
  },
  spec: spec(overrides),
  status: {}
})

const place = { projectUuid: "p1", environmentName: "production", serverUuid: "s1" }

/** What Coolify would list right after creating the app from `createInput`. */
const observedFrom = (body: Record<string, unknown>, extra: Partial<CoolifyApplication> = {}): CoolifyApplication => ({
  uuid: "u1",
  name: String(body["name"]),
  description: String(body["description"]),
  fqdn: String(body["domains"]),
  git_repository: typeof body["git_repository"] === "string" ? body["git_repository"] : null,
  git_branch: typeof body["git_branch"] === "string" ? body["git_branch"] : null,
  git_commit_sha: typeof body["git_commit_sha"] === "string" ? body["git_commit_sha"] : "HEAD",
  build_pack: typeof body["build_pack"] === "string" ? body["build_pack"] : "dockerimage",
  ports_exposes: String(body["ports_exposes"]),
  limits_memory: String(body["limits_memory"]),
  limits_cpus: String(body["limits_cpus"]),
  custom_docker_run_options: String(body["custom_docker_run_options"]),
  docker_registry_image_name: typeof body["docker_registry_image_name"] === "string" ? body["docker_registry_image_name"] : null,
  docker_registry_image_tag: typeof body["docker_registry_image_tag"] === "string" ? body["docker_registry_image_tag"] : null,
  install_command: null,
  build_command: null,
  start_command: null,
  ...extra
})

describe("desired Coolify settings", () => {
  test("the Coolify name is stable, unique per tenant and project, and readable", () => {
    const name = coolifyAppName("owner-a", "default", "web")
    assert.equal(name, coolifyAppName("owner-a", "default", "web"))
    assert.notEqual(name, coolifyAppName("owner-b", "default", "web"))
    assert.notEqual(name, coolifyAppName("owner-a", "shop", "web"))
    assert.match(name, /^dm-web-[0-9a-f]{12}$/)
  })

  test("limits come from the plan unless the spec names them; hardening from mode and host", () => {
    const persistent = desiredSettings(app(), { hostName: "web.apps.test", gvisor: false })
    assert.deepEqual([persistent.limits_memory, persistent.limits_cpus, persistent.ports_exposes], ["1G", "1", "3000"])
    assert.equal(persistent.custom_docker_run_options, "--cap-drop=ALL --pids-limit=256")
    assert.equal(persistent.domains, "https://web.apps.test")
    const sized = desiredSettings(app({ resources: { memory: "256M" }, runtimeMode: "on_demand", port: 8080 }), { hostName: "x.test", gvisor: true })
    assert.deepEqual([sized.limits_memory, sized.limits_cpus, sized.ports_exposes], ["256M", "0.5", "8080"])
    assert.equal(sized.custom_docker_run_options, "--cap-drop=ALL --pids-limit=256 --runtime=runsc")
    assert.match(dockerRunOptions(spec({ buildPack: "static" }), false), /--cap-add=NET_BIND_SERVICE/)
  })

  test("image references split into name and tag; a registry port is not a tag", () => {
    assert.deepEqual(splitImage("ghcr.io/acme/api:1.2"), { name: "ghcr.io/acme/api", tag: "1.2" })
    assert.deepEqual(splitImage("localhost:5000/api"), { name: "localhost:5000/api", tag: "latest" })
    assert.deepEqual(splitImage("nginx"), { name: "nginx", tag: "latest" })
  })

  test("create bodies: public clone by URL, GitHub App by owner/name, image; explicit deploys, our domain, our tag", () => {
    const desired = desiredSettings(app({ commands: { build: "npm run build" } }), { hostName: "web.apps.test", gvisor: false })
    const pub = createInput(desired, { _tag: "Public" }, place)
    assert.equal(pub.type, "public")
    assert.equal(pub.body.git_repository, "https://github.com/acme/web")
    assert.deepEqual([pub.body.instant_deploy, pub.body.autogenerate_domain, pub.body.tags], [false, false, ["deploy-mcp"]])
    assert.equal(pub.type === "public" ? pub.body.build_command : undefined, "npm run build")
    assert.equal(pub.type === "public" && "install_command" in pub.body, false, "no empty commands are sent")
    const gh = createInput(desired, { _tag: "GitHubApp", githubAppUuid: "g1" }, place)
    assert.equal(gh.type, "private-github-app")
    assert.deepEqual(gh.type === "private-github-app" ? [gh.body.git_repository, gh.body.github_app_uuid] : [], ["acme/web", "g1"])
    const image = createInput(desiredSettings(app({ image: "nginx:1" }), { hostName: "h", gvisor: false }), { _tag: "Image" }, place)
    assert.equal(image.type, "dockerimage")
  })

  test("an app just created from the desired settings needs no patch; a changed spec patches only what changed", () => {
    const desired = desiredSettings(app(), { hostName: "web.apps.test", gvisor: false })
    const observed = observedFrom(createInput(desired, { _tag: "Public" }, place).body as unknown as Record<string, unknown>, { git_repository: "acme/web" })
    assert.deepEqual(settingsPatch(observed, desired), {})
    const changed = desiredSettings(app({ revision: "b".repeat(40), port: 8080, domain: "shop.example.com" }), { hostName: "shop.example.com", gvisor: false })
    assert.deepEqual(settingsPatch(observed, changed), { git_commit_sha: "b".repeat(40), ports_exposes: "8080", domains: "https://shop.example.com" })
    assert.deepEqual(settingsPatch({ ...observed, fqdn: "HTTPS://web.apps.test/", limits_memory: "1g" }, desired), {}, "case and trailing slashes do not count")
  })

  test("switching between an image and a repository is detected", () => {
    const desired = desiredSettings(app({ image: "nginx" }), { hostName: "h", gvisor: false })
    assert.equal(sourceKindChanged(observedFrom({ name: "x", domains: "", build_pack: "nixpacks" }), desired), true)
    assert.equal(sourceKindChanged(observedFrom({ name: "x", domains: "" }), desired), false)
  })

  test("the config digest changes with any setting or env value, and differs between apps", () => {
    const desired = desiredSettings(app(), { hostName: "web.apps.test", gvisor: false })
    const base = configHash("uid-1", desired, { A: "1" })
    assert.equal(base, configHash("uid-1", desired, { A: "1" }))
    assert.notEqual(base, configHash("uid-1", desired, { A: "2" }))
    assert.notEqual(base, configHash("uid-2", desired, { A: "1" }))
    assert.notEqual(base, configHash("uid-1", { ...desired, limits_memory: "2G" }, { A: "1" }))
  })

  test("a git URL is Coolify's public repository as it is; a .git suffix or trailing slash on Coolify's side needs no patch", () => {
    const desired = desiredSettings(app({ repo: "https://gitlab.com/acme/site.git" }), { hostName: "web.apps.test", gvisor: false })
    const pub = createInput(desired, { _tag: "Public" }, place)
    assert.equal(pub.type === "public" ? pub.body.git_repository : undefined, "https://gitlab.com/acme/site.git")
    const observed = observedFrom(pub.body as unknown as Record<string, unknown>, { git_repository: "https://gitlab.com/acme/site/" })
    assert.deepEqual(settingsPatch(observed, desired), {})
    assert.deepEqual(settingsPatch({ ...observed, git_repository: "acme/site" }, desired), {}, "Coolify may keep only the path")
    assert.deepEqual(settingsPatch({ ...observed, git_repository: "https://gitlab.com/acme/other" }, desired), { git_repository: "https://gitlab.com/acme/site.git" })
  })

  test("Coolify cannot reach a local path or pushed code: no repository to send, and chooseSource refuses them", async () => {
    const { repo: _dropped, ...withoutRepo } = spec()
    const local = app({ repo: "file:///srv/site" })
    for (const object of [local, { ...local, spec: withoutRepo }]) {
      assert.equal(desiredSettings(object, { hostName: "h", gvisor: false }).repository, "")
      const choice = await Effect.runPromise(chooseSource(object).pipe(Effect.provide(RepoAccess.layerAssumePublic), Effect.provide(neverTarget)))
      assert.deepEqual(choice, { _tag: "RuntimeUnsupported", message: RUNTIME_UNSUPPORTED_MESSAGE })
    }
    assert.match(RUNTIME_UNSUPPORTED_MESSAGE, /need the local runtime \(APP_RUNTIME=local\)/)
  })
})
