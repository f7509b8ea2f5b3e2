/**
 * Waiting on a condition, not a clock: resolves as soon as `check` returns a value other than
 * undefined/false; the deadline only turns a hang into a readable failure.
 */
export const waitFor = async <T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { readonly timeoutMs?: number; readonly what?: string } = {}
): Promise<T> => {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let delay = 5
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? "condition"}`)
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 100)
  }
}

/** A promise with its resolve handle, to park a fake reconcile until the test releases it. */
export const deferred = <T = void>() => {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
