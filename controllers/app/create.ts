/**
 * Create the Coolify application, guarded against leaks (DESIGN.md §4 Create): the
 * `deploy.mcp/create-pending` mark is stored before Coolify hears of the create, the uuid right
 * after it answers. A crash (or a lost answer) in between leaves the mark; the next reconcile then
 * looks the app up by its deterministic name (observe.ts) and adopts it instead of creating again.
 */
import { Effect, Option } from "effect"
import { Annotations, repoSource } from "../../schemas/index.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyApplication, CoolifyConflict, CoolifyValidation } from "../../src/providers/coolify/index.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import type { PlacementDecision } from "../placement/Placement.ts"
import { createInput, type AppSource, type DesiredSettings } from "./desired.ts"
import { CoolifyObservations } from "./observations.ts"
import { RepoAccess } from "./source.ts"
import { CoolifyTarget } from "./target.ts"

type App = StoredObject<"App">
type Placed = Extract<PlacementDecision, { readonly _tag: "Placed" }>

export type SourceChoice =
  | { readonly _tag: "Source"; readonly source: AppSource }
  | { readonly _tag: "WaitingForGitHubApp"; readonly message: string }
  /** Coolify cannot reach the code at all (this machine's disk, the built-in git remote). */
  | { readonly _tag: "RuntimeUnsupported"; readonly message: string }

export const RUNTIME_UNSUPPORTED_MESSAGE = "local paths and the built-in git remote need the local runtime (APP_RUNTIME=local)"

/**
 * Image apps need no repository; a git URL is cloned publicly; for GitHub the App installation or
 * a public clone. Coolify's builders run elsewhere: a local path or pushed code never reaches them.
 */
export const chooseSource = (app: App) =>
  Effect.gen(function*() {
    if (app.spec.image !== undefined) return { _tag: "Source", source: { _tag: "Image" } } as SourceChoice
    const source = repoSource(app.spec.repo)
    if (source._tag === "Local" || source._tag === "Push") return { _tag: "RuntimeUnsupported", message: RUNTIME_UNSUPPORTED_MESSAGE } as SourceChoice
    if (source._tag === "Git") return { _tag: "Source", source: { _tag: "Public" } } as SourceChoice
    const decision = yield* RepoAccess.use((access) => access.decide(app.metadata.owner, source.fullName))
    switch (decision._tag) {
      case "Public":
        return { _tag: "Source", source: { _tag: "Public" } } as SourceChoice
      case "NotInstalled":
        return { _tag: "WaitingForGitHubApp", message: decision.message } as SourceChoice
      case "GitHubApp": {
        const source = yield* CoolifyTarget.use((target) => target.githubAppFor(decision.installationId))
        return Option.match(source, {
          onNone: (): SourceChoice => ({
            _tag: "WaitingForGitHubApp",
            message: `The Deploy MCP GitHub App is installed on ${app.spec.repo} (installation ${decision.installationId}), but Coolify has no GitHub App source for that installation yet, so it cannot clone the repository. Deploy MCP creates it on its own (source deploy-mcp-${decision.installationId}); the app deploys once it is there. If it does not appear, check that COOLIFY_* and GITHUB_* are configured and the server log for the Coolify source.`
          }),
          onSome: (githubAppUuid): SourceChoice => ({ _tag: "Source", source: { _tag: "GitHubApp", githubAppUuid } })
        })
      }
    }
  })

export type CreateOutcome =
  | { readonly _tag: "Created"; readonly object: App; readonly uuid: string }
  /** Coolify refused the input (422) or the domain is taken (409): nothing was created. */
  | { readonly _tag: "Rejected"; readonly object: App; readonly error: CoolifyValidation | CoolifyConflict }

/** Mark pending, create, record the uuid. Errors other than a refusal leave the mark (the create may have happened). */
export const createApplication = (app: App, desired: DesiredSettings, source: AppSource, placement: Placed) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const api = yield* CoolifyApi
    const observations = yield* CoolifyObservations
    const place = yield* CoolifyTarget.use((target) => target.place(placement.coolifyServerUuid))
    const pending = (yield* store.updateMetadata(app.metadata.owner, app.metadata.uid, app.metadata.resourceVersion, {
      annotations: { [Annotations.createPending]: new Date().toISOString() }
    })) as App
    const created = yield* api.createApplication(createInput(desired, source, place)).pipe(
      Effect.map((answer) => ({ _tag: "Ok", uuid: answer.uuid }) as const),
      Effect.catchTags({
        CoolifyValidation: (error) => Effect.succeed({ _tag: "Refused", error } as const),
        CoolifyConflict: (error) => Effect.succeed({ _tag: "Refused", error } as const)
      })
    )
    if (created._tag === "Refused") {
      // Refused before anything was made: nothing to adopt later.
      const cleared = (yield* store.updateMetadata(app.metadata.owner, app.metadata.uid, pending.metadata.resourceVersion, {
        annotations: { [Annotations.createPending]: null }
      })) as App
      return { _tag: "Rejected", object: cleared, error: created.error } as CreateOutcome
    }
    yield* observations.noteCreated(created.uuid)
    const recorded = yield* recordExternalName(pending, created.uuid)
    return { _tag: "Created", object: recorded, uuid: created.uuid } as CreateOutcome
  })

/** Stores the uuid (and clears the pending mark) in one conditional write; skipped when already so. */
export const recordExternalName = (app: App, uuid: string) =>
  Effect.gen(function*() {
    if (app.metadata.annotations[Annotations.externalName] === uuid && app.metadata.annotations[Annotations.createPending] === undefined) return app
    const store = yield* ObjectStore
    return (yield* store.updateMetadata(app.metadata.owner, app.metadata.uid, app.metadata.resourceVersion, {
      annotations: { [Annotations.externalName]: uuid, [Annotations.createPending]: null }
    })) as App
  })

/** Adopt the application an earlier, interrupted create made; delete any duplicate leaks beside it. */
export const adoptApplication = (app: App, found: CoolifyApplication, duplicates: ReadonlyArray<CoolifyApplication>) =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    yield* Effect.forEach(duplicates, (duplicate) => api.deleteApplication(duplicate.uuid).pipe(Effect.catchTag("CoolifyNotFound", () => Effect.void)), {
      discard: true
    })
    return yield* recordExternalName(app, found.uuid)
  })

/** The recorded application vanished (deleted outside): forget it so a new one is created and deployed. */
export const forgetExternalName = (app: App) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    return (yield* store.updateMetadata(app.metadata.owner, app.metadata.uid, app.metadata.resourceVersion, {
      annotations: { [Annotations.externalName]: null, [Annotations.createPending]: null }
    })) as App
  })
