/**
 * The operator commands (`get`, `describe`, `events`, `reconcile`) by name, for src/cli/main.ts
 * to dispatch to: each takes the words after its name and the io, and resolves to an exit code.
 */
import * as describe from "./describe.ts"
import * as events from "./events.ts"
import * as get from "./get.ts"
import type { CliIo } from "./io.ts"
import * as reconcile from "./reconcile.ts"

export interface OperatorCommand {
  readonly usage: string
  run(args: ReadonlyArray<string>, io: CliIo): Promise<number>
}

export const operatorCommands: Readonly<Record<"get" | "describe" | "events" | "reconcile", OperatorCommand>> = { get, describe, events, reconcile }

export const isOperatorCommand = (word: string | undefined): word is keyof typeof operatorCommands =>
  word !== undefined && Object.hasOwn(operatorCommands, word)

export type { CliIo } from "./io.ts"
export { processIo } from "./io.ts"
