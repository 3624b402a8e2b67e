/**
 * Appends lines to a file, in order, and resolves each append only once its
 * line is on disk (fdatasync). Appends that arrive while a batch is being
 * written wait for the next batch, so a burst costs one write and one sync per
 * batch, not per line, and the event loop never waits on the disk: the work
 * runs on libuv's thread pool.
 *
 * The file is opened per batch (`O_APPEND`), so a log rotator that renames it
 * away gets a fresh file on the next batch; a newly created file's directory
 * entry is synced too, or a crash could lose the file with its lines.
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

interface Pending {
  readonly text: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class DurableAppender {
  readonly path: string;
  readonly #mode: number;
  #queue: Pending[] = [];
  #draining = false;
  #drained: Promise<void> = Promise.resolve();

  constructor(path: string, mode = 0o600) {
    this.path = path;
    this.#mode = mode;
  }

  /** Resolves once `line` (a newline is added) is durable; rejects when it could not be written. */
  append(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ text: `${line}\n`, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        this.#drained = this.#drain();
      }
    });
  }

  /** Resolves once everything appended so far has been written (or has failed). */
  async idle(): Promise<void> {
    while (this.#draining) await this.#drained;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        try {
          await this.#write(batch.map((pending) => pending.text).join(''));
          for (const pending of batch) pending.resolve();
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      // in the same step as the last look at the queue: an append from here on starts a new drain
      this.#draining = false;
    }
  }

  async #write(text: string): Promise<void> {
    const file = await open(this.path, 'a', this.#mode);
    let empty: boolean;
    try {
      // Empty before this write: most likely just created (a rotator moved the old one away).
      empty = (await file.stat()).size === 0;
      await file.appendFile(text);
      await file.datasync();
    } finally {
      await file.close();
    }
    if (empty) await syncDirectory(dirname(this.path));
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
