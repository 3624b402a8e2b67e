/**
 * The audit file's appender on a real file system: lines land whole and in
 * the order they were appended, however many arrive at once; a rotated file
 * is recreated; a failed write rejects its batch and the next one recovers.
 */
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableAppender } from '../../../src/observability/durable-append.js';
import { makeTempDir, removeDir } from '../../harness/tmp.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir('append');
});

afterEach(async () => {
  await removeDir(dir);
});

const lines = (n: number, tag = 'line') => Array.from({ length: n }, (_, i) => JSON.stringify({ tag, i }));

describe('DurableAppender', () => {
  it.each([1, 2, 50, 1000])('%i appends at once: every line once, in order, each promise resolved', async (n) => {
    const file = join(dir, 'audit.log');
    const appender = new DurableAppender(file);
    const expected = lines(n);
    await Promise.all(expected.map((line) => appender.append(line)));
    expect(await readFile(file, 'utf8')).toBe(expected.map((line) => `${line}\n`).join(''));
  });

  it('appends arriving while a batch is written go into the next one, still in order', async () => {
    const file = join(dir, 'audit.log');
    const appender = new DurableAppender(file);
    const first = appender.append('a');
    const second = Promise.resolve().then(() => appender.append('b'));
    await Promise.all([first, second, appender.append('c')]);
    await appender.append('d');
    expect(await readFile(file, 'utf8')).toBe('a\nc\nb\nd\n');
  });

  it('creates the file with mode 0600 and appends to an existing one', async () => {
    const file = join(dir, 'audit.log');
    await new DurableAppender(file).append('one');
    await new DurableAppender(file).append('two');
    expect([await readFile(file, 'utf8'), (await stat(file)).mode & 0o777]).toEqual(['one\ntwo\n', 0o600]);
  });

  it('a file renamed away (log rotation) is recreated on the next append', async () => {
    const file = join(dir, 'audit.log');
    const appender = new DurableAppender(file);
    await appender.append('before');
    await rename(file, `${file}.1`);
    await appender.append('after');
    expect([await readFile(`${file}.1`, 'utf8'), await readFile(file, 'utf8')]).toEqual(['before\n', 'after\n']);
  });

  it('a batch that cannot be written rejects, and the next batch is written once it can be', async () => {
    const file = join(dir, 'missing', 'audit.log');
    const appender = new DurableAppender(file);
    await expect(appender.append('lost')).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(join(dir, 'missing'));
    await appender.append('kept');
    expect(await readFile(file, 'utf8')).toBe('kept\n');
  });

  it('idle() waits for every pending line', async () => {
    const file = join(dir, 'audit.log');
    const appender = new DurableAppender(file);
    const pending = lines(20).map((line) => appender.append(line));
    await appender.idle();
    expect((await readFile(file, 'utf8')).split('\n')).toHaveLength(21);
    await Promise.all(pending);
  });
});
