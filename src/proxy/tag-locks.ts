/**
 * Write serialisation (README, "How decisions are made"): a manifest PUT or DELETE
 * holds its repository's key from the check to the upstream's answer, so of
 * two PUTs racing to a new tag the second sees the first one's tag, and a
 * digest DELETE cannot interleave with a PUT that freezes that digest.
 * In-process: one gate per registry, as deployed.
 */
export class TagLocks {
  readonly #tails = new Map<string, Promise<void>>();

  /** Waits for every key (taken in sorted order, so two callers never deadlock) and returns the release. */
  async acquire(keys: readonly string[]): Promise<() => void> {
    const releases: Array<() => void> = [];
    for (const key of [...new Set(keys)].sort()) releases.push(await this.#take(key));
    return () => {
      for (const release of releases.reverse()) release();
    };
  }

  /** Keys currently held or awaited; for tests and metrics. */
  get size(): number {
    return this.#tails.size;
  }

  async #take(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      // the last holder cleans up, so the map holds only keys in use
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
