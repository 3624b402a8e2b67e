import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, parseResponseHead } from '../../../src/proxy/response-head.js';

const head = (text: string) => parseResponseHead(Buffer.from(text, 'latin1'));

describe('parseResponseHead', () => {
  it('reads status, headers, length and the head size of a blob answer', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nDocker-Content-Digest: sha256:ab\r\nContent-Type: application/octet-stream\r\n\r\n';
    expect(head(`${text}BODY`)).toEqual({
      kind: 'head',
      bytes: text.length,
      head: {
        status: 200,
        headers: { 'content-length': '1048576', 'docker-content-digest': 'sha256:ab', 'content-type': 'application/octet-stream' },
        length: 1048576,
        reusable: true,
      },
    });
  });

  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n', 'no blank line yet'],
    ['HTTP/1.1 2', 'mid status line'],
    ['', 'nothing yet'],
  ])('waits for more bytes: %j (%s)', (text) => {
    expect(head(text)).toEqual({ kind: 'partial' });
  });

  it.each([
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'transfer-encoding'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 'transfer-encoding'],
    ['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n', 'no content-length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n', 'invalid content-length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 'invalid content-length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'invalid content-length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n', 'invalid content-length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n', 'invalid content-length'],
    ['HTTP/1.1 100 Continue\r\n\r\n', 'interim response'],
    ['HTTP/2 200\r\nContent-Length: 1\r\n\r\n', 'malformed status line'],
    ['HTTP/1.1 999 Nine\r\nContent-Length: 1\r\n\r\n', 'malformed status line'],
    ['http/1.1 200 OK\r\nContent-Length: 1\r\n\r\n', 'malformed status line'],
    ['HTTP/1.1 200 OK\r\n Content-Length: 1\r\n\r\n', 'malformed header line'],
    ['HTTP/1.1 200 OK\r\nContent Length: 1\r\n\r\n', 'malformed header line'],
    ['HTTP/1.1 200 OK\r\nX-A: 1\r\n\tfolded\r\nContent-Length: 1\r\n\r\n', 'malformed header line'],
    ['HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 1\r\n\r\n', 'malformed header line'],
  ])('declines %j: %s', (text, problem) => {
    expect(head(text)).toEqual({ kind: 'unsupported', problem });
  });

  it('refuses a head longer than the limit, finished or not', () => {
    const long = `HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n`;
    expect(head(long)).toEqual({ kind: 'unsupported', problem: 'response head too long' });
    expect(head(`${long}Content-Length: 0\r\n\r\n`)).toEqual({ kind: 'unsupported', problem: 'response head too long' });
  });

  it.each([
    ['HTTP/1.1 204 No Content\r\n\r\n', 204, 0, true],
    ['HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n', 304, 0, true],
    ['HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n', 404, 2, false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, Close\r\n\r\n', 200, 2, false],
    ['HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n', 200, 2, false],
    ['HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Length: 10\r\n\r\n', 206, 10, true],
    ['HTTP/1.1 307 Temporary Redirect\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n', 307, 0, true],
  ])('%j → status %i, length %i, reusable %s', (text, status, length, reusable) => {
    const result = head(text);
    expect(result.kind === 'head' && [result.head.status, result.head.length, result.head.reusable]).toEqual([status, length, reusable]);
  });

  it('gives the answer to a HEAD no body, whatever its framing headers say', () => {
    for (const text of ['HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP/1.1 404 Not Found\r\n\r\n']) {
      const result = parseResponseHead(Buffer.from(text, 'latin1'), true);
      expect(result.kind === 'head' && result.head.length).toBe(0);
    }
  });

  it('keeps repeated headers: Set-Cookie as a list, others joined', () => {
    const result = head('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nVary: Accept\r\nVary: Origin\r\nContent-Length: 0\r\n\r\n');
    expect(result.kind === 'head' && result.head.headers).toEqual({ 'set-cookie': ['a=1', 'b=2'], vary: 'Accept, Origin', 'content-length': '0' });
  });
});
