/**
 * DNS-rebinding and cross-site protection for /mcp (MCP transport security): the Host header
 * must name this server (loopback, the HOST it binds, or PUBLIC_URL's host), and a browser's
 * Origin must be loopback, PUBLIC_URL's origin or one of ALLOWED_ORIGINS. Requests without an
 * Origin (CLI agents, servers) pass the origin check.
 */
export interface GuardPolicy {
  readonly allowedHosts: ReadonlySet<string>
  readonly allowedOrigins: ReadonlySet<string>
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]", "::1"]

const hostnameOf = (hostHeader: string): string | undefined => {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase()
  } catch {
    return undefined
  }
}

export const makeGuardPolicy = (options: { readonly publicUrl?: string; readonly bindHost: string; readonly allowedOrigins?: string }): GuardPolicy => {
  const hosts = new Set(LOOPBACK)
  const origins = new Set<string>()
  if (options.publicUrl) {
    const url = new URL(options.publicUrl)
    hosts.add(url.hostname.toLowerCase())
    origins.add(url.origin)
  }
  if (!["0.0.0.0", "::", ""].includes(options.bindHost)) hosts.add(options.bindHost.toLowerCase())
  for (const origin of (options.allowedOrigins ?? "").split(",").map((item) => item.trim()).filter(Boolean)) {
    try {
      origins.add(new URL(origin).origin)
    } catch {
      // A malformed entry allows nothing.
    }
  }
  return { allowedHosts: hosts, allowedOrigins: origins }
}

const isLoopbackOrigin = (origin: URL) => LOOPBACK.includes(origin.hostname.toLowerCase())

/** Whether a browser at `origin` may call /mcp (also decides the CORS answer). */
export const originAllowed = (policy: GuardPolicy, origin: string): boolean => {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false
  return isLoopbackOrigin(url) || policy.allowedOrigins.has(url.origin)
}

export type GuardResult = { readonly ok: true } | { readonly ok: false; readonly message: string }

export const checkRequest = (policy: GuardPolicy, headers: { readonly host?: string; readonly origin?: string }): GuardResult => {
  const hostname = headers.host ? hostnameOf(headers.host) : undefined
  if (!hostname || !policy.allowedHosts.has(hostname)) {
    return {
      ok: false,
      message: `Host '${headers.host ?? ""}' is not allowed (DNS rebinding protection). Reach this server at localhost or at PUBLIC_URL; operators: set PUBLIC_URL to the address clients use.`
    }
  }
  if (headers.origin !== undefined && !originAllowed(policy, headers.origin)) {
    return {
      ok: false,
      message: `Origin '${headers.origin}' is not allowed. Operators: add it to ALLOWED_ORIGINS (comma-separated) to let web clients from there call /mcp.`
    }
  }
  return { ok: true }
}
