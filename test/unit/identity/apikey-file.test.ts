/**
 * The store file's reader and the words its failures are told in: where a
 * syntax error is, a symbolic link to nothing, and what a client may be told
 * when the server's storage fails (never a path).
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GateError } from '../../../src/errors.js';
import { jsonErrorAt, readStoreFile, storeFailure, unwritable } from '../../../src/identity/apikey-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apikey-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 1-based line and column of offset `at` in `text`. */
function lineColumn(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at);
  return { line: before.split('\n').length, column: at - before.lastIndexOf('\n') };
}

describe('jsonErrorAt', () => {
  const rows: [string, string, { line: number; column: number } | null][] = [
    ['an empty text', '', null],
    ['whitespace only', ' \n ', null],
    ['a truncated document', '{"version":1,"keys":[', null],
    ['a document cut inside a number', '{"a":1.', null],
    ['a document cut inside a literal', '{"a":tru', null],
    ['garbage', 'garbage', { line: 1, column: 1 }],
    ['a stray comma on line 3', '{\n  "version": 1,\n  "keys": [,\n]}', { line: 3, column: 12 }],
    ['a trailing comma', '{"a":1,}', { line: 1, column: 8 }],
    ['a control character in a string', '{"a":"x\ny"}', { line: 1, column: 8 }],
    ['text after the document', '{}\n\nx', { line: 3, column: 1 }],
    ['a valid document', '{"version":1,"keys":[],"users":[]}', null],
  ];
  it.each(rows)('%s', (_, text, expected) => {
    expect(jsonErrorAt(text)).toEqual(expected);
  });

  // A control character is an error wherever it stands in JSON, so it is the first error.
  it('finds a control character inserted anywhere in a valid document, exactly', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), fc.nat(), (value, pretty, seed) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        const at = seed % (text.length + 1);
        const broken = `${text.slice(0, at)}\u0001${text.slice(at)}`;
        expect(jsonErrorAt(broken)).toEqual(lineColumn(broken, at));
      }),
      { numRuns: 300 },
    );
  });

  it('finds nothing in any prefix of a valid document: it merely ends early', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
        const text = JSON.stringify(value, null, 2);
        expect(jsonErrorAt(text.slice(0, seed % (text.length + 1)))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});

describe('readStoreFile', () => {
  it('names the line and column of a syntax error inside the file', async () => {
    const path = join(dir, 'apikeys.json');
    await writeFile(path, '{\n  "version": 1,\n  "keys": [,\n]}');
    expect(() => readStoreFile(path)).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT', message: `${path}: not valid JSON at line 3, column 12; refusing to treat it as empty` }),
    );
  });

  // A store on a volume that is not mounted yet must not start empty (and be replaced at the next write).
  it('refuses a symbolic link to a missing file: STORE_UNREADABLE', async () => {
    const path = join(dir, 'apikeys.json');
    await symlink(join(dir, 'volume', 'apikeys.json'), path);
    expect(() => readStoreFile(path)).toThrow(
      expect.objectContaining({
        code: 'STORE_UNREADABLE',
        message: `${path}: a symbolic link to ${join(dir, 'volume', 'apikeys.json')}, which does not exist; refusing to treat it as empty`,
      }),
    );
  });

  it('reads through a symbolic link to a file, and gives null for no file at all', async () => {
    const path = join(dir, 'apikeys.json');
    expect(readStoreFile(path)).toBeNull();
    await writeFile(join(dir, 'real.json'), '{"version":1,"keys":[],"users":[]}');
    await symlink(join(dir, 'real.json'), path);
    expect(readStoreFile(path)?.data).toEqual({ version: 1, keys: [], users: [] });
  });
});

describe('storeFailure: what a client is told', () => {
  const errno = (code: string, errnoNumber: number) => Object.assign(new Error(`${code}: …, write '/secret/path'`), { code, errno: errnoNumber });
  const rows: [string, unknown, ReturnType<typeof storeFailure>][] = [
    ['a full disk', unwritable('/data/apikeys.json', errno('ENOSPC', -28)), { reason: 'key-store-unwritable', problem: 'the API key store cannot be written: no space left on device' }],
    ['a read-only disk', unwritable('/data/apikeys.json', errno('EROFS', -30)), { reason: 'key-store-unwritable', problem: 'the API key store cannot be written: read-only file system' }],
    ['a file size limit', unwritable('/data/apikeys.json', errno('EFBIG', -27)), { reason: 'key-store-unwritable', problem: 'the API key store cannot be written: file too large' }],
    ['an error without errno', unwritable('/data/apikeys.json', new Error('boom')), { reason: 'key-store-unwritable', problem: 'the API key store cannot be written: an I/O error' }],
    ['a corrupt file', new GateError('STORE_CORRUPT', '/data/apikeys.json: not valid JSON'), { reason: 'key-store-unreadable', problem: 'the API key store cannot be read' }],
    ['an unreadable file', new GateError('STORE_UNREADABLE', '/data/apikeys.json: cannot read'), { reason: 'key-store-unreadable', problem: 'the API key store cannot be read' }],
    ['a lock held too long', new GateError('LOCK_TIMEOUT', '/data/apikeys.json.lock: still locked'), { reason: 'key-store-busy', problem: 'the API key store is locked by another process' }],
    ['a bad request', new GateError('APIKEY_INVALID', 'api key: owner is empty', { status: 400 }), null],
    ['a foreign error', new Error('ENOSPC'), null],
  ];
  it.each(rows)('%s', (_, error, expected) => {
    expect(storeFailure(error)).toEqual(expected);
  });

  it('the operator gets the path, the words and the code', () => {
    expect(unwritable('/data/apikeys.json', errno('ENOSPC', -28))).toMatchObject({
      code: 'STORE_UNWRITABLE',
      status: 503,
      message: '/data/apikeys.json: cannot write the API key store: no space left on device (ENOSPC)',
    });
  });
});
