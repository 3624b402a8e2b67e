/**
 * The stack the sign-in (and trusted-JWT) suites run against: the test
 * IdP, the real registry, the gate in-process with an `auth` block for the
 * IdP (its login provider by default), and optionally a headless Chromium;
 * started around a suite and stopped in reverse order (the browser first,
 * as the client of all the others).
 */
import { afterAll, beforeAll } from 'vitest';
import { startBrowser, type Browser } from '../harness/browser.js';
import { startIdp, type Idp, type IdpOptions } from '../harness/idp.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from './gate.js';
import { testIdpAuth } from './sso.js';

export interface SsoGateOptions {
  readonly accessControl: unknown;
  /** The gate's `auth` block for this IdP; default `testIdpAuth(idp)`. */
  readonly auth?: (idp: Idp) => Record<string, unknown>;
  readonly idp?: IdpOptions;
  /** Start a Chromium too. */
  readonly browser?: boolean;
}

export interface SsoGate {
  readonly idp: Idp;
  readonly registry: Registry;
  readonly gate: GateUnderTest;
  /** Absent without `browser: true`. */
  readonly browser: Browser;
  /**
   * A step for what the suite starts against the gate (another origin, a
   * second IdP): it runs at stop time after the browser closes and before the
   * gate stops, last added first.
   */
  onStop(step: () => Promise<void>): void;
}

/**
 * Starts the stack in a `beforeAll` and stops it in an `afterAll` of the
 * calling file or describe block. The returned object is filled in by the
 * `beforeAll`: read it inside hooks and tests only. Every stop step runs even
 * when one throws.
 */
export function useSsoGate(options: SsoGateOptions, timeoutMs = 60_000): SsoGate {
  const steps: Array<() => Promise<void>> = [];
  let closeBrowser: (() => Promise<void>) | undefined;
  const sso = { onStop: (step: () => Promise<void>) => void steps.push(step) } as SsoGate & Record<string, unknown>;
  beforeAll(async () => {
    const [idp, registry, browser] = await Promise.all([
      startIdp(options.idp).then((started) => (steps.push(() => started.close()), started)),
      startRegistry().then((started) => (steps.push(() => started.stop()), started)),
      options.browser ? startBrowser().then((started) => ((closeBrowser = () => started.close()), started)) : undefined,
    ]);
    const gate = await startGate({ upstream: registry.url, accessControl: options.accessControl, extra: { auth: (options.auth ?? testIdpAuth)(idp) } });
    steps.push(() => gate.stop());
    Object.assign(sso, { idp, registry, gate, browser });
  }, timeoutMs);
  afterAll(async () => {
    const failures: unknown[] = [];
    const run = (step: () => Promise<void>) => step().catch((error: unknown) => void failures.push(error));
    if (closeBrowser) await run(closeBrowser);
    for (const step of steps.splice(0).reverse()) await run(step);
    if (failures.length > 0) throw failures[0];
  });
  return sso;
}
