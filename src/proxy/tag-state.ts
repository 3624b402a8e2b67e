/**
 * Whether a tag exists, asked of the upstream at PUT time. Every manifest
 * media type is in `Accept`: without one, distribution answers 404 to an
 * existing OCI manifest (distribution 2.8 does) and an overwrite would pass as
 * a create. Anything but a clear 200 or 404 is "unknown": the caller fails closed.
 */
import { readAllPages } from './pages.js';
import { errorCode, type Upstream } from './upstream.js';

const MANIFEST_MEDIA_TYPES = [
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
    return { kind: 'unknown', detail: failureCode(error) };
  }
}

/** Every tag of a repository, following the registry's pagination; null when it cannot tell. */
export async function listTags(upstream: Upstream, repository: string): Promise<string[] | null> {
  try {
    const read = await readAllPages(upstream, `/v2/${repository}/tags/list`, 'tags');
    if (read.kind === 'complete') return read.items;
    // a repository that has gone (or never was) has no tags
    return read.kind === 'refused' && read.status === 404 ? read.items : null;
  } catch {
    return null;
  }
}

export type TagContent =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly digest: string; readonly children: readonly string[] }
  | { readonly kind: 'unknown'; readonly detail: string };

/**
 * What a tag points at, and — when that is an image index — the manifests it
 * lists: deleting one of those breaks the tag as surely as deleting the tag.
 */
export async function tagContent(upstream: Upstream, repository: string, tag: string): Promise<TagContent> {
  try {
    const response = await upstream.request({ method: 'GET', path: `/v2/${repository}/manifests/${tag}`, headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') } });
    if (response.statusCode === 404) {
      await response.body.dump();
      return { kind: 'absent' };
    }
    const digest = response.headers['docker-content-digest'];
    if (response.statusCode !== 200 || typeof digest !== 'string') {
      await response.body.dump();
      return { kind: 'unknown', detail: `upstream answered ${response.statusCode}${typeof digest === 'string' ? '' : ' without a digest'}` };
    }
    const body = (await response.body.json()) as { manifests?: unknown };
    const children = Array.isArray(body.manifests)
      ? body.manifests.map((m) => (m as { digest?: unknown }).digest).filter((d): d is string => typeof d === 'string')
      : [];
    return { kind: 'present', digest, children };
  } catch (error) {
    return { kind: 'unknown', detail: failureCode(error) };
  }
}

/** What a client may learn of a failed lookup: the error's code, never its message (which names the registry's address). */
function failureCode(error: unknown): string {
  return errorCode(error) ?? 'request failed';
}
