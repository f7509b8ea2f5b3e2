/**
 * Log files of the local runtime: build logs (appended per deployment) and the size-capped runtime
 * log of an app's instances. Writes are synchronous appends so lines from one process stay in order
 * and a crash loses nothing already written.
 */
import { closeSync, mkdirSync, openSync, renameSync, statSync, writeSync } from "node:fs"
import { open } from "node:fs/promises"
import path from "node:path"

/** Appends to a file, moving it to `<file>.1` (replacing the previous one) once it passes maxBytes. */
export class AppendLog {
  private fd: number | undefined
  private size = 0
  readonly file: string
  private readonly maxBytes: number

  constructor(file: string, maxBytes = Number.POSITIVE_INFINITY) {
    this.file = file
    this.maxBytes = maxBytes
  }

  write(chunk: string | Buffer): void {
    if (this.fd === undefined) this.openFile()
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk
    writeSync(this.fd!, bytes)
    this.size += bytes.length
    if (this.size > this.maxBytes) this.rotate()
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private openFile(): void {
    mkdirSync(path.dirname(this.file), { recursive: true })
    this.fd = openSync(this.file, "a", 0o640)
    this.size = statSync(this.file).size
  }

  private rotate(): void {
    this.close()
    renameSync(this.file, `${this.file}.1`)
    this.openFile()
  }
}

/** Up to the last `lines` lines of a file (reading at most its last 256 KiB); [] when it is missing. */
export const tailLog = async (file: string, lines: number): Promise<Array<string>> => {
  if (lines <= 0) return []
  let handle
  try {
    handle = await open(file, "r")
  } catch {
    return []
  }
  try {
    const { size } = await handle.stat()
    const length = Math.min(size, 256 * 1024)
    const buffer = Buffer.alloc(length)
    await handle.read(buffer, 0, length, size - length)
    const all = buffer.toString("utf8").split("\n")
    if (all.at(-1) === "") all.pop()
    // The first line may be cut by the window.
    if (length < size) all.shift()
    return all.slice(-lines)
  } finally {
    await handle.close()
  }
}
