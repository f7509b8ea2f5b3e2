/**
 * The services every part of the server shares — database, encryption, stores, queue, logger,
 * config — as one layer. Controllers and HTTP routes are built on top of it.
 */
import { Layer } from "effect"
import type pg from "pg"
import { ReconcileQueue } from "../../controllers/engine/queue.ts"
import { AppConfig, type AppConfigValues } from "../config/config.ts"
import { SecretBox } from "../crypto/secret-box.ts"
import { Database } from "../db/database.ts"
import { AppLogger } from "../log/service.ts"
import type { Logger } from "../log/logger.ts"
import { EventStore } from "../store/events.ts"
import { ObjectStore } from "../store/objects.ts"
import { UserStore } from "../store/users.ts"
import { CredentialStore } from "../store/credentials.ts"

export interface PlatformInputs {
  readonly config: AppConfigValues
  readonly databaseUrl: string
  readonly pool: pg.Pool
  readonly encryptionKey: Buffer
  readonly previousKeys?: ReadonlyArray<Buffer>
  readonly logger: Logger
  /** Test knobs for the queue (heartbeat, monitor interval). */
  readonly queue?: { readonly heartbeatSeconds?: number; readonly monitorIntervalSeconds?: number }
}

export const platformLayer = (inputs: PlatformInputs) => {
  const base = Layer.mergeAll(
    AppConfig.layer(inputs.config),
    Database.fromPool(inputs.pool),
    SecretBox.layer(inputs.encryptionKey, inputs.previousKeys ?? []),
    AppLogger.layer(inputs.logger)
  )
  const stores = Layer.mergeAll(ObjectStore.layer, EventStore.layer, UserStore.layer, CredentialStore.layer).pipe(Layer.provideMerge(base))
  const queue = ReconcileQueue.layer({ connectionString: inputs.databaseUrl, ...inputs.queue }).pipe(Layer.provideMerge(stores))
  return queue
}

export type Platform = Layer.Success<ReturnType<typeof platformLayer>>
