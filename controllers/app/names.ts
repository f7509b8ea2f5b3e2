/**
 * Names an App has outside this system: its Coolify application name (deterministic, so a create
 * whose answer was lost is found again by name and adopted, never made twice), the Coolify tag all
 * our apps carry (so one list call observes exactly them), and its public host and URL.
 */
import { createHash } from "node:crypto"
import type { StoredObject } from "../../src/store/objects.ts"

type App = StoredObject<"App">

/** Every Coolify application this system creates carries this tag; the batch observe lists by it. */
export const COOLIFY_TAG = "deploy-mcp"

/**
 * `dm-<name>-<12 hex of sha256(owner, project, name)>`: stable for the object's life, unique across
 * tenants and projects, readable in Coolify's dashboard. A deleted App keeps its row (finalizer)
 * until Coolify confirms its app gone, so a new App of the same name never meets the old one.
 */
export const coolifyAppName = (owner: string, project: string, name: string): string =>
  `dm-${name}-${createHash("sha256").update(`${owner}\n${project}\n${name}`).digest("hex").slice(0, 12)}`

export const coolifyAppNameOf = (app: App): string => coolifyAppName(app.metadata.owner, app.metadata.project, app.metadata.name)

export const coolifyDescriptionOf = (app: App): string =>
  `Deploy MCP app ${app.metadata.project}/${app.metadata.name} (owner ${app.metadata.owner}, uid ${app.metadata.uid}). Managed by Deploy MCP: changes made here are overwritten.`

/** The host the app is served on: its custom domain, else `<name>.<dnsSuffix>` of its placement. */
export const appHostName = (app: App, dnsSuffix: string): string => app.spec.domain ?? `${app.metadata.name}.${dnsSuffix}`

export const appUrl = (hostName: string): string => `https://${hostName}`
