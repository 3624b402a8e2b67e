/**
 * The stack most integration and regression suites run against: the real
 * registry, optionally a hop in front of it (a recorder, or a fault
 * injector), the gate in-process, a temp dir, images built and pushed
 * straight to the registry, and one API key per user.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { startFaultInjector, type FaultInjector } from '../harness/faulty.js';
import { buildImage, type BuiltImage } from '../harness/images.js';
import { startRecorder, type Recorder } from '../harness/recorder.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { pushLayout } from '../harness/skopeo.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { startGate, type GateUnderTest } from './gate.js';
import { basic } from './http.js';
import { registryOps, type RegistryOps } from './registry-ops.js';

/** What sits between the gate and the registry. */
export type HopKind = 'faults' | 'recorder' | 'none';

interface Hops {
  readonly faults: { readonly faults: FaultInjector };
  readonly recorder: { readonly recorder: Recorder };
  readonly none: object;
}

export interface ImageSpec {
  readonly seed: string;
  /** The tag in the layout (default `latest`), pushed under every ref of `pushTo`. */
  readonly tag?: string;
  /** `repo:tag` refs pushed straight to the registry, around the gate. */
  readonly pushTo?: readonly string[];
}

export interface StackOptions<H extends HopKind, U extends string, I extends string> {
  readonly accessControl: unknown;
  /** More top-level config keys (`immutableTags`, `auth`, …). */
  readonly extra?: Record<string, unknown>;
  readonly hop?: H;
  /** An API key per user, holding these groups. */
  readonly users?: Readonly<Record<U, readonly string[]>>;
  /** The suite's image, built under `work/image`. */
  readonly image?: ImageSpec;
  /** More images, built under `work/<name>` after it. */
  readonly images?: Readonly<Record<I, ImageSpec>>;
}

interface StackBase<U extends string, I extends string> {
  readonly registry: Registry;
  readonly gate: GateUnderTest;
  /** A temp dir for the suite, removed by stop(). */
  readonly work: string;
  /** Built from `options.image`; absent without it. */
  readonly image: BuiltImage;
  readonly images: Readonly<Record<I, BuiltImage>>;
  /** `Basic` header of each user's key. */
  readonly auth: Readonly<Record<U, string>>;
  /** Requests straight to the registry. */
  readonly direct: RegistryOps;
  /** Stops everything started, last first. */
  stop(): Promise<void>;
}

export type Stack<H extends HopKind = 'none', U extends string = never, I extends string = never> = StackBase<U, I> & Hops[H];

/** Starts the stack; on a failure part-way, stops what had started and rethrows. */
export async function startStack<H extends HopKind = 'none', U extends string = never, I extends string = never>(
  options: StackOptions<H, U, I>,
): Promise<Stack<H, U, I>> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    // Every step runs even when one throws (a gate whose disk went read-only must not leave the registry running).
    const failures: unknown[] = [];
    for (const step of stops.splice(0).reverse()) await step().catch((error: unknown) => void failures.push(error));
    if (failures.length > 0) throw failures[0];
  };
  try {
    const registry = await startRegistry();
    stops.push(() => registry.stop());
    const hop = await startHop(options.hop ?? 'none', registry.url);
    if (hop.server !== null) stops.push(() => hop.server!.stop());
    const gate = await startGate({ upstream: hop.server?.url ?? registry.url, accessControl: options.accessControl, extra: options.extra });
    stops.push(() => gate.stop());
    const work = await makeTempDir('stack');
    stops.push(() => removeDir(work));
    const { image, ...images } = await buildImages(registry, work, { ...(options.image && { image: options.image }), ...options.images });
    const auth = await createKeys(gate, options.users);
    const base = { registry, gate, work, image, images, auth, direct: registryOps(registry.url), stop } as StackBase<U, I>;
    return { ...base, ...hop.named } as Stack<H, U, I>;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts the stack in a `beforeAll` and stops it in an `afterAll` of the
 * calling file or describe block. The returned object is filled in by the
 * `beforeAll`: read it inside hooks and tests only. Pass a function when the
 * options depend on something an earlier `beforeAll` started.
 */
export function useStack<H extends HopKind = 'none', U extends string = never, I extends string = never>(
  options: StackOptions<H, U, I> | (() => StackOptions<H, U, I>),
  timeoutMs = 60_000,
): Stack<H, U, I> {
  const stack = {} as Stack<H, U, I>;
  let started: Stack<H, U, I> | undefined;
  beforeAll(async () => {
    started = await startStack(typeof options === 'function' ? options() : options);
    Object.assign(stack, started);
  }, timeoutMs);
  afterAll(async () => {
    await started?.stop();
  });
  return stack;
}

async function startHop(kind: HopKind, target: string): Promise<{ server: FaultInjector | Recorder | null; named: object }> {
  if (kind === 'faults') {
    const faults = await startFaultInjector(target);
    return { server: faults, named: { faults } };
  }
  if (kind === 'recorder') {
    const recorder = await startRecorder(target);
    return { server: recorder, named: { recorder } };
  }
  return { server: null, named: {} };
}

async function buildImages(registry: Registry, work: string, specs: Readonly<Record<string, ImageSpec>>): Promise<Record<string, BuiltImage>> {
  const images: Record<string, BuiltImage> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const tag = spec.tag ?? 'latest';
    const image = await buildImage(join(work, name), { seed: spec.seed, tag });
    for (const ref of spec.pushTo ?? []) {
      const pushed = await pushLayout(image.layoutDir, tag, `${registry.host}/${ref}`);
      expect(pushed.code, pushed.stderr).toBe(0);
    }
    images[name] = image;
  }
  return images;
}

async function createKeys<U extends string>(gate: GateUnderTest, users: Readonly<Record<U, readonly string[]>> | undefined): Promise<Record<U, string>> {
  const auth = {} as Record<U, string>;
  for (const [user, groups] of Object.entries<readonly string[]>(users ?? ({} as Record<U, readonly string[]>))) {
    const { key } = await gate.store.create({ owner: user, label: 'test', expiresAt: null, scopes: [], groups: [...groups] });
    auth[user as U] = basic(user, key);
  }
  return auth;
}
