/**
 * The append-only event history per object (DESIGN.md §2 Events). A repeat of the same
 * (type, reason, message) bumps `count` and `lastSeen` instead of adding a row.
 */
import { Context, Effect, Layer } from "effect"
import type { EventType, ObjectEvent } from "../../schemas/index.ts"
import { Database, type DatabaseError } from "../db/database.ts"
import type { Owner } from "./objects.ts"

export interface NewEvent {
  readonly type: EventType
  readonly reason: string
  readonly message: string
}

export interface EventWithObject extends ObjectEvent {
  readonly objectUid: string
  readonly objectName: string
  readonly objectKind: string
}

export class EventStore extends Context.Service<EventStore, {
  record(owner: Owner, uid: string, event: NewEvent): Effect.Effect<void, DatabaseError>
  list(owner: Owner, uid: string, limit?: number): Effect.Effect<ReadonlyArray<ObjectEvent>, DatabaseError>
  /** Recent events of a tenant (or of every tenant for the operator CLI when owner is null). */
  recent(owner: Owner | null, options?: { readonly name?: string; readonly limit?: number; readonly since?: Date }): Effect.Effect<ReadonlyArray<EventWithObject>, DatabaseError>
}>()("deploy-mcp/store/EventStore") {
  static readonly layer = Layer.effect(
    EventStore,
    Effect.gen(function*() {
      return makeEventStore(yield* Database)
    })
  )
}

interface EventRow {
  type: EventType
  reason: string
  message: string
  count: number
  first_seen: Date
  last_seen: Date
  object_uid: string
  object_name: string
  object_kind: string
}

const toEvent = (row: EventRow): ObjectEvent => ({
  type: row.type,
  reason: row.reason,
  message: row.message,
  count: row.count,
  firstSeen: row.first_seen.toISOString(),
  lastSeen: row.last_seen.toISOString()
})

/** Messages are bounded so a provider's huge error body cannot bloat the table. */
const MAX_MESSAGE = 2000

export const makeEventStore = (db: Database["Service"]): EventStore["Service"] =>
  EventStore.of({
    record: (owner, uid, event) =>
      db
        .query(
          `INSERT INTO events (object_uid, owner, type, reason, message)
           SELECT uid, owner, $3, $4, $5 FROM objects WHERE owner = $1 AND uid = $2
           ON CONFLICT ON CONSTRAINT events_dedup DO UPDATE SET count = events.count + 1, last_seen = now()`,
          [owner, uid, event.type, event.reason, event.message.slice(0, MAX_MESSAGE)]
        )
        .pipe(Effect.asVoid),
    list: (owner, uid, limit = 20) =>
      db
        .query<EventRow>(
          `SELECT type, reason, message, count, first_seen, last_seen FROM events WHERE owner = $1 AND object_uid = $2 ORDER BY last_seen DESC, id DESC LIMIT $3`,
          [owner, uid, limit]
        )
        .pipe(Effect.map((result) => result.rows.map(toEvent))),
    recent: (owner, options = {}) =>
      db
        .query<EventRow>(
          `SELECT e.type, e.reason, e.message, e.count, e.first_seen, e.last_seen, e.object_uid, o.name AS object_name, o.kind AS object_kind
             FROM events e JOIN objects o ON o.uid = e.object_uid
            WHERE ($1::uuid IS NULL OR e.owner = $1) AND ($2::text IS NULL OR o.name = $2) AND ($3::timestamptz IS NULL OR e.last_seen > $3)
            ORDER BY e.last_seen DESC, e.id DESC LIMIT $4`,
          [owner, options.name ?? null, options.since ?? null, options.limit ?? 50]
        )
        .pipe(
          Effect.map((result) =>
            result.rows.map((row) => ({ ...toEvent(row), objectUid: row.object_uid, objectName: row.object_name, objectKind: row.object_kind }))
          )
        )
  })
