/**
 * API key format and hashing. zot's keys are `zak_` followed by 32 lowercase
 * hex digits (zot builds them from a dash-less UUIDv4; ours are 16 random
 * bytes, which clients cannot tell apart). Only the SHA-256 is ever stored.
 */
import { createHash, randomBytes } from 'node:crypto';

/** zot's `constants.APIKeysPrefix`. */
export const API_KEY_PREFIX = 'zak_';

const API_KEY_PATTERN = /^zak_[0-9a-f]{32}$/;

/** A fresh key: `zak_` + 32 lowercase hex digits from 128 random bits. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(16).toString('hex');
}

/** True when `value` has exactly the shape `generateApiKey()` produces. */
export function isApiKeyFormat(value: string): boolean {
  return API_KEY_PATTERN.test(value);
}

/**
 * Lowercase hex SHA-256 of the whole key, prefix included.
 *
 * zot hashes the key without its `zak_` prefix; zot-gate keeps its own store
 * and hashes what the client sends, so the two stores are not interchangeable.
 * A plain hash is enough: the key carries 128 random bits, so there is nothing
 * for a slow password hash to protect. Records are found by indexing on this
 * hash, never by comparing secrets, so no constant-time comparison is needed.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
