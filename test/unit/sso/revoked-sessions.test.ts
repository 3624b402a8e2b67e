/**
 * The file of ended sessions (`revoked-sessions.json`): its format and mode,
 * pruning on write, what a second gate on the same dataDir sees, and that a
 * file it cannot read refuses every session instead of forgetting them.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_REVOKED_SESSIONS } from '../../../src/policy/session-revocation.js';
import { RELOAD_INTERVAL_MS, REVOKED_SESSIONS_FILE, revocationFailure, RevokedSessions } from '../../../src/sso/revoked-sessions.js';
import { makeTempDir, removeDir } from '../../harness/tmp.js';

const NOW = 1_800_000_000;
const id = (n: number) => `session-id-${String(n).padStart(11, '0')}`;

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await makeTempDir('revoked-sessions');
  path = join(dir, 'data', REVOKED_SESSIONS_FILE);
});
afterEach(async () => {
  await removeDir(dir);
});

/** A clock a test moves by hand (epoch ms). */
function clockAt(start: number): { now: number; (): number } {
  const clock = (() => clock.now) as { now: number; (): number };
  clock.now = start;
  return clock;
}

const quiet = { onReloadProblem: () => undefined };

describe('RevokedSessions on disk', () => {
  it('makes dataDir 0700 and the file 0600, holding ids and expiries only, and leaves nothing beside it', async () => {
    const store = await RevokedSessions.open(path, quiet);
    await store.revoke({ id: id(1), expiresAt: NOW + 7200 }, NOW);
    expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 1, sessions: [{ id: id(1), expiresAt: NOW + 7200 }] });
    expect(await readdir(join(dir, 'data'))).toEqual([REVOKED_SESSIONS_FILE]);
    expect(store.revokedIds().has(id(1))).toBe(true);
  });

  it('prunes revocations whose session has expired when it writes', async () => {
    const store = await RevokedSessions.open(path, quiet);
    await store.revoke({ id: id(1), expiresAt: NOW + 10 }, NOW);
    await store.revoke({ id: id(2), expiresAt: NOW + 7200 }, NOW);
    // an hour on, session 1 has expired: its revocation goes with the next write
    await store.revoke({ id: id(3), expiresAt: NOW + 3600 + 7200 }, NOW + 3600);
    expect(JSON.parse(await readFile(path, 'utf8')).sessions).toEqual([
      { id: id(2), expiresAt: NOW + 7200 },
      { id: id(3), expiresAt: NOW + 3600 + 7200 },
    ]);
    expect([...store.revokedIds()]).toEqual([id(2), id(3)]);
  });

  it('survives a restart: a store opened afresh refuses the same ids', async () => {
    await (await RevokedSessions.open(path, quiet)).revoke({ id: id(1), expiresAt: NOW + 60 }, NOW);
    expect((await RevokedSessions.open(path, quiet)).revokedIds().has(id(1))).toBe(true);
  });

  it("a second gate on the same dataDir sees the first one's logout after the reload interval", async () => {
    const clock = clockAt(Date.parse('2030-01-01T00:00:00Z'));
    const first = await RevokedSessions.open(path, { ...quiet, clock });
    const second = await RevokedSessions.open(path, { ...quiet, clock });
    expect(second.revokedIds().size).toBe(0);
    await first.revoke({ id: id(1), expiresAt: NOW + 60 }, NOW);
    clock.now += RELOAD_INTERVAL_MS;
    expect(second.revokedIds().has(id(1))).toBe(true);
    // and both write under the lock from a fresh read: neither loses the other's
    await second.revoke({ id: id(2), expiresAt: NOW + 60 }, NOW);
    await first.revoke({ id: id(3), expiresAt: NOW + 60 }, NOW);
    expect(JSON.parse(await readFile(path, 'utf8')).sessions.map((s: { id: string }) => s.id)).toEqual([id(1), id(2), id(3)]);
  });

  it('concurrent logouts in one process are all recorded', async () => {
    const store = await RevokedSessions.open(path, quiet);
    await Promise.all(Array.from({ length: 20 }, (_, n) => store.revoke({ id: id(n), expiresAt: NOW + 60 }, NOW)));
    expect(JSON.parse(await readFile(path, 'utf8')).sessions).toHaveLength(20);
  });

  it.each([
    ['not JSON', '{"version":1,"sessions":['],
    ['another shape', '{"version":2,"sessions":[]}'],
    ['a malformed record', JSON.stringify({ version: 1, sessions: [{ id: id(1), expiresAt: 'tomorrow' }] })],
    ['an id that is no session id', JSON.stringify({ version: 1, sessions: [{ id: 'x', expiresAt: NOW }] })],
  ])('a file holding %s refuses every session and every logout, is never written over, and reads again once fixed', async (_name, text) => {
    const clock = clockAt(Date.parse('2030-01-01T00:00:00Z'));
    const problems: Array<string | null> = [];
    await (await RevokedSessions.open(path, quiet)).revoke({ id: id(1), expiresAt: NOW + 60 }, NOW);
    await writeFile(path, text);
    const store = await RevokedSessions.open(path, { clock, onReloadProblem: (p) => problems.push(p?.message ?? null) });
    expect(() => store.revokedIds()).toThrow(/refusing every session until it is fixed/);
    const failed = await store.revoke({ id: id(2), expiresAt: NOW + 60 }, NOW).catch((error: unknown) => error);
    expect(revocationFailure(failed)).toEqual({ reason: 'revocation-store-unreadable', problem: 'the list of ended sessions cannot be read' });
    expect(await readFile(path, 'utf8')).toBe(text);
    await writeFile(path, JSON.stringify({ version: 1, sessions: [{ id: id(1), expiresAt: NOW + 60 }] }));
    clock.now += RELOAD_INTERVAL_MS;
    expect([...store.revokedIds()]).toEqual([id(1)]);
    expect(problems).toEqual([expect.stringContaining(path), null]);
  });

  it('a full list refuses the logout (503 words), keeping every revocation it holds', async () => {
    const full = Array.from({ length: MAX_REVOKED_SESSIONS }, (_, n) => ({ id: id(n), expiresAt: NOW + 60 }));
    const store = await RevokedSessions.open(path, quiet);
    await writeFile(path, JSON.stringify({ version: 1, sessions: full }));
    const failed = await store.revoke({ id: id(MAX_REVOKED_SESSIONS), expiresAt: NOW + 60 }, NOW).catch((error: unknown) => error);
    expect(revocationFailure(failed)).toEqual({ reason: 'revocation-store-full', problem: 'too many sessions have been ended recently' });
    expect(JSON.parse(await readFile(path, 'utf8')).sessions).toHaveLength(MAX_REVOKED_SESSIONS);
    // once a minute has passed, they have all expired and the logout goes through
    await store.revoke({ id: id(MAX_REVOKED_SESSIONS), expiresAt: NOW + 7200 }, NOW + 60);
    expect(JSON.parse(await readFile(path, 'utf8')).sessions).toEqual([{ id: id(MAX_REVOKED_SESSIONS), expiresAt: NOW + 7200 }]);
  });
});
