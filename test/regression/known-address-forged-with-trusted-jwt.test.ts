/**
 * Regression: a trusted JWT forged the username lock's known-address
 * exemption (issue 12 item 3).
 *
 * An address a user has authenticated from is "known" for that user: the
 * username lock does not apply there and failures from there do not count
 * against the username, so an attacker cannot lock a user out of where she
 * works. A JWT from a trusted issuer is accepted as the Basic password with
 * any username (CI tools speak only Basic), and the success marked the
 * address as known for the *Basic username*, not for the JWT's identity.
 *
 * The attack: anyone holding any trusted JWT (here the IdP's `outsider`
 * service account, no groups) sends `Basic alice:<jwt>` once from each of
 * their addresses; each becomes known for alice, and guesses at alice's key
 * from there never count against alice's username budget — only the per-
 * address limit is left, multiplied by the addresses.
 *
 * Now a success records the address under the identity that authenticated
 * (the JWT's mapped username, the key's owner, the gate token's subject),
 * at the registry and at the token endpoint; the Basic username of a JWT is
 * never trusted for anything.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUDIENCE } from '../harness/idp.js';
import { basic, ociBody, send, type RawResponse } from '../support/http.js';
import { trustedIssuer } from '../support/issuer.js';
import { useSsoGate } from '../support/sso-gate.js';

const accessControl = { repositories: { '**': { anonymousPolicy: ['read'], defaultPolicy: ['read'], policies: [{ groups: ['admins'], actions: ['read', 'create'] }] } } };
// A small username budget, a large address one: the username lock is what is under test.
const throttle = { delayAfter: 100, maxFailures: 50, usernameMaxFailures: 3, lockFor: '1m' };

const sso = useSsoGate({
  accessControl,
  auth: (idp) => ({
    failDelay: 0,
    throttle,
    trustedIssuers: [trustedIssuer(idp.issuer, DEFAULT_AUDIENCE)],
  }),
});

const wrongKey = (n: number) => `zak_${n.toString(16).padStart(32, '0')}`;
const PATH = '/v2/known/app/tags/list';
const get = (from: string, auth: string, path = PATH): Promise<RawResponse> =>
  send(sso.gate.url, { path, headers: { 'x-forwarded-for': from, authorization: auth } });
const locked = (user: string) => ociBody('TOOMANYREQUESTS', `too many failed authentications for user "${user}"; try again later`, 'username-locked');

/** Locks `user`'s username with wrong keys from addresses it never authenticated from. */
async function lockUsername(user: string, net: string): Promise<void> {
  for (let i = 1; i <= 2; i++) expect((await get(`${net}.${i}`, basic(user, wrongKey(i)))).status).toBe(401);
  const third = await get(`${net}.3`, basic(user, wrongKey(3)));
  expect(third.json()).toEqual(locked(user));
}


describe('Basic alice:<a trusted JWT for outsider>', () => {
  const attacker = '203.0.113.9';

  it('is accepted as outsider (the JWT decides who it is, not the Basic username)', async () => {
    const jwt = await sso.idp.clientCredentialsToken({ clientId: 'outsider' });
    const response = await get(attacker, basic('alice', jwt));
    expect(response.status, response.body).toBe(404); // anonymous may read; the registry has no such repository
    const line = sso.gate.logs.find((l) => l.msg === 'request' && l.url === PATH && l.status === 404);
    expect(line?.user).toBe('outsider');
  });

  it("does not make the attacker's address known for alice: guesses at alice's key from there count, and lock alice", async () => {
    for (let i = 0; i < 2; i++) expect((await get(attacker, basic('alice', wrongKey(100 + i)))).status).toBe(401);
    const third = await get(attacker, basic('alice', wrongKey(102)));
    expect(third.status).toBe(429);
    expect(third.json()).toEqual(locked('alice'));
  });

  it('makes it known for outsider, whose username lock then leaves that address alone', async () => {
    await lockUsername('outsider', '198.51.100');
    // from the address outsider authenticated from, a failure is a plain 401 (counted for the address only)
    const fromKnown = await get(attacker, basic('outsider', wrongKey(200)));
    expect(fromKnown.status, fromKnown.body).toBe(401);
    // from anywhere else the lock holds
    expect((await get('198.51.100.9', basic('outsider', wrongKey(201)))).json()).toEqual(locked('outsider'));
  });
});

describe('the same at the token endpoint, and with a Bearer JWT', () => {
  it('a token fetched with Basic mallory:<ci-robot JWT> marks the address for ci-robot, not mallory', async () => {
    const from = '203.0.113.20';
    const jwt = await sso.idp.clientCredentialsToken({ clientId: 'ci-robot' });
    const token = await get(from, basic('mallory', jwt), '/zot/auth/token?service=sso.registry.example.org');
    expect(token.status, token.body).toBe(200);
    await lockUsername('ci-robot', '198.51.101');
    await lockUsername('mallory', '198.51.102');
    expect((await get(from, basic('ci-robot', wrongKey(300)))).status).toBe(401);
    expect((await get(from, basic('mallory', wrongKey(301)))).json()).toEqual(locked('mallory'));
  });

  it('a Bearer JWT marks the address for its identity', async () => {
    const from = '203.0.113.30';
    const jwt = await sso.idp.clientCredentialsToken({ clientId: 'outsider' });
    expect((await get(from, `Bearer ${jwt}`)).status).toBe(404);
    // outsider's username is locked (above); from this address, now known for outsider, failures are plain 401s
    expect((await get(from, basic('outsider', wrongKey(400)))).status).toBe(401);
  });
});
