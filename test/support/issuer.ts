/**
 * Trusted issuers for keyless-CI suites: the `auth.trustedIssuers` entry,
 * and a local issuer (a JWKS on 127.0.0.1 and its ES256 key) for tokens the
 * test IdP will not mint: any `iat`, any `exp`, any claims.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';

/** An `auth.trustedIssuers` entry: usernames from `preferred_username`, groups from `groups`; `over` adds fields (jwksUri, maxTokenAge…). */
export function trustedIssuer(issuer: string, audience: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { issuer, audience, claimMapping: { username: 'preferred_username', groups: 'groups' }, ...over };
}

export interface LocalIssuer {
  /** `http://127.0.0.1:PORT`, the `iss` of its tokens */
  readonly url: string;
  /** `${url}/jwks` (the server answers its JWKS at any path) */
  readonly jwksUri: string;
  /** Its {@link trustedIssuer} entry, keys at {@link jwksUri}; `over` adds fields. */
  entry(over?: Record<string, unknown>): Record<string, unknown>;
  /** A token for the audience with these claims; epoch seconds; `iat` defaults to now, `null` leaves it out. */
  sign(claims: Record<string, unknown>, times: { readonly exp: number; readonly iat?: number | null }): Promise<string>;
  stop(): Promise<void>;
}

export async function startIssuer(audience: string): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'ci', use: 'sig', alg: 'ES256' };
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jwksUri = `${url}/jwks`;
  return {
    url,
    jwksUri,
    entry: (over = {}) => trustedIssuer(url, audience, { jwksUri, ...over }),
    sign: (claims, { exp, iat }) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'ci' }).setIssuer(url).setAudience(audience).setExpirationTime(exp);
      if (iat === null) return jwt.sign(privateKey);
      return (iat === undefined ? jwt.setIssuedAt() : jwt.setIssuedAt(iat)).sign(privateKey);
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
