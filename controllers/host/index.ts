/** Hosts: the Host controller, the host-aware Placement layer, and what the registry wires up. */
import { Layer, Redacted } from "effect"
import type { AppConfigValues } from "../../src/config/config.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import { HostShell } from "../../src/providers/ssh/index.ts"
import { CoolifyServerDirectory } from "./coolify-servers.ts"
import { makeHostController } from "./controller.ts"
import { hostPlacementLayer } from "./placement.ts"

export { makeHostController, type HostControllerSettings } from "./controller.ts"
export { HostAnnotations } from "./annotations.ts"
export { HostCheckFailed } from "./errors.ts"
export { CoolifyServerDirectory, type CoolifyServerLookup } from "./coolify-servers.ts"
export { decidePlacement, hostPlacementLayer, hostView, type AppView, type HostView, type PlacementInput } from "./placement.ts"
export { listAppPlacementsAcrossTenants, DEFAULT_HOST, type PlacedApp } from "./placements-store.ts"
export { appRequest, DEFAULT_APP_REQUEST, type Resources } from "./capacity.ts"

/** SSH_PRIVATE_KEY as given; a key pasted on one line with literal "\n" sequences is unfolded. */
export const privateKeyFromConfig = (value: string | undefined): Redacted.Redacted<string> | undefined => {
  if (value === undefined) return undefined
  const key = value.includes("\n") ? value : value.replaceAll("\\n", "\n")
  return Redacted.make(key.endsWith("\n") ? key : `${key}\n`)
}

export const hostControllerFromConfig = (config: AppConfigValues) => makeHostController({ privateKey: privateKeyFromConfig(config.SSH_PRIVATE_KEY) })

/** What the Host controller needs besides the platform: SSH, and Coolify's server list when configured. */
export const hostProvidersLayer = (config: AppConfigValues) =>
  Layer.mergeAll(
    HostShell.layer,
    config.COOLIFY_URL !== undefined && config.COOLIFY_TOKEN !== undefined
      ? CoolifyServerDirectory.layer.pipe(Layer.provide(CoolifyApi.layer({ url: config.COOLIFY_URL, token: config.COOLIFY_TOKEN })))
      : CoolifyServerDirectory.notConfigured
  )

export type HostProviders = Layer.Success<ReturnType<typeof hostProvidersLayer>>

/** The Placement service for the App controller: Hosts when there are run Hosts, else APP_DNS_SUFFIX. */
export const placementLayerFromConfig = (config: AppConfigValues) => hostPlacementLayer({ fallbackDnsSuffix: config.APP_DNS_SUFFIX })
