/**
 * The GitHub App's key pair and the checks GitHub applies to an app JWT.
 *
 * GitHub hands out PKCS#1 PEM private keys ("BEGIN RSA PRIVATE KEY"), so the
 * fake does too: whatever reads GITHUB_APP_PRIVATE_KEY gets the real format.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { errors, jwtVerify } from "jose";

export interface AppKeyPair {
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

/** Creates a fresh RSA key pair, or derives the public key from a given PEM. */
export const appKeyPair = (privateKeyPem?: string): AppKeyPair => {
  if (privateKeyPem !== undefined) {
    return { privateKeyPem, publicKey: createPublicKey(createPrivateKey(privateKeyPem)) };
  }
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(), publicKey };
};

export type AppJwtCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

const looksLikeJwt = (token: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

/** GitHub refuses app JWTs that live longer than ten minutes. */
const MAX_LIFETIME_SECONDS = 600;
/** GitHub tolerates some clock drift on `iat`; the fake allows a minute. */
const CLOCK_TOLERANCE_SECONDS = 60;

/**
 * Verifies an app JWT as GitHub does: RS256 signature by the app's key, `iss`
 * equal to the app id (or its client id), `iat` in the past, `exp` in the
 * future but at most ten minutes after `iat`. Messages are GitHub's.
 */
export const verifyAppJwt = async (
  token: string,
  publicKey: KeyObject,
  issuers: { readonly appId: number; readonly clientId: string },
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<AppJwtCheck> => {
  if (!looksLikeJwt(token)) return { ok: false, message: "A JSON web token could not be decoded" };
  try {
    const { payload } = await jwtVerify(token, publicKey, {
      algorithms: ["RS256"],
      requiredClaims: ["iat", "exp", "iss"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowSeconds * 1000),
    });
    const { iat, exp, iss } = payload;
    if (typeof iat !== "number" || iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) {
      return { ok: false, message: "'Issued at' claim ('iat') must be an Integer representing a time in the past" };
    }
    if (typeof exp !== "number" || exp - iat > MAX_LIFETIME_SECONDS) {
      return { ok: false, message: "'Expiration time' claim ('exp') is too far in the future" };
    }
    if (String(iss) !== String(issuers.appId) && iss !== issuers.clientId) {
      return { ok: false, message: "'Issuer' claim ('iss') must be an Integer or a String representing the App ID or Client ID" };
    }
    return { ok: true };
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      return { ok: false, message: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires" };
    }
    return { ok: false, message: "A JSON web token could not be decoded" };
  }
};
