/**
 * The head of an HTTP/1.1 response, as the blob relay reads it from the
 * registry. Strict: anything this parser is unsure of is "not relayable", and
 * the request goes the general way (undici) instead — the relay only ever
 * streams a body whose length the registry stated.
 */

/** Longer heads are refused (undici's and Node's limits are of this order). */
export const MAX_HEAD_BYTES = 64 * 1024;

export interface ResponseHead {
  readonly status: number;
  /** lower-case names; repeated headers joined with `, `, `set-cookie` kept as a list */
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** the body's exact length; 0 for statuses that have none */
  readonly length: number;
  /** the connection may carry another request once this body has been read */
  readonly reusable: boolean;
}

export type HeadResult =
  | { readonly kind: 'partial' }
  | { readonly kind: 'head'; readonly head: ResponseHead; readonly bytes: number }
  /** a head the relay does not stream (no Content-Length, chunked, 1xx, malformed) */
  | { readonly kind: 'unsupported'; readonly problem: string };

const END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: [^\r\n]*)?$/;
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n\0]*?)[ \t]*$/;
const DIGITS = /^\d{1,15}$/;

/**
 * Parses the head at the start of `data`, which holds every byte received so
 * far. The answer to a HEAD has no body, whatever its headers say (RFC 9110 §9.3.2).
 */
export function parseResponseHead(data: Buffer, toHead = false): HeadResult {
  const end = data.indexOf(END);
  if (end === -1) return data.length > MAX_HEAD_BYTES ? unsupported('response head too long') : { kind: 'partial' };
  if (end > MAX_HEAD_BYTES) return unsupported('response head too long');
  const [statusLine = '', ...lines] = data.toString('latin1', 0, end).split('\r\n');
  const status = STATUS_LINE.exec(statusLine);
  if (status === null) return unsupported('malformed status line');
  const code = Number(status[2]);
  if (code < 200) return unsupported('interim response');
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const field = FIELD.exec(line);
    if (field === null) return unsupported('malformed header line');
    const name = field[1]!.toLowerCase();
    const value = field[2]!;
    const seen = headers[name];
    if (name === 'set-cookie') headers[name] = [...((seen as string[] | undefined) ?? []), value];
    else headers[name] = seen === undefined ? value : `${seen as string}, ${value}`;
  }
  const length = toHead ? 0 : bodyLength(code, headers);
  if (typeof length === 'string') return unsupported(length);
  const closes = /(?:^|,)\s*close\s*(?:,|$)/i.test(stringOf(headers.connection));
  return { kind: 'head', head: { status: code, headers, length, reusable: status[1] === '1' && !closes }, bytes: end + END.length };
}

/** RFC 9112 §6.3, restricted to what the relay can stream without decoding. */
function bodyLength(status: number, headers: Record<string, string | string[]>): number | string {
  if (headers['transfer-encoding'] !== undefined) return 'transfer-encoding';
  if (status === 204 || status === 304) return 0;
  const declared = headers['content-length'];
  if (declared === undefined) return 'no content-length';
  // Repeated identical values are allowed (RFC 9110 §8.6); anything else is refused.
  const values = new Set(stringOf(declared).split(',').map((v) => v.trim()));
  const [value] = values;
  if (values.size !== 1 || value === undefined || !DIGITS.test(value)) return 'invalid content-length';
  return Number(value);
}

function stringOf(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function unsupported(problem: string): HeadResult {
  return { kind: 'unsupported', problem };
}
