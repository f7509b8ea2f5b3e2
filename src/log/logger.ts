/**
 * Structured logs (pino). Anything that looks like a credential is redacted before it is written:
 * authorization headers and cookies, tokens, passwords, secrets, env values, and the raw values of
 * secret config variables wherever they appear in a string.
 */
import pino, { type Logger, type LevelWithSilent } from "pino"

const SENSITIVE_KEY = /(authorization|cookie|password|passwd|secret|token|jwt|api[-_]?key|private[-_]?key|^env$|^env_?vars$|credentials?)/i
export const REDACTED = "[redacted]"

/** Values we know are secret (config, minted tokens) and must never appear, even inside messages. */
const knownSecrets = new Set<string>()

export const registerSecret = (value: string | undefined): void => {
  // Short values would redact ordinary words; real secrets are long.
  if (value && value.length >= 8) knownSecrets.add(value)
}

const scrubString = (text: string): string => {
  let out = text
  for (const secret of knownSecrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
  return out.replace(/\b(dk_live_)[A-Za-z0-9_-]+/g, `$1${REDACTED}`).replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, `$1${REDACTED}`)
}

/** Deep copy with sensitive keys replaced; bounded depth so cyclic or huge objects cannot hang a log call. */
export const redact = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return scrubString(value)
  if (value === null || typeof value !== "object" || depth > 8) return value
  if (value instanceof Error) return { type: value.name, message: scrubString(value.message), stack: value.stack ? scrubString(value.stack) : undefined }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key] = SENSITIVE_KEY.test(key) ? REDACTED : redact(item, depth + 1)
  return out
}

export const makeLogger = (options: { level: LevelWithSilent; destination?: pino.DestinationStream }): Logger =>
  pino(
    {
      level: options.level,
      base: { service: "deploy-mcp" },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Serialize requests and errors to plain objects first; `redact` below then scrubs them.
      serializers: { req: pino.stdSerializers.req, res: pino.stdSerializers.res, err: pino.stdSerializers.err },
      formatters: { log: (object) => redact(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === "string" ? scrubString(arg) : arg)) as Parameters<typeof method>)
        }
      }
    },
    options.destination
  )

export type { Logger }
