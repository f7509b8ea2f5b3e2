/**
 * Stand-in entry for the operator commands while src/cli/main.ts (the MCP workstream's CLI entry)
 * does not dispatch to them yet; tests run the real main.ts as soon as it does.
 */
import { isOperatorCommand, operatorCommands, processIo } from "../../src/cli/commands/index.ts"

const controller = new AbortController()
process.once("SIGINT", () => controller.abort())
process.once("SIGTERM", () => controller.abort())
const [name, ...rest] = process.argv.slice(2)
if (isOperatorCommand(name)) {
  process.exitCode = await operatorCommands[name].run(rest, processIo(controller.signal))
} else {
  process.stderr.write(`error: unknown command '${name ?? ""}'; commands: get, describe, events, reconcile\n`)
  process.exitCode = 2
}
