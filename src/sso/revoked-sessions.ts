/**
 * The durable list of sessions that logout ended: `<dataDir>/revoked-sessions.json`,
 * `{"version": 1, "sessions": [{"id", "expiresAt"}]}`, mode 0600. The rules
 * (what stands, what is pruned, the cap) are in policy/session-revocation.ts;
 * this is the file around them, written as the API key store writes its own:
 * under `<file>.lock` from a fresh read to an atomic, fsynced rename, and
 * resolving only once the revocation is durable. Several gates sharing a
 * dataDir see each other's revocations: readers look at the file's stamp at
 * most once per `RELOAD_INTERVAL_MS`.
 *
 * A file that cannot be read or checked is never treated as empty (that
 * would bring every logged-out session back): until it reads again, every
 * session is refused and every logout fails.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GateError, isGateError } from '../errors.js';
import { systemWords } from '../identity/apikey-file.js';
import { readFileStampedSync, removeTempFiles, sameStamp, statStampSync, writeFileAtomic, type FileStamp } from '../identity/atomic-file.js';
import { withFileLock, type FileLockOptions } from '../identity/file-lock.js';
import { addRevocation, SESSION_ID, type Revocation } from '../policy/session-revocation.js';

export const REVOKED_SESSIONS_FILE = 'revoked-sessions.json';
/** How stale a reader's view of the file may get (another gate's logout), as for API keys. */
export const RELOAD_INTERVAL_MS = 1_000;

/** What sessions.ts needs: a synchronous check per request, a durable revoke per logout. */
export interface SessionRevocations {
  /** the revoked ids; throws while the file cannot be read (callers fail closed) */
  revokedIds(): ReadonlySet<string>;
  /** resolves once the revocation is durable; throws a GateError (see {@link revocationFailure}) otherwise */
  revoke(revocation: Revocation, nowSeconds: number): Promise<void>;
}

export interface RevokedSessionsOptions {
  /** epoch milliseconds; drives reload checks */
  readonly clock?: () => number;
  readonly lock?: FileLockOptions;
  /** told when the file stops reading well (sessions refused) and when it reads again (null) */
  readonly onReloadProblem?: (problem: GateError | null) => void;
}

interface Snapshot {
  readonly revocations: readonly Revocation[];
  readonly ids: ReadonlySet<string>;
  readonly stamp: FileStamp | null;
}

/** Why a revocation could not be recorded, in words a client may see (no paths). */
export interface RevocationFailure {
  readonly reason: 'revocation-store-unwritable' | 'revocation-store-unreadable' | 'revocation-store-busy' | 'revocation-store-full';
  readonly problem: string;
}

/** The file-backed {@link SessionRevocations}. */
export class RevokedSessions implements SessionRevocations {
  readonly path: string;
  readonly #clock: () => number;
  readonly #lock: FileLockOptions;
  readonly #onReloadProblem: (problem: GateError | null) => void;
  #snapshot: Snapshot = { revocations: [], ids: new Set(), stamp: null };
  #failure: GateError | undefined;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #queue: Promise<unknown> = Promise.resolve();

  /** Opens the list, creating `dirname(path)` (0700) if missing; a bad file is reported, not thrown (see the module comment). */
  static async open(path: string, options: RevokedSessionsOptions = {}): Promise<RevokedSessions> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new GateError('REVOCATIONS_UNWRITABLE', `cannot create ${dirname(path)}: ${systemWords(error)}`, { cause: error });
    });
    const store = new RevokedSessions(path, options);
    store.#refresh();
    return store;
  }

  private constructor(path: string, options: RevokedSessionsOptions) {
    this.path = path;
    this.#clock = options.clock ?? Date.now;
    this.#lock = options.lock ?? {};
    this.#onReloadProblem = options.onReloadProblem ?? warnReloadFailed;
  }

  revokedIds(): ReadonlySet<string> {
    const at = this.#clock();
    if (at < this.#checkedAt || at - this.#checkedAt >= RELOAD_INTERVAL_MS) this.#refresh();
    if (this.#failure !== undefined) throw this.#failure;
    return this.#snapshot.ids;
  }

  revoke(revocation: Revocation, nowSeconds: number): Promise<void> {
    const run = (): Promise<void> =>
      withFileLock(
        `${this.path}.lock`,
        async () => {
          await removeTempFiles(this.path);
          const fresh = loadSnapshot(this.path);
          const outcome = addRevocation(fresh.revocations, revocation, nowSeconds);
          if (!outcome.ok) throw new GateError('REVOCATIONS_FULL', `${this.path}: ${fresh.revocations.length} revoked sessions in force, the most kept`, { status: 503 });
          if (outcome.changed) {
            const data = { version: 1, sessions: outcome.revocations };
            await writeFileAtomic(this.path, `${JSON.stringify(data)}\n`, 0o600);
          }
          this.#snapshot = outcome.changed ? indexed(outcome.revocations, statStampSync(this.path)) : fresh;
          this.#settle(undefined);
        },
        this.#lock,
      ).catch((error: unknown) => {
        if (isGateError(error) && error.code.startsWith('REVOCATIONS_')) throw error;
        if (isGateError(error, 'LOCK_TIMEOUT')) throw new GateError('REVOCATIONS_BUSY', error.message, { status: 503, cause: error });
        throw new GateError('REVOCATIONS_UNWRITABLE', `${this.path}: cannot write the revoked sessions: ${systemWords(error)}`, { status: 503, cause: error });
      });
    // One at a time per process; the lock orders them across processes.
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #refresh(): void {
    this.#checkedAt = this.#clock();
    let failure: GateError | undefined;
    try {
      if (!sameStamp(statStampSync(this.path), this.#snapshot.stamp) || this.#failure !== undefined) this.#snapshot = loadSnapshot(this.path);
    } catch (error) {
      failure = isGateError(error) ? error : unreadable(this.path, error);
    }
    this.#settle(failure);
  }

  /** Records whether the file reads; said once per change of state, not once per request. */
  #settle(failure: GateError | undefined): void {
    if (failure?.message !== this.#failure?.message) this.#onReloadProblem(failure ?? null);
    this.#failure = failure;
  }
}

/** The words for a failed revocation, or null for an error that is not one. */
export function revocationFailure(error: unknown): RevocationFailure | null {
  if (!(error instanceof GateError)) return null;
  switch (error.code) {
    case 'REVOCATIONS_UNWRITABLE':
      return { reason: 'revocation-store-unwritable', problem: `the list of ended sessions cannot be written: ${systemWords(error.cause)}` };
    case 'REVOCATIONS_UNREADABLE':
      return { reason: 'revocation-store-unreadable', problem: 'the list of ended sessions cannot be read' };
    case 'REVOCATIONS_BUSY':
      return { reason: 'revocation-store-busy', problem: 'the list of ended sessions is locked by another process' };
    case 'REVOCATIONS_FULL':
      return { reason: 'revocation-store-full', problem: 'too many sessions have been ended recently' };
    default:
      return null;
  }
}

function loadSnapshot(path: string): Snapshot {
  let read;
  try {
    read = readFileStampedSync(path);
  } catch (error) {
    throw unreadable(path, error);
  }
  if (read === null) return indexed([], null);
  return indexed(parseRevocations(read.text, path), read.stamp);
}

function parseRevocations(text: string, path: string): Revocation[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, 'not valid JSON', error);
  }
  const sessions = typeof value === 'object' && value !== null && (value as { version?: unknown }).version === 1 ? (value as { sessions?: unknown }).sessions : undefined;
  if (!Array.isArray(sessions)) throw corrupt(path, 'expected {"version": 1, "sessions": [...]}');
  if (!sessions.every(isRevocation)) throw corrupt(path, '"sessions" holds a malformed record');
  return sessions.map(({ id, expiresAt }) => ({ id, expiresAt }));
}

function isRevocation(value: unknown): value is Revocation {
  if (typeof value !== 'object' || value === null) return false;
  const { id, expiresAt } = value as Record<string, unknown>;
  return typeof id === 'string' && SESSION_ID.test(id) && Number.isSafeInteger(expiresAt);
}

function indexed(revocations: readonly Revocation[], stamp: FileStamp | null): Snapshot {
  return { revocations, ids: new Set(revocations.map((r) => r.id)), stamp };
}

function unreadable(path: string, cause: unknown): GateError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  return new GateError('REVOCATIONS_UNREADABLE', `${path}: cannot read the revoked sessions (${code})`, { status: 503, cause });
}

function corrupt(path: string, problem: string, cause?: unknown): GateError {
  return new GateError('REVOCATIONS_UNREADABLE', `${path}: ${problem}; refusing every session until it is fixed`, { status: 503, cause });
}

function warnReloadFailed(problem: GateError | null): void {
  if (problem !== null) process.emitWarning(`browser sessions refused until the revoked sessions read again: ${problem.message}`, 'RevokedSessionsWarning');
}
