import type { Reason } from './policy/types.js';

/**
 * One error class for the whole gate. Every error the gate raises on purpose
 * carries a stable `code`; foreign errors are wrapped at the adapter boundary
 * and kept as `cause`. `expose` says whether the message may reach a client.
 */
export class GateError extends Error {
  override readonly name = 'GateError';
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;

  constructor(code: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = this.status < 500;
  }
}

/** True for a GateError with the given code. */
export function isGateError(error: unknown, code?: string): error is GateError {
  return error instanceof GateError && (code === undefined || error.code === code);
}

/** The OCI error codes the gate sends (dist-spec "Error Codes"). */
export type OciErrorCode =
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'TAG_INVALID'
  | 'DIGEST_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNAVAILABLE';

/**
 * An error as the client will see it: data, built by whoever learns of it
 * (proxy/, sso/, http/) and rendered only by http/oci-error.ts `sendOciError`.
 * It lives here, below every floor, so that building one needs no import of http/.
 */
export interface OciError {
  readonly status: number;
  readonly code: OciErrorCode;
  readonly message: string;
  /** kebab-case, the same word logs, metrics and audit events use */
  readonly reason: Reason;
  /** more detail for the operator, merged into `detail` beside `reason` */
  readonly detail?: Readonly<Record<string, unknown>>;
}
