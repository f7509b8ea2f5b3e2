/**
 * Hooks through which the engine reports what it does; the server wires them to Prometheus
 * (issue: operator surfaces). No-ops by default so the engine has no metrics dependency.
 */
export type ReconcileOutcome = "done" | "requeue" | "conflict" | "error" | "finalized" | "missing"

export interface EngineMetrics {
  reconciled(kind: string, outcome: ReconcileOutcome, seconds: number): void
  /** A failed key goes into backoff; `attempt` is the retry count pg-boss will use next. */
  backoff(kind: string, attempt: number): void
}

export const noMetrics: EngineMetrics = {
  reconciled: () => {},
  backoff: () => {}
}
