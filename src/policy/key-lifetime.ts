/**
 * When a stored API key stops authenticating: its own `expiresAt`, or
 * `createdAt + auth.apikey.maxLifetime` if sooner. The bound applies to keys
 * made before it was set or lowered, so lowering it (SIGHUP) ends older keys,
 * and the gate tokens minted from them. One rule for the store's lookups,
 * identity resolution, zot's key shapes, the listings and the metrics.
 */

/** The moment the key stops working, or null when nothing bounds it. */
export function keyExpiry(record: { readonly createdAt: string; readonly expiresAt: string | null }, maxLifetimeMs: number | null): Date | null {
  const own = record.expiresAt === null ? null : Date.parse(record.expiresAt);
  const bound = maxLifetimeMs === null ? null : Date.parse(record.createdAt) + maxLifetimeMs;
  const end = own === null ? bound : bound === null ? own : Math.min(own, bound);
  return end === null ? null : new Date(end);
}

/** True from the moment of `keyExpiry` on. */
export function keyExpired(record: { readonly createdAt: string; readonly expiresAt: string | null }, maxLifetimeMs: number | null, now: Date): boolean {
  const end = keyExpiry(record, maxLifetimeMs);
  return end !== null && end.getTime() <= now.getTime();
}
