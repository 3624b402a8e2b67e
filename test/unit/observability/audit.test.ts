/**
 * The audit log's two outputs: the log stream line (`audit: true`, the
 * fields but pino's own `time`) and the file line (every field, in the
 * documented order); and what happens when the file cannot be written.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_FIELDS, AuditLog, auditLine, type AuditEvent } from '../../../src/observability/audit.js';
import { makeTempDir, removeDir } from '../../harness/tmp.js';

const EVENT: AuditEvent = {
  time: '2026-06-01T12:00:00.000Z',
  event: 'delete',
  identity: 'alice',
  authMethod: 'apikey',
  client: '192.0.2.7',
  method: 'DELETE',
  repository: 'app',
  reference: 'v1',
  digest: `sha256:${'a'.repeat(64)}`,
  decision: 'allow',
  reason: 'admin-policy',
  status: 202,
  requestId: 'r-1',
  detail: { immutableTag: 'v1', rule: 'immutableTags[0]' },
};

/** A log sink recording what was logged, at which level. */
function sink() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, fields, msg });
  return { lines, log: { info: at('info'), error: at('error') } as never };
}

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir('audit');
});

afterEach(async () => {
  await removeDir(dir);
});

describe('auditLine', () => {
  it('holds every field, in the documented order, detail included whole', () => {
    const parsed = JSON.parse(auditLine({ ...EVENT, detail: { keyId: 'k', scopes: ['a/**'] } })) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([...AUDIT_FIELDS]);
    expect(parsed.detail).toEqual({ keyId: 'k', scopes: ['a/**'] });
  });
});

describe('AuditLog', () => {
  it('without a file: one info line with audit: true and the fields, pino keeping its own time', async () => {
    const { lines, log } = sink();
    await (await AuditLog.open(null)).record(EVENT, log);
    const { time: _time, ...fields } = EVENT;
    expect(lines).toEqual([{ level: 'info', fields: { audit: true, ...fields }, msg: 'audit' }]);
  });

  it('with a file: the same line in the log, and the whole event in the file (its directory made)', async () => {
    const { lines, log } = sink();
    const file = join(dir, 'nested', 'audit.log');
    const audit = await AuditLog.open(file);
    await audit.record(EVENT, log);
    await audit.record({ ...EVENT, requestId: 'r-2' }, log);
    expect(lines.map((line) => line.level)).toEqual(['info', 'info']);
    expect(await readFile(file, 'utf8')).toBe(`${auditLine(EVENT)}\n${auditLine({ ...EVENT, requestId: 'r-2' })}\n`);
  });

  it('a file that cannot be written: the event is logged at error with it, and record still resolves', async () => {
    const { lines, log } = sink();
    // a directory where the file should be: EISDIR, for root too
    const taken = join(dir, 'audit.log');
    await mkdir(taken);
    await (await AuditLog.open(taken)).record(EVENT, log);
    expect(lines.map(({ level, msg }) => [level, msg])).toEqual([
      ['info', 'audit'],
      ['error', 'audit event not written to the audit file'],
    ]);
    expect(lines[1]!.fields).toMatchObject({ err: { code: 'EISDIR' }, auditFile: taken, auditEvent: EVENT });
  });
});
