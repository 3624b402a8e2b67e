/**
 * Regression: lowering `auth.session.maxAge` on reload left existing sessions alone.
 *
 * The attack: an operator learns that session cookies are being stolen (or
 * simply decides two hours is too long), lowers `auth.session.maxAge` and
 * sends SIGHUP, as docs/deploying.md says that setting applies on reload. But
 * each cookie carried its own expiry, sealed at sign-in, and the gate checked
 * only that: every session already issued, a stolen one included, stayed good
 * for the old lifetime.
 *
 * Now a session counts while `issued + the current maxAge` is in the future
 * (and never past the expiry sealed into it): lowering maxAge ends at once
 * every session older than the new value. Real gate, real registry, real
 * OIDC provider, a real sign-in over HTTP; the reload is the in-process
 * `reloadConfig` that SIGHUP calls.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { ociBody, send, type RawResponse } from '../support/http.js';
import { signIn } from '../support/sign-in.js';
import { testIdpAuth } from '../support/sso.js';
import { useSsoGate } from '../support/sso-gate.js';

const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
};
const ZOT_UI = { 'x-zot-api-client': 'zot-ui' } as const;
const HOUR_MS = 3_600_000;

const sso = useSsoGate({ accessControl, auth: (idp) => testIdpAuth(idp, { session: { maxAge: '2h' } }) });
let original: Config;

beforeAll(async () => {
  original = sso.gate.config;
}, 60_000);

/** What SIGHUP does with a file whose only change is `auth.session.maxAge`. */
const reloadWithMaxAge = (ms: number) => sso.gate.app.reloadConfig({ ...original, auth: { ...original.auth, sessionMaxAgeMs: ms } });

const account = (cookie: string) => send(sso.gate.url, { path: '/-/account', headers: { cookie } });
const listKeys = (cookie: string) => send(sso.gate.url, { path: '/zot/auth/apikey', headers: { ...ZOT_UI, cookie } });
const upload = (cookie: string): Promise<RawResponse> => send(sso.gate.url, { method: 'POST', path: '/v2/team/app/blobs/uploads/', headers: { ...ZOT_UI, cookie } });

describe('a session older than a lowered auth.session.maxAge', () => {
  let cookie: string;

  it('works while maxAge is above its age (2h, then lowered to 1h)', async () => {
    const page = await signIn(sso.gate.url, 'bob');
    expect(page.status).toBe(200);
    cookie = `session=${page.cookies.get('session')!}`;
    reloadWithMaxAge(HOUR_MS);
    try {
      expect((await account(cookie)).status).toBe(200);
      expect((await listKeys(cookie)).status).toBe(200);
      expect((await upload(cookie)).status).toBe(202);
    } finally {
      reloadWithMaxAge(original.auth.sessionMaxAgeMs);
    }
  }, 30_000);

  it('is no session once maxAge is lowered below its age: the account page sends to the login, zot UI API 401, registry 401', async () => {
    // The session is then more than two whole seconds old; a 1 s maxAge ends it whatever the rounding.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    reloadWithMaxAge(1_000);
    try {
      const page = await account(cookie);
      expect(page.status).toBe(302);
      expect(page.headers.location).toBe('/zot/auth/login?provider=oidc&callback_ui=%2F-%2Faccount');
      const api = await listKeys(cookie);
      expect(api.status).toBe(401);
      expect(api.json()).toEqual(ociBody('UNAUTHORIZED', 'authentication required to manage API keys', 'authentication-required'));
      const refused = await upload(cookie);
      expect(refused.status).toBe(401);
      expect(refused.json()).toMatchObject(ociBody('UNAUTHORIZED', 'authentication required to create in repository "team/app"', 'action-not-granted'));
    } finally {
      reloadWithMaxAge(original.auth.sessionMaxAgeMs);
    }
  }, 30_000);
});
