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

/** A key's first 8 characters are its public prefix (safe to log, see src/auth/api-key.ts); the rest never is. */
const scrubString = (text: string): string => {
  let out = text
  for (const secret of knownSecrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
  return out.replace(/\b(dk_live_[A-Za-z0-9]{8})[A-Za-z0-9_-]+/g, `$1${REDACTED}`).replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, `$1${REDACTED}`)
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

/** Query parameters that carry credentials (OAuth codes and state, tokens, keys, signatures). */
const SENSITIVE_QUERY = /^(code|state|sig|signature|key)$/i

/** A request URL for the log: path kept, the values of credential-like query parameters replaced. */
export const redactUrl = (url: string): string => {
  const queryStart = url.indexOf("?")
  if (queryStart < 0) return scrubString(url)
  const params = url
    .slice(queryStart + 1)
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=")
      if (equals < 0) return pair
      let name = pair.slice(0, equals)
      try {
        name = decodeURIComponent(name)
      } catch {
        // A malformed escape is logged as sent; its value is still judged by the raw name.
      }
      return SENSITIVE_KEY.test(name) || SENSITIVE_QUERY.test(name) ? `${pair.slice(0, equals)}=${REDACTED}` : pair
    })
  return scrubString(`${url.slice(0, queryStart)}?${params.join("&")}`)
}

interface RequestLike {
  readonly method?: unknown
  readonly url?: unknown
  readonly ip?: unknown
  readonly socket?: { readonly remoteAddress?: unknown } | null
}

/** Fastify requests and node IncomingMessages alike: method, redacted URL, client address — never headers. */
const serializeRequest = (req: RequestLike | null | undefined) => {
  if (req === null || typeof req !== "object") return req
  const remoteAddress = typeof req.ip === "string" ? req.ip : req.socket?.remoteAddress
  return {
    method: typeof req.method === "string" ? req.method : undefined,
    url: typeof req.url === "string" ? redactUrl(req.url) : undefined,
    remoteAddress: typeof remoteAddress === "string" ? remoteAddress : undefined
  }
}

interface ReplyLike {
  readonly statusCode?: unknown
  readonly request?: RequestLike
}

/** Fastify replies carry their request, so "request completed" says what was answered with what. */
const serializeResponse = (res: ReplyLike | null | undefined) => {
  if (res === null || typeof res !== "object") return res
  const request = res.request && typeof res.request === "object" ? serializeRequest(res.request) : undefined
  return {
    statusCode: typeof res.statusCode === "number" ? res.statusCode : undefined,
    ...(request ? { method: request.method, url: request.url } : {})
  }
}

/**
 * Serializers run after `formatters.log` in pino, so the formatter leaves their keys alone (a deep
 * copy of a Fastify request would lose its prototype getters: no method, no URL, no status) and
 * each serializer redacts its own small output instead.
 */
const serializers = {
  req: (req: RequestLike) => redact(serializeRequest(req)),
  res: (res: ReplyLike) => redact(serializeResponse(res)),
  err: (err: unknown) => redact(err instanceof Error ? pino.stdSerializers.err(err) : err)
}

const SERIALIZED_KEYS = new Set(Object.keys(serializers))

const redactPlainValues = (object: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(object)) {
    out[key] = SERIALIZED_KEYS.has(key) ? value : SENSITIVE_KEY.test(key) ? REDACTED : redact(value, 1)
  }
  return out
}

export const makeLogger = (options: { level: LevelWithSilent; destination?: pino.DestinationStream }): Logger =>
  pino(
    {
      level: options.level,
      base: { service: "deploy-mcp" },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers,
      formatters: { log: redactPlainValues },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === "string" ? scrubString(arg) : arg)) as Parameters<typeof method>)
        }
      }
    },
    options.destination
  )

export type { Logger }
