/**
 * Finding a tenant's objects by name, with the messages agents act on. Every query is scoped to
 * the caller's user id, so another tenant's object is indistinguishable from a missing one.
 */
import { Effect, Option } from "effect"
import { DEFAULT_PROJECT } from "../../schemas/index.ts"
import { Database } from "../db/database.ts"
import { ObjectStore, type Owner, type StoredObject } from "../store/objects.ts"
import { ToolError } from "./errors.ts"

export type TenantKind = "App" | "Resource"

const WORDS: Record<TenantKind, { one: string; many: string; create: string }> = {
  App: { one: "App", many: "apps", create: "create_app" },
  Resource: { one: "Resource", many: "resources", create: "create_resource" }
}

/** "App 'shop' not found in project 'default'. Existing apps: api, blog." */
export const notFoundMessage = (owner: Owner, kind: TenantKind, project: string | undefined, name: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const inProject = project ?? DEFAULT_PROJECT
    const names = yield* store.listNames(owner, kind, inProject)
    const words = WORDS[kind]
    const known = names.length > 0 ? `Existing ${words.many}: ${names.join(", ")}.` : `There are no ${words.many} in project '${inProject}' yet; create one with ${words.create}.`
    return `${words.one} '${name}' not found in project '${inProject}'. ${known}`
  })

/** The object, or a ToolError naming the ones that do exist. */
export const requireObject = <K extends TenantKind>(owner: Owner, kind: K, project: string | undefined, name: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const found = yield* store.find(owner, { kind, name, ...(project ? { project } : {}) })
    if (Option.isSome(found)) return found.value
    return yield* new ToolError({ message: yield* notFoundMessage(owner, kind, project, name) })
  })

/** Like requireObject, but an object already being deleted cannot be changed. */
export const requireLiveObject = <K extends TenantKind>(owner: Owner, kind: K, project: string | undefined, name: string) =>
  Effect.gen(function*() {
    const object = yield* requireObject(owner, kind, project, name)
    if (object.metadata.deletionTimestamp) return yield* new ToolError({ message: beingDeletedMessage(object) })
    return object
  })

export const beingDeletedMessage = (object: StoredObject) =>
  `${object.kind} '${object.metadata.name}' in project '${object.metadata.project}' is being deleted (since ${object.metadata.deletionTimestamp}) and cannot be changed. Wait until it no longer appears in ${object.kind === "App" ? "list_apps" : "list_resources"}, then create it again, or use another name.`

/** Names of the tenant's apps in `project` whose resourceRefs include `resource`. */
export const appsReferencing = (owner: Owner, project: string, resource: string) =>
  Database.use((db) =>
    db.query<{ name: string }>(
      `SELECT name FROM objects WHERE owner = $1 AND project = $2 AND kind = 'App' AND spec->'resourceRefs' ? $3 ORDER BY name`,
      [owner, project, resource]
    )
  ).pipe(Effect.map((result) => result.rows.map((row) => row.name)))

/**
 * Serialise, until the surrounding transaction ends, every write that links apps to these
 * resources or deletes them: delete_resource's "no app references it" check and create_app's
 * "the resource exists" check then cannot interleave. Must run inside a transaction.
 */
export const lockResourceNames = (owner: Owner, project: string, names: ReadonlyArray<string>) =>
  Effect.forEach(
    [...new Set(names)].sort(),
    (name) =>
      Database.use((db) => db.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`resource:${owner}/${project}/${name}`])),
    { discard: true }
  )

/** Every object of a kind the tenant has (in one project, or in all when project is undefined). */
export const listAll = <K extends TenantKind>(owner: Owner, kind: K, project: string | undefined) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const items: Array<StoredObject<K>> = []
    let after: string | undefined
    do {
      const page = yield* store.list(owner, { kind, limit: 500, ...(project ? { project } : {}), ...(after ? { after } : {}) })
      items.push(...page.items)
      after = page.next
    } while (after)
    return items
  })
