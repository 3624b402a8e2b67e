/**
 * SIGHUP's reload (issue 12 item 14): the log line names every section only a
 * restart changes, and those of them the new file changes, which stay as they
 * were; the rest applies to the next request. Run in-process on the handler
 * `serve` installs (lifecycle.test.ts sends the real signal to a real process).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadOnHangup } from '../../src/commands/serve.js';
import { createLogger } from '../../src/observability/logger.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, send } from '../support/http.js';

const RESTART_NEEDED = ['listen', 'upstream', 'dataDir', 'log.level', 'auth.openid.providers', 'auth.trustedIssuers', 'auth.trustedProxies', 'audit.file'];
const MESSAGE = `config reloaded; changes to ${RESTART_NEEDED.join(', ')} need a restart`;
const open = { repositories: { '**': { anonymousPolicy: ['read'] } } };
const closed = { repositories: { '**': { policies: [{ groups: ['ci'], actions: ['read'] }] } } };

let registry: Registry;
let gate: GateUnderTest;
let original: Record<string, unknown>;

/** Writes the gate's config file as `change` makes it from the original, sends the reload, returns the lines it logged. */
async function reloadWith(change: (file: Record<string, unknown>) => Record<string, unknown> | string): Promise<Array<Record<string, unknown>>> {
  const next = change(structuredClone(original));
  await writeFile(gate.configPath, typeof next === 'string' ? next : JSON.stringify(next));
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  reloadOnHangup(gate.app, gate.config, logger);
  logger.flush();
  return lines.map(({ level, msg, restartNeeded, notApplied, problems }) => ({ level, msg, restartNeeded, notApplied, problems }));
}

const anonymousTags = async () => (await send(gate.url, { path: '/v2/reload/app/tags/list', headers: { 'x-forwarded-for': '203.0.113.5' } })).status;

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl: open });
  original = JSON.parse(await readFile(gate.configPath, 'utf8')) as Record<string, unknown>;
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

describe('SIGHUP', () => {
  it('a policy change applies at once; the line names every restart-only section, none of them changed', async () => {
    expect(await anonymousTags()).toBe(404);
    expect(await reloadWith((file) => ({ ...file, accessControl: closed }))).toEqual([
      { level: 'info', msg: MESSAGE, restartNeeded: RESTART_NEEDED, notApplied: [], problems: undefined },
    ]);
    expect(await anonymousTags()).toBe(401);
  });

  it('changes to restart-only sections are named as not applied (a warning), and are not', async () => {
    const lines = await reloadWith((file) => ({
      ...file,
      accessControl: open,
      listen: { host: '127.0.0.1', port: 1 },
      log: { level: 'warn' },
      audit: { file: './audit.jsonl' },
      auth: { ...(file.auth as object), trustedProxies: ['10.0.0.0/8'], trustedIssuers: [{ issuer: 'https://ci.example.org', audience: 'zot', claimMapping: {} }] },
    }));
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: MESSAGE,
        restartNeeded: RESTART_NEEDED,
        notApplied: ['listen', 'log.level', 'auth.trustedIssuers', 'auth.trustedProxies', 'audit.file'],
        problems: undefined,
      },
    ]);
    // the policy applied; trustedProxies did not: X-Forwarded-For from loopback is still believed
    expect(await anonymousTags()).toBe(404);
    gate.logs.length = 0;
    const refused = await send(gate.url, { path: '/v2/', headers: { 'x-forwarded-for': '203.0.113.5', authorization: basic('x', 'zak_bad') } });
    expect(refused.status).toBe(401);
    expect(gate.logs.filter((l) => l.msg === 'audit').map((l) => l.client)).toEqual(['203.0.113.5']);
  });

  it('a broken file is refused with every problem; the previous config stays', async () => {
    const lines = await reloadWith(() => '{ "upstream": 1 }');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', msg: 'config reload refused; the previous config stays in force' });
    expect(lines[0]!.problems).toContainEqual({ subject: 'upstream', problem: 'expected object', rule: 'object' });
    expect(await anonymousTags()).toBe(404);
  });
});
