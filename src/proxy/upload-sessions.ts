/**
 * Who opened each upload session. distribution and zot hand out upload URLs
 * that anyone holding them may continue; behind the gate an upload belongs to
 * the identity that started it (README, "How decisions are made"). Kept in memory
 * with a TTL: after a restart an unfinished upload starts over, which every
 * client does on a 404.
 */
import { LRUCache } from 'lru-cache';

const DAY_MS = 24 * 60 * 60 * 1000;

export class UploadSessions {
  readonly #owners: LRUCache<string, string>;

  constructor(options: { max?: number; ttlMs?: number } = {}) {
    this.#owners = new LRUCache({ max: options.max ?? 100_000, ttl: options.ttlMs ?? DAY_MS });
  }

  /** Binds a session to its owner; a session is never rebound to someone else. */
  bind(repository: string, session: string, owner: string): void {
    const key = `${repository}/${session}`;
    if (!this.#owners.has(key)) this.#owners.set(key, owner);
  }

  ownerOf(repository: string, session: string): string | undefined {
    return this.#owners.get(`${repository}/${session}`);
  }

  end(repository: string, session: string): void {
    this.#owners.delete(`${repository}/${session}`);
  }
}
