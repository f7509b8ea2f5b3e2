/**
 * Where an App runs (DESIGN.md §2 Host, placement). The App controller asks; it never picks hosts
 * itself. The default layer places every app on the single configured Coolify server with
 * APP_DNS_SUFFIX — what a one-server install (and the embedded default) needs. The host-aware layer
 * (controllers/host) chooses among Ready run Hosts by capacity.
 */
import { Context, Effect, Layer } from "effect"
import type { StoredObject } from "../../src/store/objects.ts"

export type PlacementDecision =
  | {
      readonly _tag: "Placed"
      /** Host object name, or "default" for the single-server default. */
      readonly host: string
      readonly dnsSuffix: string
      /** Coolify server uuid observed for the host; undefined = Coolify's configured default. */
      readonly coolifyServerUuid?: string
      /** gVisor (runsc) available on the host: the App controller adds --runtime=runsc. */
      readonly gvisor: boolean
    }
  | {
      readonly _tag: "Unplaced"
      /** Condition reason, e.g. NoCapacity, NoReadyHosts, HostNotFound. */
      readonly reason: string
      readonly message: string
    }

export class Placement extends Context.Service<Placement, {
  /** Decide (or confirm) the app's host. Idempotent: an app already placed keeps its host while it stays usable. */
  place(app: StoredObject<"App">): Effect.Effect<PlacementDecision>
}>()("deploy-mcp/controllers/placement/Placement") {
  static readonly layerSingleServer = (dnsSuffix: string) =>
    Layer.succeed(Placement, Placement.of({ place: () => Effect.succeed({ _tag: "Placed", host: "default", dnsSuffix, gvisor: false }) }))
  /** The local runtime: every app on this machine, the host named "local". */
  static readonly layerLocal = (dnsSuffix: string) =>
    Layer.succeed(Placement, Placement.of({ place: () => Effect.succeed({ _tag: "Placed", host: "local", dnsSuffix, gvisor: false }) }))
}
