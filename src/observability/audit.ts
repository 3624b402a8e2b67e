/**
 * The audit trail: one JSON object per write, delete, refusal, login, logout
 * and key change, always with the same fields (null where one does not
 * apply), so that `jq` and log pipelines need no special cases. Each event
 * goes to the log stream (`audit: true`, at info) and, when `audit.file` is
 * set, is appended to that file and synced before the request it describes
 * is answered.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Reason } from '../policy/types.js';
import { DurableAppender } from './durable-append.js';
import type { AuthLabel } from './metrics.js';

export type AuditEventKind = 'write' | 'delete' | 'refusal' | 'login' | 'logout' | 'key-create' | 'key-revoke' | 'user-release';

export interface AuditEvent {
  /** ISO-8601, when the gate answered */
  readonly time: string;
  readonly event: AuditEventKind;
  /** the user name, or null (anonymous, or credentials that were refused) */
  readonly identity: string | null;
  /** how the request authenticated, or tried to */
  readonly authMethod: AuthLabel;
  /** the client's address (X-Forwarded-For from a loopback proxy, else the peer) */
  readonly client: string | null;
  /** the HTTP method */
  readonly method: string;
  readonly repository: string | null;
  /** the tag or digest the request named */
  readonly reference: string | null;
  /** what was written or deleted: a manifest PUT's body digest, a blob's digest */
  readonly digest: string | null;
  readonly decision: 'allow' | 'deny';
  /** kebab-case, the word logs and metrics use */
  readonly reason: Reason;
  /** the status the client got */
  readonly status: number;
  readonly requestId: string;
  /** what else the event needs to be understood (key id, login provider, immutable tag) */
  readonly detail: Readonly<Record<string, unknown>> | null;
}

/** Every field of an audit line, in order. */
export const AUDIT_FIELDS = [
  'time',
  'event',
  'identity',
  'authMethod',
  'client',
  'method',
  'repository',
  'reference',
  'digest',
  'decision',
  'reason',
  'status',
  'requestId',
  'detail',
] as const satisfies ReadonlyArray<keyof AuditEvent>;

type Log = Pick<FastifyBaseLogger, 'info' | 'error'>;

export class AuditLog {
  readonly #file: DurableAppender | null;

  private constructor(file: DurableAppender | null) {
    this.#file = file;
  }

  /** An audit log writing to the log stream, and to `file` when given (its directory is created, mode 0700). */
  static async open(file: string | null): Promise<AuditLog> {
    if (file === null) return new AuditLog(null);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    return new AuditLog(new DurableAppender(file));
  }

  /**
   * Logs the event and, with a file, resolves once its line is durable. Never
   * rejects: the request it describes has already happened, so a failed file
   * write is logged at error, with the event, rather than turned into an
   * error for the client.
   */
  async record(event: AuditEvent, log: Log): Promise<void> {
    // pino stamps its own `time`; a second one would make the line's JSON ambiguous.
    const { time: _time, ...fields } = event;
    log.info({ audit: true, ...fields }, 'audit');
    if (this.#file === null) return;
    try {
      await this.#file.append(auditLine(event));
    } catch (error) {
      log.error({ err: error, auditFile: this.#file.path, auditEvent: event }, 'audit event not written to the audit file');
    }
  }

  /** Waits for every pending line (for shutdown). */
  async close(): Promise<void> {
    await this.#file?.idle();
  }
}

/** The event as one JSON line, its fields in the documented order. */
export function auditLine(event: AuditEvent): string {
  return JSON.stringify(Object.fromEntries(AUDIT_FIELDS.map((field) => [field, event[field]])));
}
