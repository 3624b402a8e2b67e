import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.js';
import type { RunResult } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

/** Basic credentials, as `--creds user:password` / `ctr --user user:password` take them. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

interface Isolation {
  readonly home: string;
  readonly flags: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

// The registries are plain HTTP on loopback. (`inspect` spells it --tls-verify.)
const PLAIN_HTTP = ['--src-tls-verify=false', '--dest-tls-verify=false'];

/**
 * Runs skopeo with no state shared with the machine or with other runs:
 *
 * - `--registries-conf`, `--registries.d`, `--policy` and `--tmpdir` point
 *   into a temp home made for this one run and removed after it; so do HOME,
 *   TMPDIR, XDG_CONFIG_HOME, XDG_RUNTIME_DIR and REGISTRY_AUTH_FILE. The
 *   environment is built from scratch (PATH only), so no proxy or
 *   CONTAINERS_* variable of the caller leaks in.
 * - The blob-info cache, which makes later pushes try cross-repository mounts. containers/image 5.23 puts
 *   it in /var/lib/containers/cache whenever the effective uid is 0, whatever
 *   HOME says, and skopeo has no flag for it. `_CONTAINERS_ROOTLESS_UID=1000`
 *   (read by containers/image's internal/rootless instead of geteuid) makes it
 *   use $XDG_DATA_HOME/containers/cache; XDG_DATA_HOME names a regular file, so
 *   creating that directory fails and skopeo falls back to a memory-only cache.
 *   Each run therefore starts cold: no cross-repository mount attempts learnt
 *   from earlier pushes. Pass `{ XDG_DATA_HOME: someDir }` in `env` to keep a
 *   cache across runs and provoke them.
 *
 * One thing stays global: drop-ins in /etc/containers/registries.conf.d are
 * still read (skopeo has no flag for that directory); they only hold short-name
 * aliases, which fully qualified `host:port/repo` references never use.
 *
 * A non-zero exit is returned, not thrown: tests assert denials through it.
 */
export async function skopeo(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const { home, flags, env: base } = await isolate();
  try {
    return await run('skopeo', [...flags, ...args], { env: { ...base, ...env }, timeoutMs: 120_000 });
  } finally {
    await removeDir(home);
  }
}

/** `skopeo copy oci:LAYOUT:TAG docker://DEST`; `dest` is `host:port/repo:tag`. */
export function pushLayout(layoutDir: string, tag: string, dest: string, creds?: Credentials): Promise<RunResult> {
  return skopeo(['copy', ...PLAIN_HTTP, ...credsFlag('--dest-creds', creds), `oci:${layoutDir}:${tag}`, `docker://${dest}`]);
}

/** `skopeo copy docker://SRC oci:DIR[:TAG]`, keeping the source's tag when it has one. */
export function pullToLayout(src: string, destDir: string, creds?: Credentials): Promise<RunResult> {
  const tag = tagOf(src);
  const dest = tag === undefined ? `oci:${destDir}` : `oci:${destDir}:${tag}`;
  return skopeo(['copy', ...PLAIN_HTTP, ...credsFlag('--src-creds', creds), `docker://${src}`, dest]);
}

/** `skopeo inspect docker://REF`: on success stdout is JSON with `Digest`, `Layers`, …. */
export function inspect(ref: string, creds?: Credentials): Promise<RunResult> {
  return skopeo(['inspect', '--tls-verify=false', ...credsFlag('--creds', creds), `docker://${ref}`]);
}

/** The tag of `host:port/repo:tag`; undefined for a digest reference or none. */
export function tagOf(ref: string): string | undefined {
  if (ref.includes('@')) return undefined;
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  const colon = lastPart.indexOf(':');
  return colon === -1 ? undefined : lastPart.slice(colon + 1);
}

function credsFlag(flag: string, creds: Credentials | undefined): string[] {
  return creds === undefined ? [] : [flag, `${creds.username}:${creds.password}`];
}

async function isolate(): Promise<Isolation> {
  const home = await makeTempDir('skopeo');
  const path = (name: string): string => join(home, name);
  await Promise.all(['registries.d', 'tmp', 'run', '.config'].map((dir) => mkdir(path(dir))));
  await writeFile(path('registries.conf'), '');
  await writeFile(path('policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(path('auth.json'), JSON.stringify({ auths: {} }));
  await writeFile(path('no-blob-info-cache'), 'a file where XDG_DATA_HOME expects a directory\n');
  return {
    home,
    flags: [
      ...['--registries-conf', path('registries.conf'), '--registries.d', path('registries.d')],
      ...['--policy', path('policy.json'), '--tmpdir', path('tmp')],
    ],
    env: {
      PATH: process.env['PATH'],
      HOME: home,
      TMPDIR: path('tmp'),
      XDG_CONFIG_HOME: path('.config'),
      XDG_RUNTIME_DIR: path('run'),
      XDG_DATA_HOME: path('no-blob-info-cache'),
      REGISTRY_AUTH_FILE: path('auth.json'),
      _CONTAINERS_ROOTLESS_UID: '1000',
    },
  };
}
