/**
 * The services MCP tools run with: the platform's (stores, database, queue, config, logger) plus
 * what the endpoint adds — the shared LISTEN connection, API keys, object change signals — and
 * the hook implementations other parts of the system provide (hooks.ts).
 */
import { Layer, ManagedRuntime } from "effect"
import { appLogsLayer } from "../../controllers/app/logs.ts"
import { ApiKeyStore } from "../auth/api-key-store.ts"
import { ApiKeyVerifier, type VerifierOptions } from "../auth/api-key-verifier.ts"
import { gitHubAccountLayer, gitHubToolsLayer, type GitHubToolServices } from "../github/mcp.ts"
import type { Platform } from "../system/platform.ts"
import { ObjectChanges } from "./object-changes.ts"
import { PgListener } from "../db/pg-listener.ts"

export type McpServices = Platform | PgListener | ApiKeyStore | ApiKeyVerifier | ObjectChanges | GitHubToolServices

/**
 * Implementations of the hooks in hooks.ts (AppLogs, GitHubAccount) and services extra tools
 * need: add `Layer.succeed(AppLogs, …)` or a provider layer here. They may use any McpServices.
 */
const hookLayers: ReadonlyArray<Layer.Layer<never, never, McpServices>> = [appLogsLayer, gitHubAccountLayer]

export interface McpRuntimeOptions {
  readonly verifier?: VerifierOptions
}

export const mcpLayer = (platform: Layer.Layer<Platform>, options: McpRuntimeOptions = {}) => {
  const listener = PgListener.layer.pipe(Layer.provideMerge(platform))
  const keys = ApiKeyStore.layer.pipe(Layer.provideMerge(listener))
  const services = Layer.mergeAll(ApiKeyVerifier.layer(options.verifier), ObjectChanges.layer, gitHubToolsLayer).pipe(Layer.provideMerge(keys))
  return hookLayers.reduce<Layer.Layer<McpServices>>((layer, hook) => Layer.provideMerge(hook, layer), services)
}

/** A runtime over an already running platform (its services are shared, not rebuilt). */
export const makeMcpRuntime = async (platform: ManagedRuntime.ManagedRuntime<Platform, unknown>, options: McpRuntimeOptions = {}) => {
  const context = await platform.context()
  return ManagedRuntime.make(mcpLayer(Layer.succeedContext(context), options))
}

export type McpRuntime = ManagedRuntime.ManagedRuntime<McpServices, never>
