/** Key changes made with the CLI are audit events in the audit file, like those made over HTTP. */
import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_FIELDS } from '../../src/observability/audit.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { cli } from '../support/cli.js';

let dir: string;
let config: string;

beforeAll(async () => {
  dir = await makeTempDir('cli-audit');
  config = join(dir, 'zot-gate.json');
  await writeFile(
    config,
    JSON.stringify({
      upstream: { url: 'http://127.0.0.1:5051' },
      dataDir: './data',
      audit: { file: './audit/audit.jsonl' },
      accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
    }),
  );
});

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe('zot-gate apikey and the audit file', () => {
  it('create and revoke each append one line naming the operator, never the key', async () => {
    const created = await cli(['apikey', 'create', '--user', 'ci', '--label', 'build', '--config', config]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const key = created.stdout.trim();
    const listed = JSON.parse((await cli(['apikey', 'list', '--json', '--config', config])).stdout) as { apiKeys: Array<{ uuid: string }> };
    const id = listed.apiKeys[0]!.uuid;
    expect(await cli(['apikey', 'revoke', '--id', id, '--config', config])).toMatchObject({ code: 0, stderr: '' });

    const text = await readFile(join(dir, 'audit', 'audit.jsonl'), 'utf8');
    expect(text).not.toContain(key);
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => Object.keys(l))).toEqual([[...AUDIT_FIELDS], [...AUDIT_FIELDS]]);
    expect(lines.map((l) => [l.event, l.identity, l.authMethod, l.decision, l.reason, (l.detail as { owner: string; keyId: string }).owner])).toEqual([
      ['key-create', `cli:${userInfo().username}`, 'cli', 'allow', 'apikey-created', 'ci'],
      ['key-revoke', `cli:${userInfo().username}`, 'cli', 'allow', 'apikey-revoked', 'ci'],
    ]);
    expect((lines[1]!.detail as { keyId: string }).keyId).toBe(id);
  });
});
