/** API keys in zot's own JSON shape (pkg/meta/types APIKeyDetails), so zot's UI and scripts read ours. */
import { keyExpired, keyExpiry } from '../policy/api-key.js';
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
 *   (or lowered) ends sooner than its record says (`keyExpiry`), and is shown so
 */
export function toZotApiKey(record: ApiKeyRecord, now: Date, maxLifetimeMs: number | null, creatorUa = ''): ZotApiKeyDetails {
  const end = keyExpiry(record, maxLifetimeMs);
  return {
    createdAt: record.createdAt,
    expirationDate: end === null ? ZERO_TIME : end.toISOString(),
    isExpired: keyExpired(record, maxLifetimeMs, now),
    creatorUa,
    generatedBy: 'manual',
    lastUsed: record.lastUsedAt ?? ZERO_TIME,
    label: record.label,
    scopes: record.scopes,
    uuid: record.id,
  };
}
