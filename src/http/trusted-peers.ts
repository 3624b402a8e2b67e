/**
 * Whether a socket's peer is one of `auth.trustedProxies` (addresses and
 * CIDRs, checked by config validation), for what only a trusted proxy may
 * tell the gate outside Fastify's own `trustProxy` (X-Forwarded-For and
 * -Proto): the request id. It decides as Fastify's trustProxy does, an
 * IPv4-mapped IPv6 peer (`::ffff:127.0.0.1`) matching IPv4 entries.
 * An adapter (node:net's BlockList parses the addresses); what is done with
 * the answer is decided in policy/trusted-peer.ts (acceptedRequestId).
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
