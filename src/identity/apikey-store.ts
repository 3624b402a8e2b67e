/**
 * The durable API key store: one JSON file, `{ version: 1, keys, users }`,
 * shared by the running gate and the `zot-gate apikey` command.
 *
 * Every mutation holds `<file>.lock` from a fresh read to the atomic rename, so
 * two processes never lose each other's changes, and resolves only once the
 * write is durable. Readers keep an index by key hash and look at the file's
 * stamp at most once per `RELOAD_INTERVAL_MS`, so a key created or revoked by
 * another process takes effect within about a second. The key itself is never
 * stored: only its SHA-256.
 *
 * Each user's record holds the groups their keys carry and the IdP account
 * (issuer and subject) the name is bound to, or the local subject for a
 * service account: a login checks and records both in one write, so two
 * logins racing for one name cannot both bind it.
 *
 * A key minted with another key names it as `parentId`. Revoking a key removes
 * every key below it in the same write; a key whose parent is gone (removed
 * by an older version that did not know parents) is treated as revoked too.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config/types.js';
import { GateError } from '../errors.js';
import { checkKeyLabel, keyExpired } from '../policy/api-key.js';
import { bindingDecision, localSubject, type BindingDecision, type Subject } from '../policy/subject-binding.js';
import { generateApiKey, hashApiKey, isApiKeyFormat } from './apikey.js';
import { readStoreFile, unreadable, unwritable, type StoreData } from './apikey-file.js';
import { removeTempFiles, sameStamp, statStampSync, writeFileAtomic } from './atomic-file.js';
import type { FileStamp } from './atomic-file.js';
import { withFileLock } from './file-lock.js';
import type { FileLockOptions } from './file-lock.js';
import type { ApiKeyRecord, UserBinding, UserRecord } from './types.js';

/** The store's file name inside `dataDir`. */
export const API_KEY_STORE_FILE = 'apikeys.json';

/** The store file of the gate `config` describes: the gate, the CLI and the demo all open this one. */
export function keyStorePath(config: Config): string {
  return join(config.dataDir, API_KEY_STORE_FILE);
}
/** How stale a reader's view of the file may get. */
export const RELOAD_INTERVAL_MS = 1_000;
/** How often one key's `lastUsedAt` is written back. */
const USE_FLUSH_INTERVAL_MS = 60_000;

/** Why a presented key does not authenticate. */
export type LookupFailure = 'unknown-key' | 'expired-key' | 'malformed-key';

/** A key's record and the groups it carries (its owner's stored groups). */
export type LookupResult =
  | { readonly ok: true; readonly record: ApiKeyRecord; readonly groups: readonly string[] }
  | { readonly ok: false; readonly reason: LookupFailure };

/** What `create` needs; `groups`, when given, replaces the owner's groups. */
export interface NewApiKey {
  readonly owner: string;
  readonly label: string;
  readonly expiresAt: Date | null;
  readonly scopes: readonly string[];
  readonly groups?: readonly string[];
  /**
   * With `groups`: the operator set them (`apikey create --groups`), so the
   * owner is a service account, bound to the local subject unless its name
   * is bound already; SSO logins with the name are refused until released.
   */
  readonly serviceAccount?: boolean;
  /** the key making this one (zot's API called with a key); it must still be there */
  readonly parentId?: string;
}

/** What every API key store does; one contract suite runs against each. */
export interface KeyStore {
  /** synchronous: it runs on every request carrying a key; expiry per `keyExpiry` (policy/api-key.ts) */
  lookup(key: string, now: Date, maxLifetimeMs?: number | null): LookupResult;
  /** synchronous, like lookup: the key with this id as it is now (every use of a token minted from it asks) */
  keyById(id: string, now: Date, maxLifetimeMs: number | null): LookupResult;
  /** never rejects; resolves once a due write-back has finished */
  recordUse(id: string, now: Date): Promise<void>;
  flush(): Promise<void>;
  create(input: NewApiKey): Promise<{ key: string; record: ApiKeyRecord }>;
  list(owner?: string): Promise<ApiKeyRecord[]>;
  /** is the key with this id still there and unexpired (maxLifetime included)? */
  isActive(id: string, now: Date, maxLifetimeMs: number | null): boolean;
  /** revokes the key and every key below it; false when no key has that id */
  revoke(id: string): Promise<boolean>;
  /** as `revoke`; the ids removed, the key's first, then those it minted (transitively); empty when none */
  revokeTree(id: string): Promise<readonly string[]>;
  /** revokes every key of `owner`, and every key below them; returns how many */
  revokeAllForUser(owner: string): Promise<number>;
  setUserGroups(name: string, groups: readonly string[]): Promise<void>;
  /**
   * An SSO login of `subject` as `name`: refused (nothing written) when the
   * name is bound to another subject; else records the groups, and binds the
   * name to `subject` if it was bound to nobody.
   */
  recordLogin(name: string, groups: readonly string[], subject: Subject): Promise<BindingDecision>;
  /** Unbinds `name` from its IdP account, keeping its groups and keys; the binding removed, or null when there was none. */
  releaseBinding(name: string): Promise<UserBinding | null>;
  /** Every user record (groups and binding), by name. */
  users(): Promise<UserRecord[]>;
  /**
   * Synchronous, like lookup: `name`'s groups as last recorded (their latest
   * login, or `apikey create --groups`), empty for a name never recorded;
   * throws while the file cannot be read. Browser sessions read theirs here.
   */
  groupsOf(name: string): readonly string[];
}

/** Tuning for tests; production uses the defaults. */
export interface ApiKeyStoreOptions {
  /** epoch milliseconds; drives reload checks, use flushes and `createdAt` */
  readonly clock?: () => number;
  readonly lock?: FileLockOptions;
  /** where failed background `lastUsedAt` writes go (default: a process warning) */
  readonly onFlushError?: (error: unknown) => void;
  /**
   * Told when the file stops reading well under a running store (the error:
   * keys are refused until it is fixed) and when it reads again (null).
   * Default: a process warning for the error.
   */
  readonly onReloadProblem?: (problem: GateError | null) => void;
}

interface Snapshot {
  readonly data: StoreData;
  readonly stamp: FileStamp | null;
  readonly byHash: ReadonlyMap<string, ApiKeyRecord>;
  /** every request carrying a gate token minted from a key asks by id */
  readonly byId: ReadonlyMap<string, ApiKeyRecord>;
  readonly groups: ReadonlyMap<string, readonly string[]>;
}

type Resolved = { readonly record: ApiKeyRecord; readonly groups: readonly string[] };
type Change<T> = (data: StoreData) => { readonly data: StoreData | null; readonly result: T };

/** The file-backed {@link KeyStore}. */
export class ApiKeyStore implements KeyStore {
  readonly path: string;
  readonly #clock: () => number;
  readonly #lock: FileLockOptions;
  readonly #onFlushError: (error: unknown) => void;
  readonly #onReloadProblem: (problem: GateError | null) => void;
  readonly #cache: LRUCache<string, Resolved>;
  #snapshot: Snapshot;
  #checkedAt: number;
  #failure: GateError | undefined = undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #pendingUse = new Map<string, string>();
  readonly #flushedAt = new Map<string, number>();

  /**
   * Opens (creating `dirname(path)` with mode 0700 if missing) and loads the
   * store. Throws `STORE_CORRUPT` or `STORE_UNREADABLE` rather than start
   * with an empty store over a file it cannot read, `STORE_UNWRITABLE` when
   * the directory cannot be made.
   */
  static async open(path: string, options: ApiKeyStoreOptions = {}): Promise<ApiKeyStore> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw unwritable(path, error);
    });
    return new ApiKeyStore(path, loadSnapshot(path), options);
  }

  private constructor(path: string, snapshot: Snapshot, options: ApiKeyStoreOptions) {
    this.path = path;
    this.#clock = options.clock ?? Date.now;
    this.#lock = options.lock ?? {};
    this.#onFlushError = options.onFlushError ?? warnFlushFailed;
    this.#onReloadProblem = options.onReloadProblem ?? warnReloadFailed;
    this.#snapshot = snapshot;
    this.#checkedAt = this.#clock();
    const clock = this.#clock;
    this.#cache = new LRUCache<string, Resolved>({ max: 10_000, ttl: RELOAD_INTERVAL_MS, perf: { now: clock } });
  }

  /**
   * Resolves a presented key; expired keys never authenticate. Throws
   * `STORE_CORRUPT` / `STORE_UNREADABLE` while the file cannot be read, rather
   * than answer from an index that may still hold revoked keys.
   */
  lookup(key: string, now: Date, maxLifetimeMs: number | null = null): LookupResult {
    if (!isApiKeyFormat(key)) return { ok: false, reason: 'malformed-key' };
    this.#refresh(false);
    const hash = hashApiKey(key);
    let resolved = this.#cache.get(hash) ?? this.#resolve(hash);
    if (resolved === undefined) {
      // A key the CLI made a moment ago should work at once: on a miss, look
      // at the file now instead of waiting out the reload interval (one stat).
      this.#refresh(true);
      resolved = this.#resolve(hash);
    }
    if (resolved === undefined) return { ok: false, reason: 'unknown-key' };
    if (keyExpired(resolved.record, maxLifetimeMs, now)) return { ok: false, reason: 'expired-key' };
    return { ok: true, record: resolved.record, groups: resolved.groups };
  }

  keyById(id: string, now: Date, maxLifetimeMs: number | null): LookupResult {
    this.#refresh(false);
    const record = this.#snapshot.byId.get(id);
    if (record === undefined) return { ok: false, reason: 'unknown-key' };
    if (keyExpired(record, maxLifetimeMs, now)) return { ok: false, reason: 'expired-key' };
    return { ok: true, record, groups: this.#snapshot.groups.get(record.owner) ?? [] };
  }

  /**
   * Notes a successful use. Written back at most once per
   * `USE_FLUSH_INTERVAL_MS` per key; a failed write goes to `onFlushError`
   * and the use stays pending for the next flush.
   */
  async recordUse(id: string, now: Date): Promise<void> {
    const usedAt = now.toISOString();
    const pending = this.#pendingUse.get(id);
    if (pending === undefined || pending < usedAt) this.#pendingUse.set(id, usedAt);
    const at = this.#clock();
    const flushedAt = this.#flushedAt.get(id);
    if (flushedAt !== undefined && at >= flushedAt && at - flushedAt < USE_FLUSH_INTERVAL_MS) return;
    this.#flushedAt.set(id, at);
    await this.flush().catch(this.#onFlushError);
  }

  /** Writes every pending use, merged into the current file (for shutdown). */
  async flush(): Promise<void> {
    if (this.#pendingUse.size === 0) return;
    const flushing = new Map(this.#pendingUse);
    await this.#mutate((data) => {
      let changed = false;
      const keys = data.keys.map((record) => {
        const usedAt = flushing.get(record.id);
        if (usedAt === undefined || (record.lastUsedAt !== null && record.lastUsedAt >= usedAt)) return record;
        changed = true;
        return { ...record, lastUsedAt: usedAt };
      });
      return { data: changed ? { ...data, keys } : null, result: undefined };
    });
    const at = this.#clock();
    for (const [id, usedAt] of flushing) {
      if (this.#pendingUse.get(id) === usedAt) this.#pendingUse.delete(id);
      this.#flushedAt.set(id, at);
    }
  }

  /** Issues a key. The key is returned once and never stored. */
  async create(input: NewApiKey): Promise<{ key: string; record: ApiKeyRecord }> {
    const label = checkNewKey(input);
    const { parentId } = input;
    const now = new Date(this.#clock()).toISOString();
    let key = '';
    const record = await this.#mutate((data) => {
      // Checked under the lock: a parent revoked while its child was being made must not leave the child behind.
      if (parentId !== undefined && !data.keys.some((existing) => existing.id === parentId)) {
        throw new GateError('APIKEY_PARENT_GONE', `api key: the key making this one (${parentId}) has been revoked`, { status: 401 });
      }
      do key = generateApiKey();
      while (data.keys.some((existing) => existing.hash === hashApiKey(key)));
      const record: ApiKeyRecord = {
        id: randomUUID(),
        hash: hashApiKey(key),
        owner: input.owner,
        label,
        createdAt: now,
        expiresAt: input.expiresAt === null ? null : input.expiresAt.toISOString(),
        lastUsedAt: null,
        scopes: [...input.scopes],
        ...(parentId === undefined ? {} : { parentId }),
      };
      const service = input.serviceAccount === true ? { ...localSubject(input.owner), boundAt: now } : undefined;
      // a name bound already keeps its binding: to its IdP account, or to the local subject
      const binding = data.users.find((user) => user.name === input.owner)?.boundTo ?? service;
      const users = input.groups === undefined ? data.users : withUser(data.users, input.owner, input.groups, now, binding);
      return { data: { ...data, keys: [...data.keys, record], users }, result: record };
    });
    return { key, record: freezeRecord(record) };
  }

  isActive(id: string, now: Date, maxLifetimeMs: number | null): boolean {
    return this.keyById(id, now, maxLifetimeMs).ok;
  }

  /** Keys (without secrets), oldest first, optionally of one owner. */
  async list(owner?: string): Promise<ApiKeyRecord[]> {
    this.#refresh(true);
    return this.#snapshot.data.keys
      .filter((record) => owner === undefined || record.owner === owner)
      .map((record) => {
        const usedAt = this.#pendingUse.get(record.id);
        const newer = usedAt !== undefined && (record.lastUsedAt === null || record.lastUsedAt < usedAt);
        return newer ? freezeRecord({ ...record, lastUsedAt: usedAt }) : record;
      });
  }

  /** Revokes one key and every key it minted, transitively; false when no key has that id. */
  async revoke(id: string): Promise<boolean> {
    return (await this.revokeTree(id)).length > 0;
  }

  async revokeTree(id: string): Promise<readonly string[]> {
    return this.#mutate((data) => {
      if (!data.keys.some((record) => record.id === id)) return { data: null, result: [] };
      const gone = withDescendants(data.keys, [id]);
      return { data: { ...data, keys: data.keys.filter((record) => !gone.has(record.id)) }, result: [...gone] };
    });
  }

  /** Revokes every key of `owner`, and the keys they minted; returns how many. */
  async revokeAllForUser(owner: string): Promise<number> {
    return this.#mutate((data) => {
      const gone = withDescendants(data.keys, data.keys.filter((record) => record.owner === owner).map((record) => record.id));
      return { data: gone.size === 0 ? null : { ...data, keys: data.keys.filter((record) => !gone.has(record.id)) }, result: gone.size };
    });
  }

  /** Replaces the groups `name`'s keys carry (sorted, de-duplicated); the name's binding stays. */
  async setUserGroups(name: string, groups: readonly string[]): Promise<void> {
    const now = new Date(this.#clock()).toISOString();
    await this.#mutate((data) => ({ data: { ...data, users: withUser(data.users, name, groups, now) }, result: undefined }));
  }

  async recordLogin(name: string, groups: readonly string[], subject: Subject): Promise<BindingDecision> {
    const now = new Date(this.#clock()).toISOString();
    return this.#mutate<BindingDecision>((data) => {
      const decision = bindingDecision(data.users.find((user) => user.name === name)?.boundTo ?? null, subject);
      if (!decision.allow) return { data: null, result: decision };
      const boundTo = decision.bind ? { issuer: subject.issuer, subject: subject.subject, boundAt: now } : undefined;
      return { data: { ...data, users: withUser(data.users, name, groups, now, boundTo) }, result: decision };
    });
  }

  async releaseBinding(name: string): Promise<UserBinding | null> {
    return this.#mutate((data) => {
      const user = data.users.find((existing) => existing.name === name);
      if (user?.boundTo === undefined) return { data: null, result: null };
      const { boundTo, ...released } = user;
      return { data: { ...data, users: data.users.map((existing) => (existing === user ? released : existing)) }, result: boundTo };
    });
  }

  async users(): Promise<UserRecord[]> {
    this.#refresh(true);
    return [...this.#snapshot.data.users];
  }

  groupsOf(name: string): readonly string[] {
    this.#refresh(false);
    return this.#snapshot.groups.get(name) ?? [];
  }

  #resolve(hash: string): Resolved | undefined {
    const record = this.#snapshot.byHash.get(hash);
    if (record === undefined) return undefined;
    const resolved = { record, groups: this.#snapshot.groups.get(record.owner) ?? [] };
    this.#cache.set(hash, resolved);
    return resolved;
  }

  /** Reloads when the file changed; unforced checks run once per interval. */
  #refresh(force: boolean): void {
    const at = this.#clock();
    if (!force && at >= this.#checkedAt && at - this.#checkedAt < RELOAD_INTERVAL_MS) {
      // fail closed until the file reads again: the old index may hold revoked keys
      if (this.#failure !== undefined) throw this.#failure;
      return;
    }
    this.#checkedAt = at;
    let failure: GateError | undefined;
    try {
      const stamp = statStampSync(this.path);
      if (!sameStamp(stamp, this.#snapshot.stamp)) this.#install(loadSnapshot(this.path));
    } catch (error) {
      failure = error instanceof GateError ? error : unreadable(this.path, error);
    }
    // said once per change of state, not once per request
    if (failure?.message !== this.#failure?.message) this.#onReloadProblem(failure ?? null);
    this.#failure = failure;
    if (failure !== undefined) throw failure;
  }

  #install(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#cache.clear();
    const ids = new Set(snapshot.data.keys.map((record) => record.id));
    for (const id of this.#flushedAt.keys()) if (!ids.has(id)) this.#flushedAt.delete(id);
  }

  /**
   * Lock, read fresh, change, write durably, install; one at a time per
   * instance. A file that does not read is never written over; a failure to
   * write (a full or read-only disk) is `STORE_UNWRITABLE` and leaves the file
   * as it was.
   */
  #mutate<T>(change: Change<T>): Promise<T> {
    const locked = (): Promise<T> =>
      withFileLock(
        `${this.path}.lock`,
        async () => {
          await removeTempFiles(this.path);
          const fresh = loadSnapshot(this.path);
          const { data, result } = change(fresh.data);
          if (data === null) {
            this.#install(fresh);
            return result;
          }
          await writeFileAtomic(this.path, `${JSON.stringify(data, null, 2)}\n`, 0o600);
          this.#install(indexSnapshot(data, statStampSync(this.path)));
          return result;
        },
        this.#lock,
      );
    const run = (): Promise<T> =>
      locked().catch((error: unknown) => {
        throw error instanceof GateError ? error : unwritable(this.path, error);
      });
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/** The ids given and every key below them (their children, theirs, …), roots first. */
function withDescendants(keys: readonly ApiKeyRecord[], roots: readonly string[]): Set<string> {
  const children = new Map<string, string[]>();
  for (const { id, parentId } of keys) if (parentId !== undefined) children.set(parentId, [...(children.get(parentId) ?? []), id]);
  const gone = new Set(roots);
  for (const id of gone) for (const child of children.get(id) ?? []) gone.add(child);
  return gone;
}

/** The label to store; throws `APIKEY_INVALID` for what no caller should have passed on. */
function checkNewKey(input: NewApiKey): string {
  const label = checkKeyLabel(input.label);
  const problem =
    input.owner === '' ? 'owner is empty'
    : input.expiresAt !== null && Number.isNaN(input.expiresAt.getTime()) ? 'expiresAt is not a valid date'
    : !label.ok ? `label: ${label.problem}`
    : undefined;
  if (problem !== undefined || !label.ok) throw new GateError('APIKEY_INVALID', `api key: ${problem}`, { status: 400 });
  return label.label;
}

/** `users` with `name`'s groups replaced; its binding is `boundTo` when given, else the one it had. */
function withUser(users: readonly UserRecord[], name: string, groups: readonly string[], now: string, boundTo?: UserBinding): UserRecord[] {
  const binding = boundTo ?? users.find((existing) => existing.name === name)?.boundTo;
  const user: UserRecord = { name, groups: [...new Set(groups)].sort(), updatedAt: now, ...(binding === undefined ? {} : { boundTo: binding }) };
  return [...users.filter((existing) => existing.name !== name), user].sort((a, b) => (a.name < b.name ? -1 : 1));
}

// Rebuilt field by field: whatever else a file holds is never written back.
function freezeRecord(record: ApiKeyRecord): ApiKeyRecord {
  const { id, hash, owner, label, createdAt, expiresAt, lastUsedAt, parentId } = record;
  const frozen = { id, hash, owner, label, createdAt, expiresAt, lastUsedAt, scopes: Object.freeze([...record.scopes]) };
  return Object.freeze(parentId === undefined ? frozen : { ...frozen, parentId });
}

function freezeUser({ name, groups, updatedAt, boundTo }: UserRecord): UserRecord {
  const user = { name, groups: Object.freeze([...groups]), updatedAt };
  if (boundTo === undefined) return Object.freeze(user);
  const { issuer, subject, boundAt } = boundTo;
  return Object.freeze({ ...user, boundTo: Object.freeze({ issuer, subject, boundAt }) });
}

function loadSnapshot(path: string): Snapshot {
  const read = readStoreFile(path);
  return read === null ? indexSnapshot({ version: 1, keys: [], users: [] }, null) : indexSnapshot(read.data, read.stamp);
}

function indexSnapshot(data: StoreData, stamp: FileStamp | null): Snapshot {
  const keys = rooted(data.keys).map(freezeRecord);
  const users = data.users.map(freezeUser);
  return {
    data: { version: 1, keys, users },
    stamp,
    byHash: new Map(keys.map((record) => [record.hash, record])),
    byId: new Map(keys.map((record) => [record.id, record])),
    groups: new Map(users.map((user) => [user.name, user.groups])),
  };
}

/**
 * The keys whose chain of parents ends in a key nobody minted. Any other's
 * parent is gone, so it was revoked (by a writer that did not know parents):
 * left out, and dropped from the file by the next write.
 */
function rooted(keys: readonly ApiKeyRecord[]): ApiKeyRecord[] {
  const byId = new Map(keys.map((record) => [record.id, record]));
  const live = new Map<string, boolean>();
  const isLive = (record: ApiKeyRecord): boolean => {
    const chain = new Set<string>();
    let current: ApiKeyRecord | undefined = record;
    let answer = false;
    // up the chain to a known answer, a key nobody minted (live), a missing parent or a cycle (not live)
    while (current !== undefined && !chain.has(current.id)) {
      const known = live.get(current.id);
      if (known !== undefined) {
        answer = known;
        break;
      }
      chain.add(current.id);
      if (current.parentId === undefined) {
        answer = true;
        break;
      }
      current = byId.get(current.parentId);
    }
    for (const id of chain) live.set(id, answer);
    return answer;
  };
  return keys.filter(isLive);
}

function warnFlushFailed(error: unknown): void {
  process.emitWarning(`API key lastUsedAt not written: ${String(error)}`, 'ApiKeyStoreWarning');
}

function warnReloadFailed(problem: GateError | null): void {
  if (problem !== null) process.emitWarning(`API keys refused until the store reads again: ${problem.message}`, 'ApiKeyStoreWarning');
}
