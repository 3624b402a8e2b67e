/**
 * Whose `X-Request-Id` is kept: only a trusted proxy's. Whether the peer is
 * one is found by the adapter http/trusted-peers.ts (node:net parses the
 * addresses, as Fastify's trustProxy does); the decision is here. Pure.
 */
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
