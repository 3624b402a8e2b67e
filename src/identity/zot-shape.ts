/** API keys in zot's own JSON shape (pkg/meta/types APIKeyDetails), so zot's UI and scripts read ours. */
import type { ApiKeyRecord } from './types.js';

/** Go's zero time, which zot sends for "never". */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface ZotApiKeyDetails {
  readonly createdAt: string;
  readonly expirationDate: string;
  readonly isExpired: boolean;
  readonly creatorUa: string;
  readonly generatedBy: string;
  readonly lastUsed: string;
  readonly label: string;
  readonly scopes: readonly string[];
  readonly uuid: string;
}

/**
 * @param maxLifetimeMs `auth.apikey.maxLifetime`: a key made before it was set
 *   (or lowered) ends at `createdAt + maxLifetime`, and is shown so
 */
export function toZotApiKey(record: ApiKeyRecord, now: Date, maxLifetimeMs: number | null, creatorUa = ''): ZotApiKeyDetails {
  const ends = [record.expiresAt === null ? null : Date.parse(record.expiresAt), maxLifetimeMs === null ? null : Date.parse(record.createdAt) + maxLifetimeMs];
  const end = ends.filter((t): t is number => t !== null).reduce<number | null>((a, b) => (a === null ? b : Math.min(a, b)), null);
  return {
    createdAt: record.createdAt,
    expirationDate: end === null ? ZERO_TIME : new Date(end).toISOString(),
    isExpired: end !== null && end <= now.getTime(),
    creatorUa,
    generatedBy: 'manual',
    lastUsed: record.lastUsedAt ?? ZERO_TIME,
    label: record.label,
    scopes: record.scopes,
    uuid: record.id,
  };
}
