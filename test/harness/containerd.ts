import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { run, startProcess, waitUntil } from './process.js';
import type { RunOptions, RunResult } from './process.js';
import type { Credentials } from './skopeo.js';
import { tarStream } from './tar.js';
import type { TarFile } from './tar.js';
import { makeTempDir, removeDir } from './tmp.js';

/** A private containerd daemon and `ctr` bound to its socket. */
export interface Containerd {
  /** The daemon's gRPC unix socket. */
  readonly address: string;
  /** `ctr --address SOCK …args` (timeout 120 s unless given); a non-zero exit is returned, not thrown. */
  ctr(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** `ctr images pull --plain-http --snapshotter native [--user u:p] REF`. */
  pull(ref: string, creds?: Credentials): Promise<RunResult>;
  /** `ctr images push --plain-http [--user u:p] REF [LOCAL]`; `local` defaults to `ref`. */
  push(ref: string, opts?: { creds?: Credentials; local?: string }): Promise<RunResult>;
  /** Tars an OCI layout holding one image and imports it into the content store as `ref`. */
  importLayout(layoutDir: string, ref: string): Promise<RunResult>;
  /** Stops the daemon by PID and removes its root, state and socket. */
  stop(): Promise<void>;
}

// sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH = 107;

/**
 * Starts containerd 1.6 as root with everything in a fresh temp dir, and waits
 * until `ctr version` gets an answer. Disabled plugins: `cri` (wants CNI and a
 * kubelet), `opt` (would create /opt/containerd), and the devmapper, aufs,
 * btrfs and zfs snapshotters (want devices or filesystems a sandbox lacks).
 * Pulls unpack with the `native` snapshotter, which needs no mounts.
 */
export async function startContainerd(): Promise<Containerd> {
  const dir = await makeTempDir('containerd');
  const address = join(dir, 'containerd.sock');
  try {
    if (Buffer.byteLength(address) > MAX_SOCKET_PATH) throw new Error(`containerd: socket path too long: ${address}`);
    const configPath = join(dir, 'config.toml');
    await writeFile(configPath, containerdConfig(dir, address));
    const proc = await startProcess('containerd', ['--config', configPath, '--log-level', 'warn']);
    const ctr = (args: readonly string[], opts?: RunOptions): Promise<RunResult> =>
      run('ctr', ['--address', address, ...args], { timeoutMs: 120_000, ...opts });
    try {
      await waitUntil(proc, `socket ${address}`, () => exists(address));
      await waitUntil(proc, 'ctr version answering', async () => (await ctr(['--connect-timeout', '1s', 'version'])).code === 0);
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return {
      address,
      ctr,
      pull: (ref, creds) => ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', ...userFlag(creds), ref]),
      push: (ref, { creds, local } = {}) => ctr(['images', 'push', '--plain-http', ...userFlag(creds), ref, ...(local === undefined ? [] : [local])]),
      async importLayout(layoutDir, ref) {
        const tar = Readable.from(tarStream(await layoutFiles(layoutDir, ref)));
        return ctr(['images', 'import', '--no-unpack', '-'], { input: tar });
      },
      async stop() {
        await proc.stop();
        await removeDir(dir);
      },
    };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

// JSON strings are valid TOML basic strings.
function containerdConfig(dir: string, address: string): string {
  const disabled = ['io.containerd.grpc.v1.cri', 'io.containerd.internal.v1.opt'].concat(
    ['devmapper', 'aufs', 'btrfs', 'zfs'].map((name) => `io.containerd.snapshotter.v1.${name}`),
  );
  return [
    'version = 2',
    `root = ${JSON.stringify(join(dir, 'root'))}`,
    `state = ${JSON.stringify(join(dir, 'state'))}`,
    `disabled_plugins = ${JSON.stringify(disabled)}`,
    '[grpc]',
    `  address = ${JSON.stringify(address)}`,
    // Left unset, the ttrpc socket would default to /run/containerd/containerd.sock.ttrpc.
    '[ttrpc]',
    `  address = ${JSON.stringify(`${address}.ttrpc`)}`,
    '',
  ].join('\n');
}

function userFlag(creds: Credentials | undefined): string[] {
  return creds === undefined ? [] : ['--user', `${creds.username}:${creds.password}`];
}

/**
 * The layout's files with index.json rewritten: `ctr images import` names an
 * OCI image after containerd's `io.containerd.image.name` annotation, since
 * the OCI `org.opencontainers.image.ref.name` holds only a tag.
 */
async function layoutFiles(layoutDir: string, ref: string): Promise<TarFile[]> {
  type Index = { manifests: { annotations?: Record<string, string> }[] };
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as Index;
  const [manifest, ...others] = index.manifests;
  if (manifest === undefined || others.length > 0) throw new Error(`importLayout: ${layoutDir} must hold exactly one image`);
  manifest.annotations = { ...manifest.annotations, 'io.containerd.image.name': ref };
  const files: TarFile[] = [
    text('oci-layout', await readFile(join(layoutDir, 'oci-layout'), 'utf8')),
    text('index.json', JSON.stringify(index)),
  ];
  const blobs = join(layoutDir, 'blobs', 'sha256');
  for (const name of await readdir(blobs)) {
    if (name.startsWith('.')) continue;
    const path = join(blobs, name);
    // A generator opens each blob only when the tar reaches it.
    const body = (async function* () {
      yield* createReadStream(path);
    })();
    files.push({ name: `blobs/sha256/${name}`, size: (await stat(path)).size, body });
  }
  return files;
}

function text(name: string, content: string): TarFile {
  const body = Buffer.from(content);
  return { name, size: body.length, body };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
