/**
 * The OCI distribution-spec grammar (v1.1, "Pulling manifests"): repository
 * names, tags and digests, plus the upload session ids that appear in upload
 * URLs. Predicates answer yes or no; the `check…` functions say why not, as
 * the Invalid a request earns, in words an operator can act on.
 */
import type { Invalid } from './types.js';

/** dist-spec: clients cap `<registry>/<name>`; the gate caps `<name>` alone at 255. */
const NAME_MAX_LENGTH = 255;

/** dist-spec: a tag is at most 128 characters. */
const TAG_MAX_LENGTH = 128;

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';

/** dist-spec `<name>`: lowercase path components separated by `/`. */
export const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);

/** dist-spec `<reference>` as a tag. Case-sensitive: `LATEST` is not `latest`. */
export const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/**
 * Registered digest algorithms (OCI image-spec "Digests") with their encoded
 * length. Only canonical lowercase hex is accepted, so one blob has one name.
 */
const DIGEST_ALGORITHMS: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha512', 128],
]);

/** `algorithm:encoded` for a registered algorithm, canonical lowercase hex. */
export const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Upload session ids are opaque to clients; zot and distribution issue UUIDs. */
export const SESSION_ID = /^[A-Za-z0-9_=-]{1,256}$/;

/** True for a repository name within the length cap. */
export function isName(text: string): boolean {
  return text.length <= NAME_MAX_LENGTH && NAME.test(text);
}

/** True for a tag. */
export function isTag(text: string): boolean {
  return TAG.test(text);
}

/** True for a digest of a registered algorithm in canonical lowercase hex. */
export function isDigest(text: string): boolean {
  return DIGEST.test(text);
}

/** True for an upload session id. */
export function isSessionId(text: string): boolean {
  return SESSION_ID.test(text);
}

/**
 * Why `text` is not a repository name, as a NAME_INVALID, or null when it is
 * one. `where` prefixes the message (`query parameter "from": `).
 */
export function checkName(text: string, where = ''): Invalid | null {
  if (text.length > NAME_MAX_LENGTH) {
    return nameInvalid(text, where, 'name-too-long', `names are at most ${NAME_MAX_LENGTH} characters`);
  }
  if (NAME.test(text)) return null;
  if (/[A-Z]/.test(text)) return nameInvalid(text, where, 'name-grammar', 'names are lowercase');
  const why = 'each component is lowercase letters and digits, separated by ".", "_", "__" or "-"';
  return nameInvalid(text, where, 'name-grammar', why);
}

function nameInvalid(text: string, where: string, reason: 'name-too-long' | 'name-grammar', why: string): Invalid {
  return { code: 'NAME_INVALID', reason, message: `${where}repository name ${quote(text)} is invalid: ${why}` };
}

/** Why `text` is not a tag, as a TAG_INVALID, or null when it is one. */
export function checkTag(text: string, where = ''): Invalid | null {
  if (TAG.test(text)) return null;
  let why = 'a tag holds only letters, digits, "_", "." and "-"';
  if (text.length > TAG_MAX_LENGTH) why = `tags are at most ${TAG_MAX_LENGTH} characters`;
  else if (!/^[a-zA-Z0-9_]/.test(text)) why = 'a tag starts with a letter, a digit or "_"';
  return { code: 'TAG_INVALID', reason: 'tag-grammar', message: `${where}tag ${quote(text)} is invalid: ${why}` };
}

/** Why `text` is not an accepted digest, as a DIGEST_INVALID, or null when it is one. */
export function checkDigest(text: string, where = ''): Invalid | null {
  if (DIGEST.test(text)) return null;
  const message = (why: string): string => `${where}digest ${quote(text)} is invalid: ${why}`;
  const colon = text.indexOf(':');
  if (colon === -1) return { code: 'DIGEST_INVALID', reason: 'digest-grammar', message: message('a digest is "algorithm:hex"') };
  const algorithm = text.slice(0, colon);
  const length = DIGEST_ALGORITHMS.get(algorithm);
  if (length === undefined) {
    const known = [...DIGEST_ALGORITHMS.keys()].join(', ');
    const why = `algorithm ${quote(algorithm)} is not supported (${known})`;
    return { code: 'DIGEST_INVALID', reason: 'digest-algorithm', message: message(why) };
  }
  const why = `${algorithm} needs ${length} lowercase hex characters`;
  return { code: 'DIGEST_INVALID', reason: 'digest-grammar', message: message(why) };
}

/**
 * Why `text` is not an upload session id, or null when it is one. The
 * dist-spec has no 400 code for it, so it is UNSUPPORTED.
 */
export function checkSessionId(text: string): Invalid | null {
  if (SESSION_ID.test(text)) return null;
  const why = 'a session id is 1 to 256 letters, digits, "_", "=" or "-"';
  return { code: 'UNSUPPORTED', reason: 'session-grammar', message: `upload session id ${quote(text)} is invalid: ${why}` };
}

const QUOTE_MAX = 80;

/**
 * Client text for a message: JSON-quoted (so control characters and quotes
 * are escaped) and cut at 80 characters.
 */
export function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}...` : text);
}
