/**
 * Whether a socket's peer is one of `auth.trustedProxies` (addresses and
 * CIDRs, checked by config validation), for what only a trusted proxy may
 * tell the gate outside Fastify's own `trustProxy` (X-Forwarded-For and
 * -Proto): the request id. It decides as Fastify's trustProxy does, an
 * IPv4-mapped IPv6 peer (`::ffff:127.0.0.1`) matching IPv4 entries.
 * Pure: node:net's BlockList does no I/O.
 */
import { BlockList, isIP } from 'node:net';

export type PeerCheck = (address: string | undefined) => boolean;

export function trustedPeers(proxies: readonly string[]): PeerCheck {
  const list = new BlockList();
  for (const entry of proxies) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const version = address === undefined ? 0 : isIP(address);
    return version !== 0 && list.check(address!, version === 6 ? 'ipv6' : 'ipv4');
  };
}

/** A caller's `X-Request-Id` worth keeping: a plain token, so it can be neither a log injection nor a flood of bytes. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The request id to keep from `given` (the `X-Request-Id` header), or null
 * to make a fresh one: only a trusted proxy's, so that logs join the proxy's
 * own, and no client picks the id its audit events carry.
 */
export function acceptedRequestId(given: string | readonly string[] | undefined, fromTrustedProxy: boolean): string | null {
  return fromTrustedProxy && typeof given === 'string' && REQUEST_ID.test(given) ? given : null;
}
