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

export function toZotApiKey(record: ApiKeyRecord, now: Date, creatorUa = ''): ZotApiKeyDetails {
  return {
    createdAt: record.createdAt,
    expirationDate: record.expiresAt ?? ZERO_TIME,
    isExpired: record.expiresAt !== null && Date.parse(record.expiresAt) <= now.getTime(),
    creatorUa,
    generatedBy: 'manual',
    lastUsed: record.lastUsedAt ?? ZERO_TIME,
    label: record.label,
    scopes: record.scopes,
    uuid: record.id,
  };
}
