/**
 * What a failed provider call means for the reader of a Resource's status: a CamelCase reason, a
 * sentence saying what happened and what happens next, and how long to wait before trying again.
 */
import {
  ProviderConflict,
  ProviderInvalid,
  ProviderNotFound,
  ProviderRateLimited,
  ProviderUnauthorized,
  ProviderUnavailable,
  type DatabaseProviderError
} from "../../src/providers/database/index.ts"

export type ProviderFailure = DatabaseProviderError | ProviderNotFound

const FAILURE_CLASSES = [ProviderUnauthorized, ProviderConflict, ProviderUnavailable, ProviderRateLimited, ProviderInvalid, ProviderNotFound]

/** Provider failures are reported in status; anything else (database, conflicts) goes to the engine as is. */
export const isProviderFailure = <E>(error: E): error is Extract<E, ProviderFailure> => FAILURE_CLASSES.some((failure) => error instanceof failure)

export interface FailureReport {
  readonly reason: string
  readonly message: string
  /** Set when the provider said how long to wait; otherwise the engine's backoff decides. */
  readonly retryAfterMs?: number
}

const DEFAULT_RATE_LIMIT_WAIT_MS = 30_000

const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`)

export const describeFailure = (error: ProviderFailure): FailureReport => {
  const said = sentence(error.message)
  switch (error._tag) {
    case "ProviderUnauthorized":
      return {
        reason: "ProviderUnauthorized",
        message: `${said} The operator must fix the database provider's credentials (TURSO_ORG, TURSO_API_TOKEN); retrying with backoff until then.`
      }
    case "ProviderUnavailable":
      return { reason: "ProviderUnavailable", message: `${said} This is usually temporary; retrying with backoff.` }
    case "ProviderRateLimited": {
      const waitMs = error.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS
      return { reason: "RateLimited", message: `${said} Trying again in ${Math.ceil(waitMs / 1000)} s.`, retryAfterMs: waitMs }
    }
    case "ProviderInvalid":
      return { reason: "ProviderRejected", message: `${said} Retrying with backoff; if it persists, tell the operator.` }
    case "ProviderConflict":
      return {
        reason: "NameConflict",
        message: `${said} Remove the conflicting database at the provider, or delete this resource and create it under another name.`
      }
    case "ProviderNotFound":
      return { reason: "DatabaseMissing", message: `${said} It vanished while being set up; it will be created again.` }
  }
}
