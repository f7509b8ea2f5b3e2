/**
 * Where the data encryption key comes from: DATA_ENCRYPTION_KEY when set; on the embedded
 * default, a key generated once and kept 0600 in DATA_DIR so restarts can read old secrets.
 */
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises"
import path from "node:path"
import { parseKey } from "./secret-box.ts"

export const KEY_FILE = "data-encryption.key"

export const loadOrCreateDataKey = async (dataDir: string): Promise<Buffer> => {
  const file = path.join(dataDir, KEY_FILE)
  if (existsSync(file)) return parseKey((await readFile(file, "utf8")).trim())
  await mkdir(dataDir, { recursive: true })
  const key = randomBytes(32)
  // `wx` fails if another process created it first; then we read theirs.
  try {
    await writeFile(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" })
  } catch {
    return parseKey((await readFile(file, "utf8")).trim())
  }
  await chmod(file, 0o600)
  return key
}
