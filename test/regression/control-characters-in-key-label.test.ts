/**
 * Regression: control characters in a key's label.
 *
 * The account form refused labels with control characters, but zot's API
 * took them:
 *
 *     POST /zot/auth/apikey  {"label": "ci\u001b[2J\u001b[H\nfake-id\tadmin\t…"}
 *
 * and `zot-gate apikey list` printed them raw to the operator's terminal:
 * escape sequences that clear the screen or retitle the window, and newlines
 * and tabs that draw fake rows. Now one rule (checkKeyLabel, policy/api-key.ts) checks
 * every label, from the form, the API and `apikey create --label`; and the
 * command line never prints a control character raw: `apikey list` escapes
 * them in every field (for labels stored before the rule) and `--json`
 * escapes those JSON itself leaves raw (DEL, C1, line separators, bidi).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyStorePath } from '../../src/identity/apikey-store.js';
import { readNewKey } from '../../src/sso/account-routes.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { cli } from '../support/cli.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociBody, send } from '../support/http.js';

let registry: Registry;
let gate: GateUnderTest;
let key: string;

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl: { repositories: {} } });
  ({ key } = await gate.store.create({ owner: 'ci', label: 'boot', expiresAt: null, scopes: [] }));
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

/** Any C0 or C1 control, DEL, a line or paragraph separator, a bidi override or isolate. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const LABELS: Array<[string, string]> = [
  ['ESC (a screen clear)', 'ci\u001b[2J\u001b[H'],
  ['a newline (a fake row)', 'ci\nfake\tadmin'],
  ['a tab', 'ci\tx'],
  ['DEL', 'ci\u007f'],
  ['C1 CSI', 'ci\u009b31m'],
  ['a right-to-left override', 'ci\u202eniam'],
  ['a line separator', 'ci\u2028x'],
];

describe('POST /zot/auth/apikey applies the label rule', () => {
  it.each(LABELS)('a label with %s → 400 label-invalid, no key', async (_name, label) => {
    const before = (await gate.store.list('ci')).length;
    const response = await send(gate.url, {
      method: 'POST',
      path: '/zot/auth/apikey',
      headers: { authorization: basic('ci', key), 'content-type': 'application/json' },
      body: JSON.stringify({ label }),
    });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual(ociBody('UNSUPPORTED', 'label: control characters are not allowed', 'label-invalid'));
    expect((await gate.store.list('ci')).length).toBe(before);
  });

  it.each(LABELS)('the account form refuses a label with %s in the same words', (_name, label) => {
    expect(readNewKey({ label, expires: '7d', scopes: '' }, null, new Date())).toBe('Label: control characters are not allowed.');
  });
});

describe('the command line', () => {
  it.each(LABELS)('apikey create --label with %s → exit 2, no key', async (_name, label) => {
    const before = (await gate.store.list('ci')).length;
    const result = await cli(['apikey', 'create', '--user', 'ci', '--label', label, '--config', gate.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('zot-gate: --label: control characters are not allowed');
    expect(result.stdout).toBe('');
    expect((await gate.store.list('ci')).length).toBe(before);
  });

  it('apikey list escapes control characters a label stored by an older version holds', async () => {
    const { record } = await gate.store.create({ owner: 'ci', label: 'old', expiresAt: null, scopes: [] });
    const path = keyStorePath(gate.config);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: Array<{ id: string; label: string }> };
    const evil = 'x\u001b]0;pwned\u0007\n00000000-fake\tci\t\u009b2J\u202e';
    file.keys.find((k) => k.id === record.id)!.label = evil;
    await writeFile(path, JSON.stringify(file));

    const text = await cli(['apikey', 'list', '--config', gate.configPath]);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(RAW_CONTROL);
    const row = text.stdout.split('\n').find((line) => line.startsWith(record.id))!;
    expect(row.split('\t')[2]).toBe('x\\x1b]0;pwned\\x07\\x0a00000000-fake\\x09ci\\x09\\x9b2J\\u202e');
    expect(text.stdout.split('\n').filter((line) => line !== '')).toHaveLength((await gate.store.list()).length + 1);

    const json = await cli(['apikey', 'list', '--json', '--config', gate.configPath]);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const listed = JSON.parse(json.stdout) as { apiKeys: Array<{ uuid: string; label: string }> };
    expect(listed.apiKeys.find((k) => k.uuid === record.id)!.label).toBe(evil);
  });
});
