/**
 * `host add|list|remove|trust-key`: the operator declares run and build servers. Hosts belong to
 * the platform (PLATFORM_OWNER); every write goes through the desired-state write path, so the
 * Host controller is enqueued in the same transaction and reports conditions within moments.
 */
import { Effect, Schedule } from "effect"
import { HostAnnotations } from "../../../controllers/host/annotations.ts"
import { listAppPlacementsAcrossTenants, DEFAULT_HOST } from "../../../controllers/host/placements-store.ts"
import { listHosts as allHosts } from "../../../controllers/host/placement.ts"
import { findCondition } from "../../../controllers/engine/conditions.ts"
import { ReconcileQueue } from "../../../controllers/engine/queue.ts"
import type { HostSpec } from "../../../schemas/index.ts"
import { createObject, deleteObject, inTransaction } from "../../desired/write.ts"
import { ObjectStore, PLATFORM_OWNER } from "../../store/objects.ts"
import { columnsFor } from "../output/columns.ts"
import { renderTable } from "../output/table.ts"
import { parseCommandLine, runCommand } from "./command.ts"
import { CliFailure, UsageError, type CliIo } from "./io.ts"
import { withSession } from "./session.ts"

export const usage = `Usage: deploy-mcp host COMMAND [options]

Commands:
  add        declare a host; the controller connects, checks and reports its conditions
  list       hosts with Ready, capacity and allocation
  remove     NAME [--force]: forget a host (refused while apps are placed on it, unless --force)
  trust-key  NAME [--fingerprint SHA256:...]: accept the SSH host key a host now presents

Options for add (* required):
    * --name NAME                 host name (a DNS label, not "default")
    * --address ADDR              IP address or DNS name the platform reaches over SSH
      --port N                    SSH port (default 22)
      --user USER                 SSH user (default root; others need passwordless sudo to apply hardening)
      --role run|build            run: apps are placed here (default); build: builds only
    * --dns-suffix SUFFIX         apps here get <app>.<SUFFIX>, e.g. s1.example.com
    * --capacity-cpu N            CPUs apps may request in total, e.g. 4
    * --capacity-memory SIZE      memory apps may request in total, e.g. 8G
      --hardening-profile NAME    hardening profile checked for readiness (default "default")
      --no-hardening              do not check hardening (the host is Ready without it)
      --apply-hardening           copy the profile to the host and apply it when it drifts
      --host-key SHA256:...       pin the host key now instead of trusting the first one seen

Example:
  deploy-mcp host add --name s1 --address 203.0.113.7 --role run --dns-suffix s1.example.com \\
    --capacity-cpu 4 --capacity-memory 8G --apply-hardening
`

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/

export interface AddHostRequest {
  readonly name: string
  readonly spec: HostSpec
  readonly hostKey?: string | undefined
}

const REQUIRED_ADD_FLAGS = ["name", "address", "dns-suffix", "capacity-cpu", "capacity-memory"] as const

const given = (values: Record<string, unknown>, flag: string): string | undefined => {
  const value = values[flag]
  return typeof value === "string" && value !== "" ? value : undefined
}

const required = (values: Record<string, unknown>, flag: string): string => {
  const value = given(values, flag)
  if (value === undefined) throw new UsageError({ message: `--${flag} is required` })
  return value
}

const checkFingerprint = (fingerprint: string): string => {
  if (!FINGERPRINT.test(fingerprint)) {
    throw new UsageError({ message: `'${fingerprint}' is not an SSH SHA256 fingerprint (SHA256: followed by 43 base64 characters, as ssh-keygen -l prints it)` })
  }
  return fingerprint
}

export const parseAdd = (args: ReadonlyArray<string>): AddHostRequest => {
  const { values, positionals } = parseCommandLine(args, {
    name: { type: "string" },
    address: { type: "string" },
    port: { type: "string" },
    user: { type: "string" },
    role: { type: "string" },
    "dns-suffix": { type: "string" },
    "capacity-cpu": { type: "string" },
    "capacity-memory": { type: "string" },
    "hardening-profile": { type: "string" },
    "no-hardening": { type: "boolean" },
    "apply-hardening": { type: "boolean" },
    "host-key": { type: "string" }
  })
  if (positionals.length) throw new UsageError({ message: `unexpected arguments: ${positionals.join(" ")}` })
  // Every missing required flag at once, not one per attempt.
  const missing = REQUIRED_ADD_FLAGS.filter((flag) => given(values, flag) === undefined)
  if (missing.length > 0) {
    throw new UsageError({ message: `missing required ${missing.length === 1 ? "flag" : "flags"}: ${missing.map((flag) => `--${flag}`).join(", ")} (see deploy-mcp host --help)` })
  }
  const name = required(values, "name")
  if (name === DEFAULT_HOST) throw new UsageError({ message: `"${DEFAULT_HOST}" names the single-server default placement; choose another host name` })
  const port = values.port === undefined ? 22 : Number(values.port)
  const role = values.role ?? "run"
  if (role !== "run" && role !== "build") throw new UsageError({ message: `--role must be run or build, not '${role}'` })
  if (values["no-hardening"] && (values["hardening-profile"] !== undefined || values["apply-hardening"])) {
    throw new UsageError({ message: "--no-hardening cannot be combined with --hardening-profile or --apply-hardening" })
  }
  const spec: HostSpec = {
    address: required(values, "address"),
    port,
    user: values.user ?? "root",
    role,
    dnsSuffix: required(values, "dns-suffix"),
    capacity: { cpu: required(values, "capacity-cpu"), memory: required(values, "capacity-memory") },
    ...(values["no-hardening"]
      ? {}
      : { hardening: { profile: values["hardening-profile"] ?? "default", ...(values["apply-hardening"] ? { apply: true } : {}) } })
  }
  return { name, spec, hostKey: values["host-key"] === undefined ? undefined : checkFingerprint(values["host-key"]) }
}

/** Creates the Host (validated by its schema) and enqueues it, in one transaction. */
export const addHost = (request: AddHostRequest) =>
  Effect.gen(function*() {
    const created = yield* createObject(PLATFORM_OWNER, {
      kind: "Host",
      name: request.name,
      spec: request.spec,
      ...(request.hostKey !== undefined ? { annotations: { [HostAnnotations.hostKey]: request.hostKey } } : {})
    })
    const { spec } = created
    return `host '${created.metadata.name}' created; the controller now connects to ${spec.user}@${spec.address}:${spec.port} and reports its conditions (deploy-mcp host list).\n`
  })

/** Every Host, as a table with Ready, reachability, hardening, capacity and allocation. */
export const listHosts = (now: Date) =>
  Effect.gen(function*() {
    const hosts = yield* allHosts
    if (hosts.length === 0) return "No hosts. Apps run on the single configured Coolify server (APP_DNS_SUFFIX) until a run host is added.\n"
    const columns = columnsFor("Host", { wide: true, showUser: false, showProject: false, now })
    return renderTable(columns, hosts.map((object) => ({ object, user: "platform" })))
  })

const getHost = (name: string) => ObjectStore.use((store) => store.get(PLATFORM_OWNER, { kind: "Host", name }))

/** Marks the Host for deletion; refused while apps occupy it unless `force`. */
export const removeHost = (name: string, force: boolean) =>
  Effect.gen(function*() {
    yield* getHost(name)
    const placed = yield* listAppPlacementsAcrossTenants({ host: name })
    if (placed.length > 0 && !force) {
      const shown = placed.slice(0, 10).map((app) => `${app.name} (project ${app.project}, owner ${app.owner})`)
      return yield* new CliFailure({
        message: `host '${name}' still runs ${placed.length} app(s): ${shown.join(", ")}${placed.length > 10 ? ", …" : ""}. Move or delete them first, or pass --force (they will be placed elsewhere).`
      })
    }
    yield* inTransaction(
      Effect.gen(function*() {
        yield* deleteObject(PLATFORM_OWNER, { kind: "Host", name })
        // Its apps are placed again on their next reconcile; make that now.
        const queue = yield* ReconcileQueue
        yield* Effect.forEach(placed, (app) => queue.enqueue("App", { owner: app.owner, uid: app.uid }), { discard: true })
      })
    )
    return `host '${name}' removed${placed.length > 0 ? `; ${placed.length} app(s) will be placed elsewhere` : ""}.\n`
  })

/**
 * Accepts a new host key. Without --fingerprint it only says what the host presents and how to
 * verify it: trusting a key is a decision the operator makes with the fingerprint in hand.
 */
export const trustHostKey = (name: string, fingerprint: string | undefined) =>
  Effect.gen(function*() {
    const host = yield* getHost(name)
    const pinned = host.metadata.annotations[HostAnnotations.hostKey]
    const presented = host.metadata.annotations[HostAnnotations.presentedHostKey]
    if (fingerprint === undefined) {
      return yield* new CliFailure({
        message:
          presented !== undefined
            ? `host '${name}' presents ${presented} (pinned: ${pinned ?? "none"}). Verify it on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run: deploy-mcp host trust-key ${name} --fingerprint ${presented}`
            : `host '${name}' presents no other key than the pinned ${pinned ?? "(none yet: the first key seen will be pinned)"}; nothing to trust.`
      })
    }
    if (presented !== undefined && presented !== fingerprint) {
      return yield* new CliFailure({ message: `host '${name}' presents ${presented}, not ${fingerprint}; nothing was changed.` })
    }
    yield* inTransaction(
      Effect.gen(function*() {
        const store = yield* ObjectStore
        const current = yield* store.get(PLATFORM_OWNER, { kind: "Host", name })
        yield* store.updateMetadata(PLATFORM_OWNER, current.metadata.uid, current.metadata.resourceVersion, {
          annotations: { [HostAnnotations.hostKey]: fingerprint, [HostAnnotations.presentedHostKey]: null }
        })
        yield* ReconcileQueue.use((queue) => queue.enqueue("Host", { owner: PLATFORM_OWNER, uid: current.metadata.uid }))
      })
    ).pipe(
      // The controller may write the host between our read and our write; read again.
      Effect.retry({ while: (error) => error._tag === "Conflict", schedule: Schedule.recurs(5) })
    )
    const ready = findCondition(host.status.conditions, "Ready")
    return `host '${name}' now trusts ${fingerprint}${ready?.status === "True" ? "" : "; the controller checks it again now"}.\n`
  })

const queueLayer = (connection: { readonly databaseUrl: string }) => ReconcileQueue.layer({ connectionString: connection.databaseUrl, max: 2 })

export const run = (args: ReadonlyArray<string>, io: CliIo): Promise<number> =>
  runCommand(io, usage, async () => {
    const [command, ...rest] = args
    switch (command) {
      case "add": {
        const request = parseAdd(rest)
        io.stdout(await withSession(io, addHost(request), queueLayer))
        return
      }
      case "list": {
        const { positionals } = parseCommandLine(rest, {})
        if (positionals.length) throw new UsageError({ message: `unexpected arguments: ${positionals.join(" ")}` })
        io.stdout(await withSession(io, listHosts(io.now?.() ?? new Date())))
        return
      }
      case "remove": {
        const { values, positionals } = parseCommandLine(rest, { force: { type: "boolean" } })
        const [name, ...extra] = positionals
        if (name === undefined || extra.length) throw new UsageError({ message: "host remove takes exactly one NAME" })
        io.stdout(await withSession(io, removeHost(name, values.force === true), queueLayer))
        return
      }
      case "trust-key": {
        const { values, positionals } = parseCommandLine(rest, { fingerprint: { type: "string" } })
        const [name, ...extra] = positionals
        if (name === undefined || extra.length) throw new UsageError({ message: "host trust-key takes exactly one NAME" })
        const fingerprint = values.fingerprint === undefined ? undefined : checkFingerprint(values.fingerprint)
        io.stdout(await withSession(io, trustHostKey(name, fingerprint), queueLayer))
        return
      }
      default:
        throw new UsageError({ message: command === undefined ? "which host command? add, list, remove or trust-key" : `unknown host command '${command}'` })
    }
  })
