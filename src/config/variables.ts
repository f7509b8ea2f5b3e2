/**
 * Every environment variable the server reads, with the schema that decodes it and an example
 * of a good value. The example is what a person sees when start-up refuses a bad value.
 */
import { Schema } from "effect"

const Port = Schema.FiniteFromString.check(
  Schema.isInt({ message: "must be a whole number" }),
  Schema.isBetween({ minimum: 0, maximum: 65535 }, { message: "must be between 0 and 65535" })
)
const PositiveInt = Schema.FiniteFromString.check(
  Schema.isInt({ message: "must be a whole number" }),
  Schema.isGreaterThan(0, { message: "must be greater than 0" })
)
const HttpUrl = Schema.String.check(
  Schema.isPattern(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: "must be an http:// or https:// URL" })
)
const PostgresUrl = Schema.String.check(
  Schema.isPattern(/^postgres(ql)?:\/\/\S+$/, { message: "must be a postgres:// connection URL" })
)
const NonEmpty = Schema.String.check(Schema.isMinLength(1, { message: "must not be empty" }))
const EncryptionKey = Schema.String.check(
  Schema.isPattern(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=?)$/, {
    message: "must be 32 random bytes as 64 hex characters or base64 (generate one with: openssl rand -base64 32)"
  })
)
const LogLevel = Schema.Literals(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
const OnOff = Schema.Literals(["on", "off"])
const AppRuntimeName = Schema.Literals(["local", "coolify"])

interface Variable<A> {
  readonly schema: Schema.Codec<A, string>
  readonly example: string
  readonly default?: string
  readonly secret?: boolean
}

const variable = <A, const E extends { default?: string; secret?: boolean } = {}>(
  schema: Schema.Codec<A, string>,
  example: string,
  extra: E = {} as E
): Variable<A> & E => ({
  schema,
  example,
  ...extra
})

export const variables = {
  PORT: variable(Port, "8081", { default: "8081" }),
  HOST: variable(NonEmpty, "0.0.0.0", { default: "127.0.0.1" }),
  PUBLIC_URL: variable(HttpUrl, "https://deploy.example.com"),
  DATABASE_URL: variable(PostgresUrl, "postgres://deploy:secret@db:5432/deploy", { secret: true }),
  DATA_DIR: variable(NonEmpty, "/var/lib/deploy-mcp", { default: ".data" }),
  DATA_ENCRYPTION_KEY: variable(EncryptionKey, "base64 of 32 random bytes, e.g. from `openssl rand -base64 32`", { secret: true }),
  DATA_ENCRYPTION_OLD_KEYS: variable(NonEmpty, "comma-separated earlier keys, same format as DATA_ENCRYPTION_KEY", { secret: true }),
  LOG_LEVEL: variable(LogLevel, "info", { default: "info" }),
  CONTROLLERS: variable(OnOff, "on", { default: "on" }),
  WORKER_CONCURRENCY: variable(PositiveInt, "8", { default: "8" }),
  APP_DNS_SUFFIX: variable(NonEmpty, "apps.example.com", { default: "localhost" }),
  /** Where apps run; unset: coolify when COOLIFY_URL is set, else local (src/config/runtime.ts). */
  APP_RUNTIME: variable(AppRuntimeName, "local"),
  /** Local paths and file:// URLs as repos; unset: on only while the server listens on loopback alone. */
  LOCAL_REPOS: variable(OnOff, "on"),
  /** Local runtime: a build (install + build commands) is stopped after this many seconds. */
  LOCAL_BUILD_TIMEOUT_SECONDS: variable(PositiveInt, "600", { default: "600" }),
  COOLIFY_URL: variable(HttpUrl, "https://coolify.example.com"),
  COOLIFY_TOKEN: variable(NonEmpty, "1|abcdef… (Coolify → Keys & Tokens → API tokens)", { secret: true }),
  COOLIFY_PROJECT: variable(NonEmpty, "a Coolify project uuid"),
  COOLIFY_SERVER: variable(NonEmpty, "a Coolify server uuid"),
  COOLIFY_REQUESTS_PER_MINUTE: variable(PositiveInt, "190", { default: "190" }),
  TURSO_API_URL: variable(HttpUrl, "https://api.turso.tech", { default: "https://api.turso.tech" }),
  TURSO_ORG: variable(NonEmpty, "my-org"),
  TURSO_GROUP: variable(NonEmpty, "default", { default: "default" }),
  TURSO_API_TOKEN: variable(NonEmpty, "a Turso platform API token (turso auth api-tokens mint deploy-mcp)", { secret: true }),
  GITHUB_URL: variable(HttpUrl, "https://github.com", { default: "https://github.com" }),
  GITHUB_API_URL: variable(HttpUrl, "https://api.github.com", { default: "https://api.github.com" }),
  GITHUB_APP_ID: variable(NonEmpty, "123456"),
  GITHUB_APP_SLUG: variable(NonEmpty, "deploy-mcp"),
  GITHUB_APP_PRIVATE_KEY: variable(NonEmpty, "-----BEGIN RSA PRIVATE KEY-----\\n…", { secret: true }),
  GITHUB_CLIENT_ID: variable(NonEmpty, "Iv1.0123456789abcdef"),
  GITHUB_CLIENT_SECRET: variable(NonEmpty, "the OAuth client secret of the GitHub App", { secret: true }),
  GITHUB_WEBHOOK_SECRET: variable(NonEmpty, "a long random string also set in the GitHub App's webhook settings", { secret: true }),
  SESSION_SECRET: variable(
    Schema.String.check(Schema.isMinLength(32, { message: "must be at least 32 characters" })),
    "64 random characters, e.g. from `openssl rand -hex 32`",
    { secret: true }
  ),
  SSH_PRIVATE_KEY: variable(NonEmpty, "-----BEGIN OPENSSH PRIVATE KEY-----\\n…", { secret: true }),
  METRICS_TOKEN: variable(NonEmpty, "a random string Prometheus sends as a bearer token", { secret: true }),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable(HttpUrl, "http://localhost:4318"),
  MCP_RATE_LIMIT_PER_MINUTE: variable(PositiveInt, "600", { default: "600" }),
  API_KEY_CACHE_SECONDS: variable(PositiveInt, "5", { default: "5" }),
  ALLOWED_ORIGINS: variable(NonEmpty, "https://claude.ai,https://deploy.example.com")
} as const

export type Variables = typeof variables
export type VariableName = keyof Variables
