/**
 * A malformed `Host` header made the gate answer 500.
 *
 * The attack (no credentials needed): `GET /v2/ HTTP/1.1` with `Host: a b`,
 * or `Host: [::1`. Node's parser lets such a value through; the gate builds
 * its public origin from it (the token realm, the `service`, redirects), and
 * `new URL` threw: a 500 with a stack in the log for every such request, at
 * `/v2/…`, `/zot/auth/token` and the login — a cheap way to fill the error
 * log and the 5xx alerts.
 *
 * Now every request's Host must be a host (a name, an IPv4 address or a
 * bracketed IPv6 address) with an optional port, else it is answered 400
 * with an OCI error body (`UNSUPPORTED`, reason `host-invalid`) before
 * anything else looks at it: never a 5xx, never forwarded. Raw sockets, so
 * the header goes out exactly as written.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { ociBody } from '../support/http.js';

const INVALID = ociBody('UNSUPPORTED', 'the Host header must be a host name or address, with an optional port', 'host-invalid');

let registry: Registry;
let gate: GateUnderTest;

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } } });
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** One request written byte for byte on a fresh connection (`Connection: close`); the answer as the gate sent it. */
function raw(path: string, headerLines: readonly string[]): Promise<Answer> {
  const url = new URL(gate.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const body = rest.join('\r\n\r\n');
      // the gate's answers here are small: read as sent, or chunked in one piece
      const unchunked = headers['transfer-encoding'] === 'chunked' ? body.split('\r\n').filter((_, i) => i % 2 === 1).join('') : body;
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: unchunked });
    });
    socket.write(`GET ${path} HTTP/1.1\r\n${[...headerLines, 'Connection: close'].join('\r\n')}\r\n\r\n`);
  });
}

const PATHS = ['/v2/', '/v2/team/app/manifests/latest', '/zot/auth/token?service=x&scope=repository:team/app:pull', '/zot/auth/login', '/-/account'];

describe('a malformed Host', () => {
  it.each([
    ['a space inside', 'a b'],
    ['an unclosed IPv6 bracket', '[::1'],
    ['a path', 'registry.example.org/v2'],
    ['user information', 'user@registry.example.org'],
    ['a port that is no number', 'registry.example.org:http'],
    ['a port beyond 65535', 'registry.example.org:65536'],
    ['a bare IPv6 address', '::1'],
    ['a quote that would end the realm of the challenge', 'registry",service="evil'],
    ['empty', ''],
  ])('%s (%j): 400 UNSUPPORTED host-invalid on every route, never a 5xx', async (_name, host) => {
    gate.logs.length = 0;
    for (const path of PATHS) {
      const answer = await raw(path, [`Host: ${host}`]);
      expect(answer.status, `${path}: ${answer.body}`).toBe(400);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(answer.body)).toEqual(INVALID);
    }
    expect(gate.logs.filter((line) => line.level === 'error')).toEqual([]);
    expect(gate.logs.filter((line) => line.msg === 'request' && line.reason === 'host-invalid')).toHaveLength(PATHS.length);
  });
});

describe('a well-formed Host', () => {
  it.each([
    ['a name with a port', 'registry.example.org:5000'],
    ['a name', 'registry.example.org'],
    ['an IPv4 address', '127.0.0.1'],
    ['a bracketed IPv6 address with a port', '[::1]:8080'],
    ['an IDNA name', 'xn--bcher-kva.example'],
  ])('%s (%s): the challenge names it', async (_name, host) => {
    const answer = await raw('/v2/', [`Host: ${host}`]);
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe(`Bearer realm="http://${host}/zot/auth/token",service="${host}"`);
  });
});
