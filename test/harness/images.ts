import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { tarStream } from './tar.js';

export interface BuildOptions {
  /** Distinct seeds give distinct layers, configs and manifests; equal options give equal digests. */
  readonly seed: string;
  /** Bytes of padding after the seed line in the layer's one file (default 0). */
  readonly layerBytes?: number;
  /** `org.opencontainers.image.ref.name` in index.json (default `latest`). */
  readonly tag?: string;
}

/** An OCI image layout holding one single-layer linux/amd64 image. */
export interface BuiltImage {
  /** Absolute; `oci:${layoutDir}:${tag}` names the image for skopeo. */
  readonly layoutDir: string;
  readonly manifestDigest: string;
  /** The manifest's exact bytes, as stored and as a registry must serve them. */
  readonly manifest: string;
  readonly configDigest: string;
  /** Digest of the gzipped layer blob. */
  readonly layerDigest: string;
  /** Size in bytes of the gzipped layer blob. */
  readonly layerSize: number;
}

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MIB = 1024 * 1024;

/**
 * Writes an OCI image layout (image-spec v1.0 `image-layout.md`) into `dir`:
 * one gzipped tar layer holding the file `payload`, a config whose
 * `rootfs.diff_ids` names the uncompressed tar, and an image manifest. The
 * layer is pre-gzipped, so pushing it measures the transfer, not compression.
 */
export async function buildImage(dir: string, opts: BuildOptions): Promise<BuiltImage> {
  const layoutDir = resolve(dir);
  const tag = opts.tag ?? 'latest';
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const layer = await writeLayer(layoutDir, opts.seed, opts.layerBytes ?? 0);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  });
  const configDigest = await writeBlob(layoutDir, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: CONFIG_TYPE, digest: configDigest, size: Buffer.byteLength(config) },
    layers: [{ mediaType: LAYER_TYPE, digest: layer.digest, size: layer.size }],
  });
  const manifestDigest = await writeBlob(layoutDir, manifest);
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: MANIFEST_TYPE,
        digest: manifestDigest,
        size: Buffer.byteLength(manifest),
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(index));
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { layoutDir, manifestDigest, manifest, configDigest, layerDigest: layer.digest, layerSize: layer.size };
}

/** Digest in the OCI form `sha256:<hex>`. */
export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Path of a blob inside an OCI layout. */
export function blobPath(layoutDir: string, digest: string): string {
  return join(layoutDir, 'blobs', ...digest.split(':'));
}

async function writeBlob(layoutDir: string, data: string): Promise<string> {
  const digest = sha256(data);
  await writeFile(blobPath(layoutDir, digest), data);
  return digest;
}

// Streams tar → gzip → file, hashing before and after gzip, so a layer of any
// size never sits in memory.
async function writeLayer(layoutDir: string, seed: string, padding: number): Promise<{ digest: string; size: number; diffId: string }> {
  const head = Buffer.from(`zot-gate test layer, seed ${JSON.stringify(seed)}\n`);
  const file = { name: 'payload', size: head.length + padding, body: payload(head, seed, padding) };
  const uncompressed = createHash('sha256');
  const compressed = createHash('sha256');
  let size = 0;
  const partial = join(layoutDir, 'blobs', `.partial-${randomBytes(8).toString('hex')}`);
  await pipeline(
    tarStream([file]),
    async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        uncompressed.update(chunk);
        yield chunk;
      }
    },
    // Level 0 (stored blocks) is still gzip: the padding is incompressible, and
    // deflating it ran at ~50 MB/s here against ~800 MB/s for storing it.
    createGzip({ level: 0 }),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        compressed.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(partial),
  );
  const digest = `sha256:${compressed.digest('hex')}`;
  await rename(partial, blobPath(layoutDir, digest));
  return { digest, size, diffId: `sha256:${uncompressed.digest('hex')}` };
}

// AES-256-CTR over zeros, keyed by the seed: incompressible like random bytes,
// but reproducible, and fast enough for GiB layers.
async function* payload(head: Uint8Array, seed: string, bytes: number): AsyncGenerator<Uint8Array> {
  yield head;
  const key = createHash('sha256').update(`padding:${seed}`).digest();
  const keystream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MIB);
  for (let left = bytes; left > 0; left -= MIB) {
    yield keystream.update(left >= MIB ? zeros : zeros.subarray(0, left));
  }
}
