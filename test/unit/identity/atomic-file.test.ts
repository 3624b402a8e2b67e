import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  readFileStampedSync,
  readJsonFile,
  removeTempFiles,
  sameStamp,
  statStampSync,
  writeFileAtomic,
} from '../../../src/identity/atomic-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomic-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates the file with mode 0600 by default and leaves no temp file', async () => {
    const path = join(dir, 'a.json');
    await writeFileAtomic(path, '{"a":1}');
    expect(await readFile(path, 'utf8')).toBe('{"a":1}');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it.each([0o600, 0o640, 0o400])('sets mode %o exactly, replacing an existing file with wider mode', async (mode) => {
    const path = join(dir, 'a.json');
    await writeFile(path, 'old', { mode: 0o666 });
    const before = await stat(path);
    await writeFileAtomic(path, 'new', mode);
    const after = await stat(path);
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(after.mode & 0o777).toBe(mode);
    // replaced by rename, not rewritten in place
    expect(after.ino).not.toBe(before.ino);
  });

  it('fails without leaving a temp file when the target cannot be replaced', async () => {
    // renaming a file over a non-empty directory fails after the temp file is written
    const path = join(dir, 'target');
    await mkdir(join(path, 'child'), { recursive: true });
    await expect(writeFileAtomic(path, 'data')).rejects.toMatchObject({ code: 'EISDIR' });
    expect((await readdir(dir)).sort()).toEqual(['target']);
  });
});

describe('removeTempFiles', () => {
  it('removes only the temp files of the given target', async () => {
    const path = join(dir, 'store.json');
    const names = ['store.json', '.store.json.123.abcdef.tmp', '.store.json.9.00.tmp', '.other.json.1.aa.tmp', 'store.json.lock', '.store.json.notes'];
    for (const name of names) await writeFile(join(dir, name), 'x');
    expect(await removeTempFiles(path)).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['.other.json.1.aa.tmp', '.store.json.notes', 'store.json', 'store.json.lock']);
  });
});

describe('readJsonFile', () => {
  it.each([
    ['{"version":1}', { version: 1 }],
    ['[1,2]', [1, 2]],
    ['null', null],
  ])('parses %s', async (text, expected) => {
    const path = join(dir, 'x.json');
    await writeFile(path, text);
    expect(await readJsonFile(path)).toEqual(expected);
  });

  it('returns null for a missing file', async () => {
    expect(await readJsonFile(join(dir, 'missing.json'))).toBeNull();
  });

  it('throws the SyntaxError of a file that is not JSON', async () => {
    const path = join(dir, 'x.json');
    await writeFile(path, '{"version":');
    await expect(readJsonFile(path)).rejects.toBeInstanceOf(SyntaxError);
  });

  it('throws the I/O error of a path it cannot read', async () => {
    await expect(readJsonFile(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('stamps', () => {
  it('change on every atomic write, even with identical size', async () => {
    const path = join(dir, 's.json');
    expect(statStampSync(path)).toBeNull();
    expect(readFileStampedSync(path)).toBeNull();
    await writeFileAtomic(path, 'aaaa');
    const first = readFileStampedSync(path);
    expect(first?.text).toBe('aaaa');
    expect(sameStamp(first?.stamp ?? null, statStampSync(path))).toBe(true);
    await writeFileAtomic(path, 'bbbb');
    const second = readFileStampedSync(path);
    expect(second?.text).toBe('bbbb');
    expect(sameStamp(first?.stamp ?? null, second?.stamp ?? null)).toBe(false);
  });

  it.each([
    [null, null, true],
    [{ mtimeMs: 1, size: 2, ino: 3 }, null, false],
    [null, { mtimeMs: 1, size: 2, ino: 3 }, false],
    [{ mtimeMs: 1, size: 2, ino: 3 }, { mtimeMs: 1, size: 2, ino: 3 }, true],
    [{ mtimeMs: 1, size: 2, ino: 3 }, { mtimeMs: 9, size: 2, ino: 3 }, false],
    [{ mtimeMs: 1, size: 2, ino: 3 }, { mtimeMs: 1, size: 9, ino: 3 }, false],
    [{ mtimeMs: 1, size: 2, ino: 3 }, { mtimeMs: 1, size: 2, ino: 9 }, false],
  ])('sameStamp(%j, %j) → %s', (a, b, expected) => {
    expect(sameStamp(a, b)).toBe(expected);
  });
});
