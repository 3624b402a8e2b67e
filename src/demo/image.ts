/**
 * A tiny image to push, so the printed skopeo lines work on a machine with
 * no images and no network: an OCI image layout (image-spec v1.1
 * `image-layout.md`) holding two one-layer images.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The layout's tags: `first` for the push, `second` (other content) for the refused overwrite. */
export const IMAGE_TAGS = { first: 'v1', second: 'v1-rebuilt' } as const;

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const BLOCK = 512;

/** Writes the layout into `dir` (created); `oci:DIR:TAG` names an image in it for skopeo. */
export async function writeDemoImage(dir: string): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const manifests = [];
  for (const tag of [IMAGE_TAGS.first, IMAGE_TAGS.second]) {
    const manifest = await writeImage(dir, `hello from the zot-gate demo, image ${tag}\n`);
    manifests.push({ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } });
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

/** One image whose layer holds `hello.txt`; returns the manifest's descriptor. */
async function writeImage(dir: string, text: string) {
  const tar = ustar('hello.txt', Buffer.from(text));
  const layer = gzipSync(tar);
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [digestOf(tar)] } });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await writeBlob(dir, config)) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await writeBlob(dir, layer)) }],
  });
  return { mediaType: MANIFEST_TYPE, ...(await writeBlob(dir, manifest)) };
}

async function writeBlob(dir: string, data: string | Buffer): Promise<{ digest: string; size: number }> {
  const digest = digestOf(data);
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), data);
  return { digest, size: Buffer.byteLength(data) };
}

function digestOf(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A ustar archive (POSIX.1-2017 pax, "ustar Interchange Format") of one small regular file. */
function ustar(name: string, body: Buffer): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  const octal = (offset: number, width: number, value: number) =>
    header.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, 'ascii');
  octal(100, 8, 0o644); // mode
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, body.length);
  octal(136, 12, 0); // mtime
  header.write('0', 156, 'ascii'); // typeflag: regular file
  header.write('ustar\u000000', 257, 'ascii');
  // The checksum is the byte sum of the header with its own field read as eight spaces.
  header.write(' '.repeat(8), 148, 'ascii');
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  const padding = (BLOCK - (body.length % BLOCK)) % BLOCK;
  // two zero blocks end the archive
  return Buffer.concat([header, body, Buffer.alloc(padding + 2 * BLOCK)]);
}
