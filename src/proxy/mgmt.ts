/**
 * `GET /v2/_zot/ext/mgmt`: zot's UI reads from it how to log in. zot behind
 * the gate runs with no auth and says so; the gate rewrites `http.auth` to
 * advertise what it offers (its OIDC providers, API keys), so zot's UI shows
 * the login button and the API-key page. Without a mgmt endpoint upstream
 * (distribution, or zot built without it) the gate answers a minimal one.
 */
import type { Config } from '../config/types.js';
import type { Upstream } from './upstream.js';

export interface MgmtAnswer {
  readonly status: number;
  readonly body: string;
}

/** zot's `http.auth` as the gate offers it (pkg/extensions/extension_mgmt.go Auth). */
function advertisedAuth(config: Config): Record<string, unknown> {
  const providers = config.auth.openid?.providers ?? [];
  return {
    apikey: true,
    ...(providers.length > 0 ? { openid: { providers: Object.fromEntries(providers.map((p) => [p.id, { name: p.name }])) } } : {}),
  };
}

export async function mgmtAnswer(upstream: Upstream, upstreamUrl: string, config: Config): Promise<MgmtAnswer> {
  const auth = advertisedAuth(config);
  try {
    const response = await upstream.request({ method: 'GET', path: upstreamUrl, headers: { accept: 'application/json' } });
    if (response.statusCode === 200) {
      const body = (await response.body.json()) as Record<string, unknown>;
      const http = typeof body.http === 'object' && body.http !== null ? (body.http as Record<string, unknown>) : {};
      return { status: 200, body: JSON.stringify({ ...body, http: { ...http, auth } }) };
    }
    await response.body.dump();
  } catch {
    // fall through to the gate's own answer: zot's UI must still find the login
  }
  return { status: 200, body: JSON.stringify({ distSpecVersion: '1.1.1', commit: '', releaseTag: '', binaryType: '', http: { auth } }) };
}
