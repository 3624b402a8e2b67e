/**
 * Whether a tag exists, asked of the upstream at PUT time. Every manifest
 * media type is in `Accept`: without one, distribution answers 404 to an
 * existing OCI manifest (FIELD-NOTES pitfall 6) and an overwrite would pass as
 * a create. Anything but a clear 200 or 404 is "unknown": the caller fails closed.
 */
import type { Upstream } from './upstream.js';

export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.oci.artifact.manifest.v1+json',
];

export type TagState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly digest: string | null }
  | { readonly kind: 'unknown'; readonly detail: string };

export async function tagState(upstream: Upstream, repository: string, tag: string): Promise<TagState> {
  try {
    const response = await upstream.request({
      method: 'HEAD',
      path: `/v2/${repository}/manifests/${tag}`,
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
    });
    await response.body.dump();
    if (response.statusCode === 404) return { kind: 'absent' };
    if (response.statusCode === 200) {
      const digest = response.headers['docker-content-digest'];
      return { kind: 'present', digest: typeof digest === 'string' ? digest : null };
    }
    return { kind: 'unknown', detail: `upstream answered ${response.statusCode}` };
  } catch (error) {
    return { kind: 'unknown', detail: (error as Error).message };
  }
}
