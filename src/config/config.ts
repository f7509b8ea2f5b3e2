/**
 * Start-up configuration, decoded from the environment with effect/Schema.
 * A bad value stops start-up with ONE line: the variable, what is wrong, and an example of a good value.
 */
import { Context, Layer, Result, Schema } from "effect"
import { variables, type VariableName, type Variables } from "./variables.ts"

type Decoded = { readonly [K in VariableName]: Variables[K] extends { schema: Schema.Codec<infer A, string> } ? A : never }
type WithDefault = { [K in VariableName]: Variables[K] extends { default: string } ? K : never }[VariableName]

/** Decoded configuration: variables with defaults are always present, the rest may be absent. */
export type AppConfigValues = { readonly [K in WithDefault]: Decoded[K] } & { readonly [K in Exclude<VariableName, WithDefault>]?: Decoded[K] }

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  variable: Schema.String,
  message: Schema.String
}) {}

const firstLine = (text: string): string => text.split("\n")[0] ?? text

/** Decode every known variable from `env`; the first bad one fails with a one-line message. */
export const decodeConfig = (env: Readonly<Record<string, string | undefined>>): Result.Result<AppConfigValues, ConfigError> => {
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(variables) as Array<[VariableName, Variables[VariableName]]>) {
    const given = env[name]
    const raw = given === undefined || given === "" ? ("default" in spec ? spec.default : undefined) : given
    if (raw === undefined) continue
    const decoded = Schema.decodeUnknownResult(spec.schema as Schema.Codec<unknown, string>)(raw)
    if (Result.isFailure(decoded)) {
      const shown = "secret" in spec && spec.secret ? "(value hidden)" : JSON.stringify(raw)
      return Result.fail(
        new ConfigError({
          variable: name,
          message: `${name}=${shown} ${firstLine(decoded.failure.message)}. Example of a good value: ${name}=${spec.example}`
        })
      )
    }
    out[name] = decoded.success
  }
  return Result.succeed(out as AppConfigValues)
}

/** Names of variables holding secrets: the logger redacts them wherever they appear. */
export const secretVariableNames: ReadonlyArray<string> = Object.entries(variables)
  .filter(([, spec]) => "secret" in spec && spec.secret)
  .map(([name]) => name)

export class AppConfig extends Context.Service<AppConfig, AppConfigValues>()("deploy-mcp/config/AppConfig") {
  static readonly layer = (values: AppConfigValues) => Layer.succeed(AppConfig, values)
}
