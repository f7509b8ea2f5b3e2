/** The pino logger as an Effect service, so modules log without importing a global. */
import { Context, Layer } from "effect"
import type { Logger } from "./logger.ts"

export class AppLogger extends Context.Service<AppLogger, Logger>()("deploy-mcp/log/AppLogger") {
  static readonly layer = (logger: Logger) => Layer.succeed(AppLogger, logger)
}
