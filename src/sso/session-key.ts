/**
 * The key that seals session cookies: 32 random bytes in `<dataDir>/session.key`,
 * made 0600 on first start and kept, so a restart does not log everyone out.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GateError } from '../errors.js';

const SESSION_KEY_FILE = 'session.key';

export async function loadSessionKey(dataDir: string): Promise<Uint8Array> {
  const path = join(dataDir, SESSION_KEY_FILE);
  await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw new GateError('SESSION_KEY', `cannot create ${dataDir}: ${(error as Error).message}`, { cause: error });
  });
  let handle;
  try {
    // `wx`: of two processes starting at once, exactly one creates the key.
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new GateError('SESSION_KEY', `cannot create ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
  if (handle !== undefined) {
    try {
      await handle.writeFile(randomBytes(32).toString('base64url'));
      await handle.sync();
    } catch (error) {
      // A full disk leaves the file empty: remove it, or the next start would refuse it as not a key.
      await unlink(path).catch(() => undefined);
      throw new GateError('SESSION_KEY', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
    } finally {
      await handle.close();
    }
  }
  const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  if (key.length !== 32) throw new GateError('SESSION_KEY', `${path} does not hold a 32-byte key; remove it to make a new one`);
  return new Uint8Array(key);
}
