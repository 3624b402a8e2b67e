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
