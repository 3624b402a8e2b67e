/**
 * Sealed cookies: a JWE (`dir`, A256GCM) made with jose, so the content is
 * both secret and tamper-proof, with an absolute expiry the gate checks.
 */
import { EncryptJWT, jwtDecrypt, type JWTPayload } from 'jose';

export async function seal(payload: JWTPayload, key: Uint8Array, now: Date, lifetimeMs: number): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new EncryptJWT(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.floor(lifetimeMs / 1000))
    .encrypt(key);
}

/** The payload, or null for anything expired, tampered with, or sealed with another key. */
export async function unseal(token: string, key: Uint8Array, now: Date): Promise<JWTPayload | null> {
  try {
    const { payload } = await jwtDecrypt(token, key, { currentDate: now, keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    return payload;
  } catch {
    return null;
  }
}
