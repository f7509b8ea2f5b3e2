/**
 * Host annotations: the pinned SSH host key lives in metadata, not status, because it is trust the
 * operator grants (first contact, or `host trust-key`), not something the controller observes.
 */
export const HostAnnotations = {
  /** Pinned host key fingerprint ("SHA256:..."), recorded on first contact or by `host add --host-key`. */
  hostKey: "deploy.mcp/host-key",
  /** A different key the host presented; the host is not Ready until `host trust-key` accepts it. */
  presentedHostKey: "deploy.mcp/host-key-presented"
} as const
