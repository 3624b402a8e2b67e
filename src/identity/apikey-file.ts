/**
 * The API key store's file, `{ version: 1, keys, users }` (each user's
 * groups and the IdP account the name is bound to): read and checked
 * field by field, and the errors that name the file and say what is wrong
 * with it in words an operator can act on. A file that cannot be read or
 * checked is an error, never an empty store: starting empty would lock every
 * key out, and the next write would replace the file, losing every key.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { GateError } from '../errors.js';
import { readFileStampedSync, type FileStamp } from './atomic-file.js';
import type { ApiKeyRecord, UserBinding, UserRecord } from './types.js';

/** What the file holds. */
export interface StoreData {
  readonly version: 1;
  readonly keys: readonly ApiKeyRecord[];
  readonly users: readonly UserRecord[];
}

/**
 * Reads and checks the store file; null when there is none. Throws
 * `STORE_CORRUPT` (the content is wrong) or `STORE_UNREADABLE` (it cannot be
 * read, or it is a symbolic link to nothing: an unmounted volume, say).
 */
export function readStoreFile(path: string): { readonly data: StoreData; readonly stamp: FileStamp } | null {
  let read;
  try {
    read = readFileStampedSync(path);
  } catch (error) {
    throw unreadable(path, error);
  }
  if (read === null) {
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
      throw new GateError('STORE_UNREADABLE', `${path}: a symbolic link to ${readlinkSync(path)}, which does not exist; refusing to treat it as empty`);
    }
    return null;
  }
  return { data: parseStore(read.text, path), stamp: read.stamp };
}

/** The `STORE_UNREADABLE` error for a file that could not be read. */
export function unreadable(path: string, cause: unknown): GateError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  return new GateError('STORE_UNREADABLE', `${path}: cannot read the API key store (${code})`, { cause });
}

/** The `STORE_UNWRITABLE` error for a change that could not be written (a full or read-only disk). */
export function unwritable(path: string, cause: unknown): GateError {
  return new GateError('STORE_UNWRITABLE', `${path}: cannot write the API key store: ${systemProblem(cause)}`, { status: 503, cause });
}

/** Why a store operation failed, in words a client may see (no paths); null for any other error. */
export interface StoreFailure {
  readonly reason: 'key-store-unwritable' | 'key-store-unreadable' | 'key-store-busy';
  readonly problem: string;
}

export function storeFailure(error: unknown): StoreFailure | null {
  if (!(error instanceof GateError)) return null;
  switch (error.code) {
    case 'STORE_UNWRITABLE':
      return { reason: 'key-store-unwritable', problem: `the API key store cannot be written: ${systemWords(error.cause)}` };
    case 'STORE_CORRUPT':
    case 'STORE_UNREADABLE':
      return { reason: 'key-store-unreadable', problem: 'the API key store cannot be read' };
    case 'LOCK_TIMEOUT':
      return { reason: 'key-store-busy', problem: 'the API key store is locked by another process' };
    default:
      return null;
  }
}

/** `no space left on device (ENOSPC)`: the system's words for an fs error and its code, without its path. */
function systemProblem(error: unknown): string {
  const { code } = (error ?? {}) as NodeJS.ErrnoException;
  const words = systemWords(error);
  return code === undefined || words === code ? words : `${words} (${code})`;
}

/** The system's words for an fs error (`no space left on device`), without its path; shared by the other stores in dataDir. */
export function systemWords(error: unknown): string {
  const { code, errno } = (error ?? {}) as NodeJS.ErrnoException;
  return (errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1]) ?? code ?? 'an I/O error';
}

function parseStore(text: string, path: string): StoreData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = jsonErrorAt(text);
    throw corrupt(path, at === null ? 'not valid JSON' : `not valid JSON at line ${at.line}, column ${at.column}`, error);
  }
  if (!isObject(value) || value.version !== 1) throw corrupt(path, 'expected {"version": 1, "keys": [...], "users": [...]}');
  const { keys, users } = value;
  if (!Array.isArray(keys) || !keys.every(isKeyRecord)) throw corrupt(path, '"keys" holds a malformed record');
  if (!Array.isArray(users) || !users.every(isUserRecord)) throw corrupt(path, '"users" holds a malformed record');
  return { version: 1, keys, users };
}

/**
 * Where the first syntax error in `text` is (1-based), or null when the text
 * is fine as far as it goes and merely ends early (empty, truncated). V8's
 * messages give a position for some errors only, and quote the file for the
 * others; this asks the parser instead: a prefix that holds the error fails
 * before its end, a shorter one does not, so a binary search finds it.
 */
export function jsonErrorAt(text: string): { readonly line: number; readonly column: number } | null {
  if (!failsBeforeEnd(text)) return null;
  let ok = 0;
  let bad = text.length;
  while (bad - ok > 1) {
    const mid = (ok + bad) >>> 1;
    if (failsBeforeEnd(text.slice(0, mid))) bad = mid;
    else ok = mid;
  }
  const before = text.slice(0, bad - 1);
  const line = before.split('\n').length;
  return { line, column: before.length - before.lastIndexOf('\n') };
}

/** JSON.parse fails on something inside `prefix`, not merely at its end. */
function failsBeforeEnd(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith('Unexpected end of JSON input')) return false;
    const position = /at position (\d+)/.exec(message);
    return position === null || Number(position[1]) < prefix.length;
  }
}

function corrupt(path: string, problem: string, cause?: unknown): GateError {
  return new GateError('STORE_CORRUPT', `${path}: ${problem}; refusing to treat it as empty`, { cause });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isDate = (value: unknown): value is string => isString(value) && !Number.isNaN(Date.parse(value));
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

// An unparseable expiresAt would never expire: reject the file instead. parentId is
// optional: files from before it was recorded read as keys nobody minted.
function isKeyRecord(value: unknown): value is ApiKeyRecord {
  if (!isObject(value)) return false;
  const { id, hash, owner, label, createdAt, expiresAt, lastUsedAt, scopes, parentId } = value;
  return isString(id) && isString(hash) && /^[0-9a-f]{64}$/.test(hash) && isString(owner) && owner !== '' &&
    isString(label) && isDate(createdAt) && (expiresAt === null || isDate(expiresAt)) &&
    (lastUsedAt === null || isDate(lastUsedAt)) && isStrings(scopes) && (parentId === undefined || (isString(parentId) && parentId !== ''));
}

// boundTo is optional: files from before bindings were recorded read as names bound to nobody.
function isUserRecord(value: unknown): value is UserRecord {
  return isObject(value) && isString(value.name) && isStrings(value.groups) && isDate(value.updatedAt) && (value.boundTo === undefined || isBinding(value.boundTo));
}

function isBinding(value: unknown): value is UserBinding {
  return isObject(value) && isString(value.issuer) && value.issuer !== '' && isString(value.subject) && value.subject !== '' && isDate(value.boundAt);
}
