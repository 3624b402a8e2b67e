import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, relativeLocation, upstreamRequestHeaders } from '../../../src/proxy/headers.js';

describe('upstreamRequestHeaders', () => {
  const forwarded = { host: 'registry.example.org', proto: 'https' as const, clientIp: '10.0.0.7', requestId: 'gate-request-1' };

  it('drops credentials, cookies, hop-by-hop headers, Expect and anything Connection lists', () => {
    const out = upstreamRequestHeaders(
      {
        host: 'registry.example.org',
        authorization: 'Basic Y2k6emFrXw==',
        'proxy-authorization': 'Basic eA==',
        cookie: 'session=secret',
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        'keep-alive': 'timeout=5',
        expect: '100-continue',
        te: 'trailers',
        upgrade: 'h2c',
        'transfer-encoding': 'chunked',
        'content-type': 'application/octet-stream',
        'content-length': '2097152',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-for': '6.6.6.6',
        forwarded: 'for=6.6.6.6',
        'X-Request-Id': 'chosen-by-the-client',
      },
      forwarded,
    );
    expect(out).toEqual({
      host: 'registry.example.org',
      'content-type': 'application/octet-stream',
      'content-length': '2097152',
      'x-forwarded-host': 'registry.example.org',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '10.0.0.7',
      'x-request-id': 'gate-request-1',
    });
  });
});

describe('upstreamRequestHeaders: zot\'s internal headers', () => {
  const forwarded = { host: 'registry.example.org', proto: 'https' as const, clientIp: '10.0.0.7', requestId: 'gate-request-1' };

  it.each([
    ['x-zot-cluster-hop-count'],
    ['X-Zot-Cluster-Hop-Count'],
    ['X-ZOT-CLUSTER-HOP-COUNT'],
    ['x-zot-api-client'],
    ['X-ZOT-API-CLIENT'],
    ['x-Zot-Api-Client'],
    // and every other dropped name, in any case
    ['Authorization'],
    ['X-Forwarded-Host'],
    ['X-Request-Id'],
  ])('drops %s in any letter case', (name) => {
    const out = upstreamRequestHeaders({ [name]: 'zot-ui', accept: 'application/json' }, forwarded);
    expect(out).toEqual({
      accept: 'application/json',
      'x-forwarded-host': 'registry.example.org',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '10.0.0.7',
      'x-request-id': 'gate-request-1',
    });
  });

  it('drops a header Connection lists, whatever its case', () => {
    const out = upstreamRequestHeaders({ connection: 'X-Secret-Hop', 'X-Secret-Hop': '1', accept: '*/*' }, forwarded);
    expect(Object.keys(out)).toEqual(['accept', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-for', 'x-request-id']);
  });
});

describe('clientResponseHeaders', () => {
  it('strips hop-by-hop headers and keeps Location on the gate', () => {
    expect(
      clientResponseHeaders(
        { connection: 'close', 'keep-alive': 'timeout=5', location: 'http://127.0.0.1:5051/v2/a/blobs/uploads/u?_state=s', 'docker-upload-uuid': 'u' },
        ['http://127.0.0.1:5051', 'https://registry.example.org'],
      ),
    ).toEqual({ location: '/v2/a/blobs/uploads/u?_state=s', 'docker-upload-uuid': 'u' });
  });

  it.each([
    ['/v2/a/blobs/uploads/u', '/v2/a/blobs/uploads/u'],
    ['https://registry.example.org/v2/a/blobs/sha256:00?x=1', '/v2/a/blobs/sha256:00?x=1'],
    ['http://127.0.0.1:5051/v2/a/blobs/uploads/u', '/v2/a/blobs/uploads/u'],
    ['https://storage.example.net/blob?sig=1', 'https://storage.example.net/blob?sig=1'],
    ['not a url', 'not a url'],
  ])('relativeLocation(%s) → %s', (location, expected) => {
    expect(relativeLocation(location, ['http://127.0.0.1:5051', 'https://registry.example.org'])).toBe(expected);
  });
});
