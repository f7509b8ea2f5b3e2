/**
 * What the local runtime's reconcile needs from this machine, in its own words: processes that
 * run a build folder behind a health check, and a route table from host names to what serves
 * them. The providers in src/providers/local/ implement these; tests can too.
 */
import type { Effect } from "effect"

/** Same shape as the sandbox's limits (src/providers/local/sandbox.ts). */
export interface Limits {
  readonly memoryBytes?: number
  readonly cpus?: number
  readonly pids?: number
}

export interface StartRequest {
  readonly appId: string
  readonly deploymentId: string
  readonly dir: string
  readonly command: string
  readonly env: Readonly<Record<string, string>>
  readonly limits: Limits
  readonly healthPath: string
  readonly healthTimeoutMs: number
}

export interface StartFailure {
  readonly reason: "Exited" | "HealthCheckFailed" | "Timeout"
  readonly message: string
  readonly logTail: ReadonlyArray<string>
}

export interface InstanceState {
  readonly deploymentId: string
  readonly port: number
  readonly state: "running" | "restarting" | "stopped"
  readonly restarts: number
  readonly lastExit?: { readonly code: number | null; readonly signal: string | null; readonly at: string }
  readonly sandboxed: boolean
  readonly sandboxNote?: string
}

export interface LocalProcesses {
  /** Starts a deployment's process and resolves once its health check passes (or fails, with the evidence). */
  readonly start: (request: StartRequest) => Effect.Effect<InstanceState, StartFailure>
  /** SIGTERM, then SIGKILL after the grace period; resolves once it is gone. */
  readonly stop: (appId: string, deploymentId: string) => Effect.Effect<void>
  readonly stopApp: (appId: string) => Effect.Effect<void>
  /** The instance of this deployment, if this process runs it. */
  readonly instance: (appId: string, deploymentId: string) => InstanceState | undefined
  /** Called whenever an instance crashes, restarts or stops on its own: the runtime wakes the app. */
  readonly onChange: (listener: (appId: string) => void) => void
}

export type RouteTarget =
  | { readonly kind: "proxy"; readonly port: number }
  | { readonly kind: "static"; readonly root: string }
  | { readonly kind: "unavailable"; readonly message: string }

export interface LocalRoutes {
  readonly set: (host: string, target: RouteTarget) => void
  readonly remove: (host: string) => void
  /** Resolves once no request routed to `port` is still open, or after timeoutMs. */
  readonly drained: (port: number, timeoutMs: number) => Promise<void>
}
