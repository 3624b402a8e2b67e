/**
 * Requests sent straight to the registry, around the gate: how a test sets
 * state up behind the gate's back, and how it checks what the registry itself
 * holds afterwards.
 */
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { blobPath, sha256 } from '../harness/images.js';
import { send } from './http.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** The registry-side operations, bound to one registry's base URL. */
export interface RegistryOps {
  /**
   * What `repository:reference` resolves to, by the registry's
   * Docker-Content-Digest; null on 404, and any other status fails the test.
   * distribution answers 404 to an OCI manifest HEAD whose Accept lacks its type.
   */
  digestOf(repository: string, reference: string, accept?: string): Promise<string | null>;
  /** PUTs a manifest (201 expected). */
  putManifest(repository: string, reference: string, body: string, mediaType?: string): Promise<void>;
  /** Uploads one blob of an OCI layout: POST, then a monolithic PUT (201 expected). */
  pushBlob(repository: string, layoutDir: string, digest: string): Promise<void>;
  /** Uploads `data` as one blob, as {@link pushBlob} does; returns its digest. */
  putBlob(repository: string, data: string | Uint8Array): Promise<string>;
  /** Links blobs already in `from` into `repository` by cross-repository mount (201 expected each). */
  mountBlobs(repository: string, from: string, digests: readonly string[]): Promise<void>;
}

export function registryOps(baseUrl: string): RegistryOps {
  const upload = async (repository: string, digest: string, body: string | Uint8Array): Promise<void> => {
    const started = await send(baseUrl, { method: 'POST', path: `/v2/${repository}/blobs/uploads/` });
    expect(started.status, started.body).toBe(202);
    const location = new URL(started.headers.location as string, baseUrl);
    location.searchParams.set('digest', digest);
    const done = await send(baseUrl, { method: 'PUT', path: `${location.pathname}${location.search}`, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(body) });
    expect(done.status, done.body).toBe(201);
  };
  return {
    async digestOf(repository, reference, accept = OCI_MANIFEST) {
      const response = await send(baseUrl, { method: 'HEAD', path: `/v2/${repository}/manifests/${reference}`, headers: { accept } });
      if (response.status === 404) return null;
      expect(response.status).toBe(200);
      return response.headers['docker-content-digest'] as string;
    },
    async putManifest(repository, reference, body, mediaType = OCI_MANIFEST) {
      const response = await send(baseUrl, { method: 'PUT', path: `/v2/${repository}/manifests/${reference}`, headers: { 'content-type': mediaType }, body });
      expect(response.status, response.body).toBe(201);
    },
    async pushBlob(repository, layoutDir, digest) {
      await upload(repository, digest, await readFile(blobPath(layoutDir, digest)));
    },
    async putBlob(repository, data) {
      const digest = sha256(data);
      await upload(repository, digest, data);
      return digest;
    },
    async mountBlobs(repository, from, digests) {
      for (const digest of digests) {
        const response = await send(baseUrl, { method: 'POST', path: `/v2/${repository}/blobs/uploads/?mount=${digest}&from=${from}` });
        expect(response.status).toBe(201);
      }
    },
  };
}

/** `manifest` with `annotations` set: the same blobs under another digest. */
export function annotated(manifest: string, annotations: Record<string, string>): string {
  return JSON.stringify({ ...(JSON.parse(manifest) as object), annotations });
}
