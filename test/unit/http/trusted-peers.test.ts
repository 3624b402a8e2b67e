/** Which peers are trusted proxies, decided as Fastify's trustProxy decides whose X-Forwarded-For counts (http/trusted-peers.ts). */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { trustedPeers } from '../../../src/http/trusted-peers.js';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const MIXED = ['10.0.0.0/8', '192.0.2.10', 'fd00::/8', '::ffff:198.51.100.0/120'];

const rows: Array<[readonly string[], string, boolean]> = [
  [LOOPBACK, '127.0.0.1', true],
  [LOOPBACK, '127.255.0.9', true],
  [LOOPBACK, '::1', true],
  [LOOPBACK, '::ffff:127.0.0.1', true], // a dual-stack socket's IPv4 peer
  [LOOPBACK, '10.0.0.1', false],
  [LOOPBACK, '::2', false],
  [MIXED, '10.200.3.4', true],
  [MIXED, '::ffff:10.1.1.1', true],
  [MIXED, '11.0.0.1', false],
  [MIXED, '192.0.2.10', true],
  [MIXED, '192.0.2.11', false],
  [MIXED, 'fd12::1', true],
  [MIXED, 'fe80::1', false],
  [MIXED, '198.51.100.7', true], // an IPv4-mapped range matches the IPv4 peer
  [MIXED, '198.51.101.7', false],
  [[], '127.0.0.1', false],
];

describe('trustedPeers', () => {
  it.each(rows)('%j: %s → %s', (proxies, peer, expected) => {
    expect(trustedPeers(proxies)(peer)).toBe(expected);
  });

  it.each([undefined, '', 'localhost', 'not an address'])('a peer that is no address (%j) is not trusted', (peer) => {
    expect(trustedPeers(LOOPBACK)(peer)).toBe(false);
  });

  it("agrees with Fastify's trustProxy on every row (X-Forwarded-For is believed exactly from the peers trusted here)", async () => {
    for (const [proxies, peer, expected] of rows) {
      const app = Fastify({ trustProxy: [...proxies] });
      app.get('/', async (request) => ({ ip: request.ip }));
      const response = await app.inject({ url: '/', remoteAddress: peer, headers: { 'x-forwarded-for': '203.0.113.5' } });
      expect([proxies, peer, response.json<{ ip: string }>().ip === '203.0.113.5']).toEqual([proxies, peer, expected]);
      await app.close();
    }
  });
});
