/**
 * One server per DATA_DIR on the embedded default: the folder holds that server's PostgreSQL, its
 * data key and its apps, so a second `npm start` beside it must stop at once with one clear line.
 * The lock is a file holding the owner's pid, created exclusively; a file left by a server that
 * died (its pid no longer runs) is taken over, so a crash never blocks the next start.
 */
import { open, readFile, rm } from "node:fs/promises"
import path from "node:path"
import { Schema } from "effect"

export const LOCK_FILE = "server.pid"

export class DataDirInUse extends Schema.TaggedError<DataDirInUse>()("DataDirInUse", {
  dataDir: Schema.String,
  pid: Schema.Number,
  message: Schema.String
}) {}

const inUse = (dataDir: string, pid: number) =>
  new DataDirInUse({ dataDir, pid, message: `DATA_DIR ${dataDir} is in use by another server (pid ${pid}). Stop that server first, or start this one with its own DATA_DIR.` })

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Folders this process holds: a second server in the same process (tests) is refused too. */
const heldHere = new Set<string>()

export interface DataDirLock {
  release(): Promise<void>
}

/** Takes DATA_DIR for this process, or throws DataDirInUse naming the server that has it. */
export const lockDataDir = async (dataDir: string): Promise<DataDirLock> => {
  const file = path.join(dataDir, LOCK_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, "wx", 0o644)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      heldHere.add(file)
      return {
        release: async () => {
          heldHere.delete(file)
          // Only our own lock: never remove the file of a server that took over a stale one meanwhile.
          const holder = Number((await readFile(file, "utf8").catch(() => "")).trim())
          if (holder === process.pid) await rm(file, { force: true })
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      const holder = Number((await readFile(file, "utf8").catch(() => "")).trim())
      const mine = holder === process.pid
      if (Number.isInteger(holder) && holder > 0 && (mine ? heldHere.has(file) : running(holder))) throw inUse(dataDir, holder)
      // Left by a server that is gone (or half-written): take it over.
      await rm(file, { force: true })
    }
  }
  throw new Error(`could not create ${file}: another process keeps replacing it`)
}
