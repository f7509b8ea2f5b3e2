/**
 * What every operator command shares: argument parsing (node's util.parseArgs, strict) and
 * turning a failure into one line on stderr and an exit code — never a stack trace for
 * something the operator can fix.
 */
import { parseArgs, type ParseArgsConfig } from "node:util"
import { ExitCode, UsageError, type CliIo } from "./io.ts"

type Options = NonNullable<ParseArgsConfig["options"]>

/** Parse with the given options; unknown flags, missing values and stray words are UsageErrors. */
export const parseCommandLine = <const O extends Options>(args: ReadonlyArray<string>, options: O) => {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError({ message: (error as Error).message })
  }
}

const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" ? error._tag : undefined

const messageOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" ? error.message : String(error)

/** Print what went wrong and choose the exit code. */
export const reportFailure = (io: CliIo, usage: string, error: unknown): number => {
  const tag = tagOf(error)
  const firstLine = messageOf(error).split("\n")[0]
  if (tag === "UsageError") {
    io.stderr(`error: ${firstLine}\n\n${usage}`)
    return ExitCode.usage
  }
  if (tag === "DatabaseError") {
    io.stderr(`error: database: ${firstLine}\n`)
    return ExitCode.failed
  }
  io.stderr(`error: ${firstLine}\n`)
  return ExitCode.failed
}

/** Run a command body; 0 when it finished, otherwise the reported failure's exit code. */
export const runCommand = async (io: CliIo, usage: string, body: () => Promise<void>): Promise<number> => {
  try {
    await body()
    return ExitCode.ok
  } catch (error) {
    return reportFailure(io, usage, error)
  }
}
