/**
 * A complete engine instance over a test database: its own pool and its own pg-boss, as a separate
 * replica would have. Several can run in one process to test cross-replica guarantees.
 */
import { randomBytes } from "node:crypto"
import { Layer, ManagedRuntime } from "effect"
import pg from "pg"
import type { AnyController } from "../../controllers/engine/controller.ts"
import { runControllers, type EngineOptions } from "../../controllers/engine/engine.ts"
import { ReconcileQueue, type QueueOptions } from "../../controllers/engine/queue.ts"
import { storeLayer } from "./layers.ts"

export interface EngineInstanceOptions {
  readonly url: string
  readonly key: Buffer
  readonly queue?: Partial<QueueOptions>
  readonly engine?: EngineOptions
}

export const engineLayers = <R>(pool: pg.Pool, options: EngineInstanceOptions, controllers: ReadonlyArray<AnyController<R>>) => {
  const base = storeLayer(pool, options.key)
  const queue = ReconcileQueue.layer({ connectionString: options.url, heartbeatSeconds: 10, monitorIntervalSeconds: 1, ...options.queue }).pipe(Layer.provideMerge(base))
  return runControllers(controllers, { resyncSeconds: 3600, ...options.engine }).pipe(Layer.provideMerge(queue))
}

/** Starts an engine replica; `dispose()` shuts it down gracefully and closes its pool. */
export const startEngine = async <R>(options: EngineInstanceOptions, controllers: ReadonlyArray<AnyController<R>>) => {
  const pool = new pg.Pool({ connectionString: options.url, max: 10 })
  pool.on("error", () => {})
  const runtime = ManagedRuntime.make(engineLayers(pool, options, controllers) as Layer.Layer<ReconcileQueue | Layer.Success<ReturnType<typeof storeLayer>>, unknown, never>)
  await runtime.context()
  return {
    runtime,
    pool,
    dispose: async () => {
      await runtime.dispose()
      await pool.end()
    }
  }
}

export const newKey = () => randomBytes(32)
