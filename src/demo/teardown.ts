/**
 * What the demo has started, stopped in reverse order. Once teardown has
 * begun, anything still being started is stopped as soon as it registers, so
 * a Ctrl-C during start-up leaves nothing behind either.
 */
export class Teardown {
  readonly #steps: Array<{ readonly what: string; readonly stop: () => Promise<void> }> = [];
  #running: Promise<void> | null = null;

  get started(): boolean {
    return this.#running !== null;
  }

  /** Registers how to stop something that has just started. */
  async defer(what: string, stop: () => Promise<void>): Promise<void> {
    if (this.#running === null) {
      this.#steps.push({ what, stop });
      return;
    }
    await this.#running;
    await attempt(what, stop);
  }

  /** Stops everything registered, newest first; every step runs even when one fails. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) await attempt(step.what, step.stop);
    })();
    return this.#running;
  }
}

async function attempt(what: string, stop: () => Promise<void>): Promise<void> {
  try {
    await stop();
  } catch (error) {
    process.stderr.write(`zot-gate demo: stopping ${what} failed: ${(error as Error).message}\n`);
  }
}
