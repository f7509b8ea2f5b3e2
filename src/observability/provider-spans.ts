/**
 * Provider calls counted from their request spans. The Coolify client reports every response
 * through its onEvent hook; the Turso and GitHub clients have no such hook, but every request they
 * make runs inside one span named after the operation (`TursoApi.<operationId>`,
 * `GitHubApi.<group>/<operation>` — src/providers/{turso,github}/request.ts). Those spans are the
 * one point every call passes, so their end is counted: status "ok", or the typed error's tag.
 */
import { Cause, Exit, Option } from "effect"
import type { MetricsService } from "./metrics.ts"
import type { SpanEnd } from "./tracing.ts"

interface ProviderCall {
  readonly provider: string
  readonly endpoint: string
}

/** Which spans are single provider requests (not the service methods that wrap them). */
export const providerCallOf = (spanName: string): ProviderCall | undefined => {
  const turso = /^TursoApi\.(\w+)$/.exec(spanName)
  if (turso?.[1]) return { provider: "turso", endpoint: turso[1] }
  const github = /^GitHubApi\.([\w-]+\/[\w/-]+)$/.exec(spanName)
  if (github?.[1]) return { provider: "github", endpoint: github[1] }
  return undefined
}

const statusOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  if (Cause.hasInterruptsOnly(exit.cause)) return "interrupted"
  const error = Cause.findErrorOption(exit.cause)
  const tag = Option.isSome(error) ? (error.value as { _tag?: unknown })?._tag : undefined
  return typeof tag === "string" ? tag : "defect"
}

export const countProviderSpans = (metrics: MetricsService) => (end: SpanEnd) => {
  const call = providerCallOf(end.name)
  if (call) metrics.recordProviderCall(call.provider, call.endpoint, statusOf(end.exit), end.seconds)
}
