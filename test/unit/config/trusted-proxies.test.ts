/** `auth.trustedProxies`: its default, what it takes, and every bad entry reported at once. */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { formatProblem } from '../../../src/config/problems.js';

const minimal = {
  upstream: { url: 'http://127.0.0.1:5051' },
  dataDir: '/var/lib/zot-gate',
  accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
};
const SOURCE = '/etc/zot-gate/zot-gate.json';

function problemsOf(trustedProxies: unknown): string[] {
  try {
    parseConfig({ ...minimal, auth: { trustedProxies } }, SOURCE);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

describe('auth.trustedProxies', () => {
  it('defaults to loopback, IPv4 and IPv6 (Caddy on the same host)', () => {
    expect(parseConfig(minimal, SOURCE).auth.trustedProxies).toEqual(['127.0.0.0/8', '::1/128']);
  });

  const accepted = ['192.0.2.10', '10.0.0.0/8', '10.42.0.0/16', '2001:db8::/32', 'fd00::1', '::ffff:10.0.0.0/104', '192.0.2.1/32', '::1/128'];

  it('takes addresses and CIDRs, IPv4 and IPv6, as written', () => {
    expect(parseConfig({ ...minimal, auth: { trustedProxies: accepted } }, SOURCE).auth.trustedProxies).toEqual(accepted);
  });

  it('an empty list trusts no peer: X-Forwarded-For is never believed', () => {
    expect(parseConfig({ ...minimal, auth: { trustedProxies: [] } }, SOURCE).auth.trustedProxies).toEqual([]);
  });

  it('every list it takes, Fastify takes (trustProxy is built from it)', async () => {
    const app = Fastify({ trustProxy: [...parseConfig({ ...minimal, auth: { trustedProxies: accepted } }, SOURCE).auth.trustedProxies] });
    app.get('/', async (request) => request.ip);
    const response = await app.inject({ url: '/', remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.9.9.9' } });
    expect(response.body).toBe('203.0.113.7');
    await app.close();
  });

  it('reports every bad entry at once', () => {
    expect(problemsOf(['10.0.0.0/8', 'caddy.internal', '10.0.0.0/33', '2001:db8::/129', '0.0.0.0/0', '::/0', '10.0.0.0/x', ' 10.0.0.1', '10.0.0.0/8/8', '010.0.0.1'])).toEqual([
      'auth.trustedProxies[1]: "caddy.internal" is not an IP address or CIDR such as 10.0.0.0/8 or fd00::/8 (cidr)',
      'auth.trustedProxies[2]: "10.0.0.0/33" has a prefix length outside 1-32 (cidr)',
      'auth.trustedProxies[3]: "2001:db8::/129" has a prefix length outside 1-128 (cidr)',
      'auth.trustedProxies[4]: "0.0.0.0/0" trusts every address, so any client could choose its own; list the proxies (cidr)',
      'auth.trustedProxies[5]: "::/0" trusts every address, so any client could choose its own; list the proxies (cidr)',
      'auth.trustedProxies[6]: "10.0.0.0/x" has a prefix length outside 1-32 (cidr)',
      'auth.trustedProxies[7]: " 10.0.0.1" is not an IP address or CIDR such as 10.0.0.0/8 or fd00::/8 (cidr)',
      'auth.trustedProxies[8]: "10.0.0.0/8/8" has a prefix length outside 1-32 (cidr)',
      'auth.trustedProxies[9]: "010.0.0.1" is not an IP address or CIDR such as 10.0.0.0/8 or fd00::/8 (cidr)',
    ]);
  });

  it('must be a list of strings', () => {
    expect(problemsOf('10.0.0.0/8')).toEqual(['auth.trustedProxies: expected array (array)']);
  });

  it('the result is frozen', () => {
    const config = parseConfig({ ...minimal, auth: { trustedProxies: ['10.0.0.0/8'] } }, SOURCE);
    expect(Object.isFrozen(config.auth.trustedProxies)).toBe(true);
  });
});
