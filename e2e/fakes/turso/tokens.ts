/**
 * Database auth tokens as Turso issues them: EdDSA-signed JWTs, one signing key
 * per database. Rotating a database replaces its key, so every token minted
 * before no longer verifies — which is what `POST …/auth/rotate` promises.
 */
import { generateKeyPair, jwtVerify, SignJWT } from "jose";
import type { CryptoKey } from "jose";

export type TokenAuthorization = "full-access" | "read-only";

interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 };

/**
 * Parses Turso's expiration format ("never", "2w", "2w1d30m") into seconds;
 * `null` for "never", `undefined` when the text is not in that format.
 */
export const parseExpiration = (text: string): number | null | undefined => {
  if (text === "never") return null;
  if (!/^(\d+[wdhms])+$/.test(text)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([wdhms])/g)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? ""] ?? 0);
  }
  return seconds > 0 ? seconds : undefined;
};

export class DatabaseTokenAuthority {
  // Keyed by DbId, not name: a database deleted and created again under the
  // same name must not accept the old database's tokens.
  // Promises, so concurrent mints for a new database share one key.
  readonly #keys = new Map<string, Promise<SigningKey>>();

  async mint(dbId: string, options: { readonly authorization: TokenAuthorization; readonly expiresInSeconds: number | null }): Promise<string> {
    const key = await this.#keyOf(dbId);
    const jwt = new SignJWT({ a: options.authorization === "read-only" ? "ro" : "rw", id: dbId })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
      .setIssuedAt();
    if (options.expiresInSeconds !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + options.expiresInSeconds);
    return jwt.sign(key.privateKey);
  }

  /** True when `jwt` was minted for `dbId` since its last rotation and has not expired. */
  async verify(dbId: string, jwt: string): Promise<boolean> {
    const key = await this.#keys.get(dbId);
    if (key === undefined) return false;
    try {
      const { payload } = await jwtVerify(jwt, key.publicKey, { algorithms: ["EdDSA"] });
      return payload["id"] === dbId;
    } catch {
      return false;
    }
  }

  /** Replaces the database's signing key: all earlier tokens stop verifying. */
  async rotate(dbId: string): Promise<void> {
    const next = generateKeyPair("EdDSA");
    this.#keys.set(dbId, next);
    await next;
  }

  forget(dbId: string): void {
    this.#keys.delete(dbId);
  }

  #keyOf(dbId: string): Promise<SigningKey> {
    const existing = this.#keys.get(dbId);
    if (existing !== undefined) return existing;
    const created = generateKeyPair("EdDSA");
    this.#keys.set(dbId, created);
    return created;
  }
}
