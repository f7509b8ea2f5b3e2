/**
 * The desired-state store (DESIGN.md §2–3): typed repository over the `objects` table.
 *
 * Every function takes the tenant (`owner`) explicitly and every query filters on it, so no call
 * can read or write across tenants. Writes that should be enqueued run inside
 * `Database.transaction` together with the queue send (see controllers/engine/queue.ts).
 */
import { Context, Effect, Layer, Option, Result, Schema } from "effect"
import type pg from "pg"
import { API_VERSION, APP_SECRET_SPEC_KEYS, DEFAULT_PROJECT, SpecByKind, type Kind, type Metadata, type SpecOf, type StatusOf } from "../../schemas/index.ts"
import { Database, type DatabaseError } from "../db/database.ts"
import { SecretBox, type SecretBoxService } from "../crypto/secret-box.ts"
import { canonicalJson } from "./canonical-json.ts"
import { Conflict, InvalidSpec, NameTaken, ObjectNotFound } from "./errors.ts"

/** Tenant id (a user's uuid). Host objects belong to PLATFORM_OWNER. */
export type Owner = string
export const PLATFORM_OWNER: Owner = "00000000-0000-0000-0000-000000000000"

export interface StoredObject<K extends Kind = Kind> {
  readonly apiVersion: typeof API_VERSION
  readonly kind: K
  readonly metadata: Metadata
  readonly spec: SpecOf[K]
  readonly status: StatusOf[K]
}

export interface ObjectRef<K extends Kind = Kind> {
  readonly kind: K
  readonly project?: string
  readonly name: string
}

export interface NewObject<K extends Kind> extends ObjectRef<K> {
  readonly spec: SpecOf[K]
  readonly labels?: Record<string, string>
  readonly annotations?: Record<string, string>
  readonly finalizers?: ReadonlyArray<string>
}

export interface ListOptions<K extends Kind> {
  readonly kind: K
  readonly project?: string
  readonly limit?: number
  /** Opaque cursor from a previous page's `next`. */
  readonly after?: string
}

export interface Page<T> {
  readonly items: ReadonlyArray<T>
  readonly next?: string
}

export interface SpecUpdate<K extends Kind> {
  readonly object: StoredObject<K>
  /** False when the new spec equals the old one: generation was not bumped (DESIGN.md §3). */
  readonly changed: boolean
}

export interface MetadataPatch {
  readonly annotations?: Record<string, string | null>
  readonly addFinalizers?: ReadonlyArray<string>
}

/** What a controller's key is: the tenant and the object's uid. */
export interface ObjectKey {
  readonly owner: Owner
  readonly uid: string
}

type StoreError = DatabaseError

export class ObjectStore extends Context.Service<ObjectStore, {
  create<K extends Kind>(owner: Owner, input: NewObject<K>): Effect.Effect<StoredObject<K>, NameTaken | InvalidSpec | StoreError>
  get<K extends Kind>(owner: Owner, ref: ObjectRef<K>): Effect.Effect<StoredObject<K>, ObjectNotFound | StoreError>
  find<K extends Kind>(owner: Owner, ref: ObjectRef<K>): Effect.Effect<Option.Option<StoredObject<K>>, StoreError>
  getByUid(owner: Owner, uid: string): Effect.Effect<Option.Option<StoredObject>, StoreError>
  list<K extends Kind>(owner: Owner, options: ListOptions<K>): Effect.Effect<Page<StoredObject<K>>, StoreError>
  listNames(owner: Owner, kind: Kind, project?: string): Effect.Effect<ReadonlyArray<string>, StoreError>
  count(owner: Owner, kind: Kind): Effect.Effect<number, StoreError>
  updateSpec<K extends Kind>(
    owner: Owner,
    ref: ObjectRef<K>,
    update: (spec: SpecOf[K]) => SpecOf[K],
    options?: { readonly expectedResourceVersion?: number }
  ): Effect.Effect<SpecUpdate<K>, ObjectNotFound | Conflict | InvalidSpec | StoreError>
  updateStatus<K extends Kind>(owner: Owner, uid: string, expectedResourceVersion: number, status: StatusOf[K]): Effect.Effect<StoredObject<K>, Conflict | StoreError>
  updateMetadata(owner: Owner, uid: string, expectedResourceVersion: number, patch: MetadataPatch): Effect.Effect<StoredObject, Conflict | StoreError>
  /** Sets deletionTimestamp (once); an object without finalizers is deleted at once. */
  markForDeletion<K extends Kind>(owner: Owner, ref: ObjectRef<K>): Effect.Effect<{ readonly object: StoredObject<K>; readonly deleted: boolean }, ObjectNotFound | StoreError>
  /** Removes one finalizer; the row is deleted when it was being deleted and none are left. */
  removeFinalizer(owner: Owner, uid: string, finalizer: string): Effect.Effect<{ readonly deleted: boolean }, StoreError>
  /** Keys of every object of a kind, for the engine's periodic resync (a system-level read). */
  listKeysForResync(kind: Kind): Effect.Effect<ReadonlyArray<ObjectKey>, StoreError>
}>()("deploy-mcp/store/ObjectStore") {
  static readonly layer = Layer.effect(
    ObjectStore,
    Effect.gen(function*() {
      return makeObjectStore(yield* Database, yield* SecretBox)
    })
  )
}

interface ObjectRow {
  uid: string
  kind: Kind
  owner: string
  project: string
  name: string
  generation: string
  resource_version: string
  spec: Record<string, unknown>
  spec_secrets: Buffer | null
  status: Record<string, unknown>
  labels: Record<string, string>
  annotations: Record<string, string>
  finalizers: Array<string>
  created_at: Date
  deletion_timestamp: Date | null
}

const COLUMNS = "uid, kind, owner, project, name, generation, resource_version, spec, spec_secrets, status, labels, annotations, finalizers, created_at, deletion_timestamp"

const secretKeysOf = (kind: Kind): ReadonlyArray<string> => (kind === "App" ? APP_SECRET_SPEC_KEYS : [])

const isUniqueViolation = (error: DatabaseError) => error.code === "23505"

const describeRef = (ref: ObjectRef) => `${ref.kind} '${ref.name}' in project '${ref.project ?? DEFAULT_PROJECT}'`

export const makeObjectStore = (db: Database["Service"], box: SecretBoxService): ObjectStore["Service"] => {
  /** Split a spec into its public part (jsonb) and its sealed secret part (bytea). */
  const sealSpec = (kind: Kind, uid: string, spec: Record<string, unknown>) => {
    const secretKeys = secretKeysOf(kind)
    if (secretKeys.length === 0) return { publicSpec: spec, sealed: null }
    const publicSpec: Record<string, unknown> = {}
    const secret: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(spec)) (secretKeys.includes(key) ? secret : publicSpec)[key] = value
    return { publicSpec, sealed: box.seal(JSON.stringify(secret), uid) }
  }

  const toObject = <K extends Kind>(row: ObjectRow): StoredObject<K> => {
    const secret = row.spec_secrets ? (JSON.parse(box.open(row.spec_secrets, row.uid)) as Record<string, unknown>) : {}
    const metadata: Metadata = {
      uid: row.uid,
      owner: row.owner,
      project: row.project,
      name: row.name,
      generation: Number(row.generation),
      resourceVersion: Number(row.resource_version),
      createdAt: row.created_at.toISOString(),
      ...(row.deletion_timestamp ? { deletionTimestamp: row.deletion_timestamp.toISOString() } : {}),
      finalizers: row.finalizers,
      labels: row.labels,
      annotations: row.annotations
    }
    return {
      apiVersion: API_VERSION,
      kind: row.kind as K,
      metadata,
      spec: { ...row.spec, ...secret } as SpecOf[K],
      status: row.status as StatusOf[K]
    }
  }

  const validateSpec = <K extends Kind>(kind: K, spec: unknown): Effect.Effect<SpecOf[K], InvalidSpec> => {
    const decoded = Schema.decodeUnknownResult(SpecByKind[kind] as unknown as Schema.Codec<SpecOf[K], unknown>)(spec, { errors: "all", onExcessProperty: "error" })
    return Result.isSuccess(decoded)
      ? Effect.succeed(decoded.success)
      : Effect.fail(new InvalidSpec({ kind, message: `Invalid ${kind} spec: ${decoded.failure.message}` }))
  }

  const selectOne = (sql: string, values: ReadonlyArray<unknown>) =>
    db.query<ObjectRow>(sql, values).pipe(Effect.map((result) => Option.fromNullishOr(result.rows[0])))

  const find = <K extends Kind>(owner: Owner, ref: ObjectRef<K>) =>
    selectOne(`SELECT ${COLUMNS} FROM objects WHERE owner = $1 AND project = $2 AND kind = $3 AND name = $4`, [
      owner,
      ref.project ?? DEFAULT_PROJECT,
      ref.kind,
      ref.name
    ]).pipe(Effect.map(Option.map((row) => toObject<K>(row))))

  const notFound = (ref: ObjectRef) =>
    new ObjectNotFound({ kind: ref.kind, project: ref.project ?? DEFAULT_PROJECT, name: ref.name, message: `${describeRef(ref)} not found` })

  const get = <K extends Kind>(owner: Owner, ref: ObjectRef<K>) =>
    find(owner, ref).pipe(Effect.flatMap(Option.match({ onNone: () => Effect.fail(notFound(ref)), onSome: Effect.succeed })))

  const conflict = (uid: string, expected: number) =>
    new Conflict({ uid, expected, message: `object ${uid} changed since resourceVersion ${expected} was read; read it again and retry` })

  const create = <K extends Kind>(owner: Owner, input: NewObject<K>) =>
    Effect.gen(function*() {
      const spec = yield* validateSpec(input.kind, input.spec)
      const uid = crypto.randomUUID()
      const { publicSpec, sealed } = sealSpec(input.kind, uid, spec as Record<string, unknown>)
      const project = input.project ?? DEFAULT_PROJECT
      const result = yield* db
        .query<ObjectRow>(
          `INSERT INTO objects (uid, kind, owner, project, name, spec, spec_secrets, labels, annotations, finalizers)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
          [uid, input.kind, owner, project, input.name, publicSpec, sealed, input.labels ?? {}, input.annotations ?? {}, input.finalizers ?? []]
        )
        .pipe(
          Effect.mapError((error): NameTaken | DatabaseError =>
            isUniqueViolation(error)
              ? new NameTaken({ kind: input.kind, project, name: input.name, message: `${describeRef(input)} already exists` })
              : error
          )
        )
      return toObject<K>(result.rows[0] as ObjectRow)
    })

  const getByUid = (owner: Owner, uid: string) =>
    selectOne(`SELECT ${COLUMNS} FROM objects WHERE owner = $1 AND uid = $2`, [owner, uid]).pipe(Effect.map(Option.map((row) => toObject(row))))

  const list = <K extends Kind>(owner: Owner, options: ListOptions<K>) =>
    Effect.gen(function*() {
      const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000)
      const [afterProject, afterName] = options.after ? (JSON.parse(Buffer.from(options.after, "base64url").toString()) as [string, string]) : ["", ""]
      const result = yield* db.query<ObjectRow>(
        `SELECT ${COLUMNS} FROM objects
          WHERE owner = $1 AND kind = $2 AND ($3::text IS NULL OR project = $3) AND (project, name) > ($4, $5)
          ORDER BY project, name LIMIT $6`,
        [owner, options.kind, options.project ?? null, afterProject, afterName, limit + 1]
      )
      const rows = result.rows.slice(0, limit)
      const last = rows[rows.length - 1]
      const next = result.rows.length > limit && last ? Buffer.from(JSON.stringify([last.project, last.name])).toString("base64url") : undefined
      return { items: rows.map((row) => toObject<K>(row)), ...(next ? { next } : {}) }
    })

  const listNames = (owner: Owner, kind: Kind, project?: string) =>
    db
      .query<{ name: string }>(`SELECT name FROM objects WHERE owner = $1 AND kind = $2 AND ($3::text IS NULL OR project = $3) ORDER BY name LIMIT 50`, [
        owner,
        kind,
        project ?? null
      ])
      .pipe(Effect.map((result) => result.rows.map((row) => row.name)))

  const count = (owner: Owner, kind: Kind) =>
    db
      .query<{ n: string }>(`SELECT count(*) AS n FROM objects WHERE owner = $1 AND kind = $2`, [owner, kind])
      .pipe(Effect.map((result) => Number(result.rows[0]?.n ?? 0)))

  const updateSpec = <K extends Kind>(
    owner: Owner,
    ref: ObjectRef<K>,
    update: (spec: SpecOf[K]) => SpecOf[K],
    options: { readonly expectedResourceVersion?: number } = {}
  ) =>
    db.transaction(
      Effect.gen(function*() {
        const row = yield* selectOne(`SELECT ${COLUMNS} FROM objects WHERE owner = $1 AND project = $2 AND kind = $3 AND name = $4 FOR UPDATE`, [
          owner,
          ref.project ?? DEFAULT_PROJECT,
          ref.kind,
          ref.name
        ])
        if (Option.isNone(row)) return yield* Effect.fail(notFound(ref))
        const current = toObject<K>(row.value)
        if (options.expectedResourceVersion !== undefined && current.metadata.resourceVersion !== options.expectedResourceVersion) {
          return yield* Effect.fail(conflict(current.metadata.uid, options.expectedResourceVersion))
        }
        const next = yield* validateSpec(ref.kind, update(current.spec))
        if (canonicalJson(next) === canonicalJson(current.spec)) return { object: current, changed: false }
        const { publicSpec, sealed } = sealSpec(ref.kind, current.metadata.uid, next as Record<string, unknown>)
        const result = yield* db.query<ObjectRow>(
          `UPDATE objects SET spec = $3, spec_secrets = $4, generation = generation + 1, resource_version = resource_version + 1, updated_at = now()
            WHERE owner = $1 AND uid = $2 RETURNING ${COLUMNS}`,
          [owner, current.metadata.uid, publicSpec, sealed]
        )
        return { object: toObject<K>(result.rows[0] as ObjectRow), changed: true }
      })
    )

  const conditionalUpdate = (owner: Owner, uid: string, expected: number, set: string, values: ReadonlyArray<unknown>) =>
    db
      .query<ObjectRow>(
        `UPDATE objects SET ${set}, resource_version = resource_version + 1, updated_at = now()
          WHERE owner = $1 AND uid = $2 AND resource_version = $3 RETURNING ${COLUMNS}`,
        [owner, uid, expected, ...values]
      )
      .pipe(Effect.flatMap((result) => (result.rows[0] ? Effect.succeed(toObject(result.rows[0])) : Effect.fail(conflict(uid, expected)))))

  const updateStatus = <K extends Kind>(owner: Owner, uid: string, expected: number, status: StatusOf[K]) =>
    conditionalUpdate(owner, uid, expected, "status = $4", [status]) as Effect.Effect<StoredObject<K>, Conflict | DatabaseError>

  const updateMetadata = (owner: Owner, uid: string, expected: number, patch: MetadataPatch) => {
    const set = Object.fromEntries(Object.entries(patch.annotations ?? {}).filter(([, value]) => value !== null))
    const unset = Object.entries(patch.annotations ?? {}).filter(([, value]) => value === null).map(([key]) => key)
    return conditionalUpdate(
      owner,
      uid,
      expected,
      `annotations = (annotations - $5::text[]) || $4::jsonb,
       finalizers = ARRAY(SELECT DISTINCT unnest(finalizers || $6::text[]) ORDER BY 1)`,
      [set, unset, patch.addFinalizers ?? []]
    )
  }

  const markForDeletion = <K extends Kind>(owner: Owner, ref: ObjectRef<K>) =>
    db.transaction(
      Effect.gen(function*() {
        const result = yield* db.query<ObjectRow>(
          `UPDATE objects SET deletion_timestamp = coalesce(deletion_timestamp, now()),
                  resource_version = resource_version + (CASE WHEN deletion_timestamp IS NULL THEN 1 ELSE 0 END), updated_at = now()
            WHERE owner = $1 AND project = $2 AND kind = $3 AND name = $4 RETURNING ${COLUMNS}`,
          [owner, ref.project ?? DEFAULT_PROJECT, ref.kind, ref.name]
        )
        const row = result.rows[0]
        if (!row) return yield* Effect.fail(notFound(ref))
        if (row.finalizers.length > 0) return { object: toObject<K>(row), deleted: false }
        yield* db.query(`DELETE FROM objects WHERE owner = $1 AND uid = $2`, [owner, row.uid])
        return { object: toObject<K>(row), deleted: true }
      })
    )

  const removeFinalizer = (owner: Owner, uid: string, finalizer: string) =>
    db.transaction(
      Effect.gen(function*() {
        const result = yield* db.query<{ finalizers: Array<string>; deleting: boolean }>(
          `UPDATE objects SET finalizers = array_remove(finalizers, $3), resource_version = resource_version + 1, updated_at = now()
            WHERE owner = $1 AND uid = $2 RETURNING finalizers, deletion_timestamp IS NOT NULL AS deleting`,
          [owner, uid, finalizer]
        )
        const row = result.rows[0]
        if (!row) return { deleted: true }
        if (row.deleting && row.finalizers.length === 0) {
          yield* db.query(`DELETE FROM objects WHERE owner = $1 AND uid = $2`, [owner, uid])
          return { deleted: true }
        }
        return { deleted: false }
      })
    )

  const listKeysForResync = (kind: Kind) =>
    db
      .query<ObjectKey>(`SELECT owner, uid FROM objects WHERE kind = $1`, [kind])
      .pipe(Effect.map((result) => result.rows.map((row) => ({ owner: row.owner, uid: row.uid }))))

  return ObjectStore.of({
    create,
    get,
    find,
    getByUid,
    list,
    listNames,
    count,
    updateSpec,
    updateStatus,
    updateMetadata,
    markForDeletion,
    removeFinalizer,
    listKeysForResync
  })
}

export type { pg }
