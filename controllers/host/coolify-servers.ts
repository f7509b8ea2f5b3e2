/**
 * Which Coolify server a Host is (DESIGN.md §2 Host: observed, never typed by hand). Coolify lists
 * its servers with their IPs; a Host matches by spec.address, or by what that name resolves to.
 */
import { lookup } from "node:dns/promises"
import { isIP } from "node:net"
import { Context, Effect, Layer } from "effect"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"

export type CoolifyServerLookup =
  | { readonly _tag: "NotConfigured" }
  | { readonly _tag: "Found"; readonly uuid: string; readonly name: string }
  | { readonly _tag: "NotFound"; readonly known: ReadonlyArray<string> }
  | { readonly _tag: "Unavailable"; readonly message: string }

const resolveAddresses = (address: string): Effect.Effect<ReadonlyArray<string>> =>
  isIP(address) !== 0
    ? Effect.succeed([address])
    : Effect.tryPromise(() => lookup(address, { all: true })).pipe(
        Effect.map((found) => [address, ...found.map((entry) => entry.address)]),
        Effect.orElseSucceed(() => [address])
      )

export class CoolifyServerDirectory extends Context.Service<CoolifyServerDirectory, {
  find(address: string): Effect.Effect<CoolifyServerLookup>
}>()("deploy-mcp/controllers/host/CoolifyServerDirectory") {
  /** Without COOLIFY_* configuration there is nothing to look up. */
  static readonly notConfigured = Layer.succeed(CoolifyServerDirectory, CoolifyServerDirectory.of({ find: () => Effect.succeed({ _tag: "NotConfigured" }) }))

  static readonly layer = Layer.effect(
    CoolifyServerDirectory,
    Effect.gen(function*() {
      const api = yield* CoolifyApi
      const find = (address: string) =>
        Effect.gen(function*() {
          const servers = yield* api.listServers()
          const addresses = yield* resolveAddresses(address)
          const match = servers.find((server) => typeof server.ip === "string" && addresses.includes(server.ip))
          return match !== undefined
            ? ({ _tag: "Found", uuid: match.uuid, name: match.name } as const)
            : ({ _tag: "NotFound", known: servers.map((server) => `${server.name} (${server.ip ?? "no ip"})`) } as const)
        }).pipe(Effect.catch((error) => Effect.succeed({ _tag: "Unavailable", message: error.message } as const)))
      return CoolifyServerDirectory.of({ find })
    })
  )
}
