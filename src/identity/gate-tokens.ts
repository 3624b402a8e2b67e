/**
 * Registry tokens the gate issues at its token endpoint (the Docker token
 * flow): short-lived ES256 JWTs naming the identity. They carry no grants:
 * policy is evaluated on every request, so a token is only a way to say who
 * you are without resending the key.
 *
 * A token is never worth more than what it was minted from: it expires no
 * later than its source (a JWT's `exp`, a key's effective expiry), and one
 * minted from a key names the key (`kid`) and is checked against it on every
 * use: revoked or expired, the token is refused; the groups and scopes are
 * the key's as they are now, not as they were. The signing key lives in
 * `<dataDir>/token-key.json` (0600) with a `kid`; replacing the file
 * invalidates every token signed before.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { GateError } from '../errors.js';
import { ANONYMOUS, type Identity } from './types.js';

const TOKEN_KEY_FILE = 'token-key.json';
/** The `iss` of every gate token; trusted-issuer JWTs are told apart by it. */
export const GATE_ISSUER = 'zot-gate';
const TOKEN_LIFETIME_SEC = 300;

export type TokenCheck =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly reason: 'invalid-token' | 'expired-token' | 'revoked-key' | 'expired-key' };

/** A key as it is now, as the key store answers for its id. */
export type KeyNow =
  | { readonly ok: true; readonly record: { readonly owner: string; readonly scopes: readonly string[] }; readonly groups: readonly string[] }
  | { readonly ok: false; readonly reason: 'unknown-key' | 'expired-key' | 'malformed-key' };

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
  /** RFC 3339 */
  readonly issuedAt: string;
}

export class GateTokens {
  readonly #kid: string;
  readonly #privateKey: CryptoKey;
  readonly #publicKey: CryptoKey;

  private constructor(kid: string, privateKey: CryptoKey, publicKey: CryptoKey) {
    this.#kid = kid;
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
  }

  static async open(dataDir: string): Promise<GateTokens> {
    const path = join(dataDir, TOKEN_KEY_FILE);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await createKeyFile(path);
    let jwk: JWK & { kid?: string };
    try {
      jwk = JSON.parse(await readFile(path, 'utf8')) as JWK;
    } catch (error) {
      throw new GateError('TOKEN_KEY', `${path} is not a JSON Web Key; remove it to make a new one`, { cause: error });
    }
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string' || typeof jwk.kid !== 'string') {
      throw new GateError('TOKEN_KEY', `${path} must hold a private P-256 key with a kid; remove it to make a new one`);
    }
    const privateKey = (await importJWK(jwk, 'ES256')) as CryptoKey;
    const { d: _private, ...publicJwk } = jwk;
    const publicKey = (await importJWK(publicJwk, 'ES256')) as CryptoKey;
    return new GateTokens(jwk.kid, privateKey, publicKey);
  }

  /**
   * @param sourceExpiresAt when the credential shown for this token stops
   *   being valid (a JWT's `exp`, a key's effective expiry); null when nothing
   *   bounds it. The token expires then at the latest.
   */
  async issue(identity: Identity, audience: string, now: Date, sourceExpiresAt: Date | null = null): Promise<IssuedToken> {
    const iat = Math.floor(now.getTime() / 1000);
    // whole seconds, rounded down: never a moment past the source
    const exp = sourceExpiresAt === null ? iat + TOKEN_LIFETIME_SEC : Math.max(iat, Math.min(iat + TOKEN_LIFETIME_SEC, Math.floor(sourceExpiresAt.getTime() / 1000)));
    const claims =
      identity.kind === 'anonymous'
        ? { anon: true }
        : {
            groups: [...identity.groups],
            amr: identity.method,
            ...(identity.keyId !== undefined ? { kid: identity.keyId } : {}),
            ...(identity.scopes !== undefined ? { scopes: [...identity.scopes] } : {}),
          };
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: this.#kid, typ: 'JWT' })
      .setIssuer(GATE_ISSUER)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID());
    if (identity.kind === 'user') jwt.setSubject(identity.name);
    return { token: await jwt.sign(this.#privateKey), expiresIn: exp - iat, issuedAt: now.toISOString() };
  }

  /**
   * The identity a gate token names. A token minted from an API key is only
   * good while that key is: `keyNow` is asked for the key's current state, so
   * a revocation, an expiry or a change of groups reaches the token at once.
   */
  async verify(token: string, audience: string, now: Date, keyNow: (id: string) => KeyNow): Promise<TokenCheck> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#publicKey, {
        issuer: GATE_ISSUER,
        audience,
        algorithms: ['ES256'],
        currentDate: now,
        requiredClaims: ['exp', 'iat'],
      }));
    } catch (error) {
      return { ok: false, reason: (error as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'expired-token' : 'invalid-token' };
    }
    if (payload.anon === true) return { ok: true, identity: ANONYMOUS };
    const name = payload.sub;
    if (typeof name !== 'string' || name === '') return { ok: false, reason: 'invalid-token' };
    if (payload.amr === 'apikey') {
      // a key-minted token without its key cannot be checked against it: refused
      if (typeof payload.kid !== 'string') return { ok: false, reason: 'invalid-token' };
      const key = keyNow(payload.kid);
      if (!key.ok) return { ok: false, reason: key.reason === 'expired-key' ? 'expired-key' : 'revoked-key' };
      if (key.record.owner !== name) return { ok: false, reason: 'invalid-token' };
      const { scopes } = key.record;
      return { ok: true, identity: { kind: 'user', name, groups: key.groups, method: 'apikey', keyId: payload.kid, ...(scopes.length > 0 ? { scopes } : {}) } };
    }
    if (payload.amr !== 'jwt' && payload.amr !== 'session') return { ok: false, reason: 'invalid-token' };
    const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
    return { ok: true, identity: { kind: 'user', name, groups: strings(payload.groups), method: payload.amr } };
  }
}

async function createKeyFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new GateError('TOKEN_KEY', `cannot create ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    await handle.writeFile(JSON.stringify({ ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' }));
    await handle.sync();
  } catch (error) {
    // A full disk leaves the file empty or cut: remove it, or the next start would refuse it.
    await unlink(path).catch(() => undefined);
    throw new GateError('TOKEN_KEY', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
}
