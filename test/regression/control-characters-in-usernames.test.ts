/**
 * Regression: control characters in usernames.
 *
 * The attack: a username is whatever the IdP's claim says (an editable
 * display name, an email address, a `preferred_username`), and the gate took
 * it as it came. Someone who can set theirs to `eve\u001b[2J\u001b[H` or
 * `eve\n<uuid>\tci\t…` signs in once; the name is stored with their groups
 * and printed to an operator's terminal by the command line: escape
 * sequences that clear the screen or retitle the window, newlines and tabs
 * that draw fake rows. `apikey create --user` took such names too. (Labels
 * had the same hole; see control-characters-in-key-label.test.ts.)
 *
 * Now one username rule (policy/username.ts, the label rule's character
 * set): a login whose username holds a control character, a line separator
 * or a bidi override is refused with a page and an audit event, and stores
 * nothing; `apikey create --user` and `explain --user` refuse one with exit
 * 2; and every command
 * that prints a stored username (from before the rule) prints such
 * characters as escapes. Real gate, real OIDC provider, the built CLI.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { keyStorePath } from '../../src/identity/apikey-store.js';
import { cli } from '../support/cli.js';
import { signIn } from '../support/sign-in.js';
import { useSsoGate } from '../support/sso-gate.js';

const sso = useSsoGate({ accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } } });

/** Any C0 or C1 control but the tab and newline of the table itself, DEL, a line or paragraph separator, a bidi override or isolate. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const NAMES: Array<[string, string]> = [
  ['ESC (a screen clear)', 'eve\u001b[2J\u001b[H'],
  ['a newline and tabs (a fake row)', 'eve\n00000000-0000-0000-0000-000000000000\tci\tadmin'],
  ['DEL', 'eve\u007f'],
  ['C1 CSI', 'eve\u009b2J'],
  ['a right-to-left override', 'eve\u202enimda'],
];

describe('a login whose username holds control characters', () => {
  it.each(NAMES)('%s: refused with a page, no session, nothing stored, audited', async (_what, name) => {
    const login = `eve-${Buffer.from(name).toString('hex').slice(-8)}`;
    await sso.idp.setUser(login, { preferred_username: name, groups: ['admins'] });
    const page = await signIn(sso.gate.url, login);
    expect(page.status).toBe(403);
    expect(page.body).toContain('Test IdP gave a username this registry does not accept: control characters are not allowed.');
    expect(page.body).not.toMatch(RAW_CONTROL);
    expect(page.cookies.has('session')).toBe(false);
    const stored = JSON.parse(await readFile(keyStorePath(sso.gate.config), 'utf8').catch(() => '{"users":[]}')) as { users: Array<{ name: string }> };
    expect(stored.users.map((user) => user.name)).not.toContain(name);
    const audit = sso.gate.logs.filter((line) => line.audit === true && line.reason === 'username-invalid').at(-1);
    expect(audit).toMatchObject({ event: 'login', identity: null, decision: 'deny', status: 403, detail: { provider: 'oidc', issuer: sso.idp.issuer, subject: login } });
  }, 30_000);
});

describe('the command line', () => {
  it.each(NAMES)('apikey create --user with %s → exit 2, no key', async (_what, name) => {
    const result = await cli(['apikey', 'create', '--user', name, '--config', sso.gate.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('zot-gate: --user: control characters are not allowed');
    expect(result.stdout).toBe('');
    expect(await sso.gate.store.list(name)).toEqual([]);
  });

  it('explain --user with one → exit 2 (it would echo the name)', async () => {
    const result = await cli(['explain', '--user', 'eve\u001b[2J', '--repo', 'team/app', '--action', 'read', '--config', sso.gate.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('zot-gate: --user: control characters are not allowed');
    expect(result.stdout).toBe('');
  });

  it('apikey list, apikey revoke --all and user list escape a username stored by an older version', async () => {
    const evil = 'x\u001b]0;pwned\u0007\n00000000-fake\tci\t\u009b2J\u202e';
    const { record } = await sso.gate.store.create({ owner: 'placeholder', label: 'old', expiresAt: null, scopes: [], groups: ['admins'] });
    const path = keyStorePath(sso.gate.config);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: Array<{ id: string; owner: string }>; users: Array<{ name: string }> };
    file.keys.find((k) => k.id === record.id)!.owner = evil;
    file.users.find((u) => u.name === 'placeholder')!.name = evil;
    await writeFile(path, JSON.stringify(file));
    const escaped = 'x\\x1b]0;pwned\\x07\\x0a00000000-fake\\x09ci\\x09\\x9b2J\\u202e';

    const keys = await cli(['apikey', 'list', '--config', sso.gate.configPath]);
    expect(keys.code).toBe(0);
    expect(keys.stdout).not.toMatch(RAW_CONTROL);
    expect(keys.stdout.split('\n').find((line) => line.startsWith(record.id))!.split('\t')[1]).toBe(escaped);

    const users = await cli(['user', 'list', '--config', sso.gate.configPath]);
    expect(users.code).toBe(0);
    expect(users.stdout).not.toMatch(RAW_CONTROL);
    expect(users.stdout.split('\n')).toContain(`${escaped}\tadmins\t-\t-\t-`);
    const json = await cli(['user', 'list', '--json', '--config', sso.gate.configPath]);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect((JSON.parse(json.stdout) as { users: Array<{ name: string }> }).users.map((u) => u.name)).toContain(evil);

    const revoked = await cli(['apikey', 'revoke', '--user', evil, '--all', '--config', sso.gate.configPath]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`revoked 1 key(s) of ${escaped}\n`);
  }, 30_000);
});
