/** What every HTTP route module receives: the Effect runtime of the platform and its config. */
import type { ManagedRuntime } from "effect"
import type { AppConfigValues } from "../config/config.ts"
import type { Logger } from "../log/logger.ts"
import type { RouteTable } from "../providers/local/router.ts"
import type { Platform } from "../system/platform.ts"

export interface ServerContext {
  readonly runtime: ManagedRuntime.ManagedRuntime<Platform, unknown>
  readonly config: AppConfigValues
  readonly logger: Logger
  /** Base URL users reach this server at (PUBLIC_URL, or http://localhost:PORT). */
  readonly publicUrl: string
  /** The local runtime's route table: app hosts are answered from it before any API route. */
  readonly appRoutes?: RouteTable
}
