/**
 * Timings of the App controller. The defaults suit a real Coolify (builds take minutes, the API
 * allows ~200 calls a minute); tests and the benchmark shorten them.
 */
export interface AppControllerSettings {
  /** How soon a running deployment is looked at again. Every look shares one list call for all apps. */
  readonly deployPollMs: number
  /** The shared list of all apps is refreshed when older than this: the staleness a resync accepts. */
  readonly observeMaxAgeMs: number
  /** Shared list calls happen at most this often, however many reconciles ask for fresher data. */
  readonly listMinIntervalMs: number
  /** A deployment still `queued` after this long is reported, cancelled and queued again. */
  readonly stuckQueuedMs: number
  /** After a deployment finishes, a container that is not running yet is "Starting" this long, then "Crashed". */
  readonly startGraceMs: number
  /** How soon to look again while waiting for resources, a GitHub App install or placement. */
  readonly waitRetryMs: number
  /** How soon to look again while Coolify deletes an app (its delete is asynchronous). */
  readonly deletePollMs: number
  /** How soon to look again at an app that crashed or fails its health check. */
  readonly unhealthyRecheckMs: number
  /**
   * A create whose answer was lost may still complete in Coolify this long after it was sent (the
   * client's request timeout): only a list taken after that is trusted to show it is not there.
   */
  readonly createSettleMs: number
  /** Coolify's GitHub App sources are listed again after this long when one is missing. */
  readonly githubSourcesMaxAgeMs: number
  /** Deploy log lines quoted in a BuildFailed or Crashed message. */
  readonly failedLogLines: number
}

export const defaultAppControllerSettings: AppControllerSettings = {
  deployPollMs: 3_000,
  observeMaxAgeMs: 30_000,
  listMinIntervalMs: 2_000,
  stuckQueuedMs: 10 * 60_000,
  startGraceMs: 30_000,
  waitRetryMs: 15_000,
  deletePollMs: 3_000,
  unhealthyRecheckMs: 30_000,
  createSettleMs: 15_000,
  githubSourcesMaxAgeMs: 60_000,
  failedLogLines: 20
}

export const resolveAppControllerSettings = (overrides: Partial<AppControllerSettings> = {}): AppControllerSettings => ({
  ...defaultAppControllerSettings,
  ...overrides
})
