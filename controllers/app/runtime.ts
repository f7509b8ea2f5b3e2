/**
 * The app-runtime port (DESIGN.md §5 App runtimes): where an App's code is built and run. The App
 * controller places the app and wires its resources, then hands the rest to the runtime — it never
 * imports a provider. Two implementations: `coolify` (fleets of hosts, coolify-runtime.ts) and
 * `local` (this machine, local-runtime.ts). Both write the same conditions, deployment records
 * and `status.url`, so readers cannot tell them apart except by what works.
 *
 * Each implementation is the crossplane managed reconciler for its provider — observe, then
 * create | update | deploy, or delete — behind two entry points, because what "observe" returns
 * and how a deployment is followed are the provider's own (Coolify's asynchronous deployment queue
 * and its quirks; the local runtime's processes). What both share lives beside this file:
 * conditions.ts (sentences), deploy.ts (one deployment per revision/config), status.ts (writes).
 */
import { Context, type Effect } from "effect"
import type { AppRuntimeName } from "../../src/config/runtime.ts"
import type { EventStore } from "../../src/store/events.ts"
import type { ObjectStore, StoredObject } from "../../src/store/objects.ts"
import type { ReconcileResult } from "../engine/result.ts"
import type { PlacementDecision } from "../placement/Placement.ts"

type App = StoredObject<"App">

/** What the controller decided before the runtime runs: where, under which name, with which env. */
export interface RuntimeTarget {
  readonly placement: Extract<PlacementDecision, { readonly _tag: "Placed" }>
  /** The host name the app is served on (custom domain, else `<name>.<suffix>`). */
  readonly hostName: string
  /** The URL that reaches the app once it serves (`status.url`). */
  readonly url: string
  /** The spec's env over the injected resource settings (explicit beats implicit). */
  readonly env: Readonly<Record<string, string>>
  /** Resource name → credentials version injected: recorded on the deployment, a rotation redeploys. */
  readonly resourceCredentials: Readonly<Record<string, number>>
}

/** Why a runtime cannot run an app at all (e.g. a Dockerfile without a Docker engine): the message says which runtime can. */
export interface RuntimeRefusal {
  readonly reason: string
  readonly message: string
}

/** What a runtime's steps use at call time: the stores it writes status and events through. */
export type RuntimeStores = ObjectStore | EventStore

export interface AppRuntimeService {
  readonly name: AppRuntimeName
  /** The URL an app served under `hostName` is reached at. */
  readonly urlFor: (hostName: string) => string
  /** A spec this runtime can never run, said before anything is placed or created. */
  readonly refuse: (app: App) => RuntimeRefusal | undefined
  /** One level-triggered step towards the spec: observe, then create | update | deploy; safe to rerun from any line. */
  readonly reconcile: (app: App, target: RuntimeTarget) => Effect.Effect<ReconcileResult, unknown, RuntimeStores>
  /** Delete everything the app owns at the runtime; Done only once confirmed gone. */
  readonly finalize: (app: App) => Effect.Effect<ReconcileResult, unknown, RuntimeStores>
}

export class AppRuntime extends Context.Service<AppRuntime, AppRuntimeService>()("deploy-mcp/controllers/app/AppRuntime") {}
