/**
 * Session cookies made by the test as only the gate could make them: sealed
 * with the gate's own key from its dataDir (or with another key, to forge).
 */
import { seal } from '../../src/sso/seal.js';
import { loadSessionKey } from '../../src/sso/session-key.js';

/**
 * A `session=…` cookie holding `fields` as src/sso/sessions.ts seals them
 * (`i` the session id, `u` the user, `p` the provider, `c` the CSRF token;
 * cookies of older versions also held `g`, the groups), valid for an hour.
 * `p` defaults to `oidc` and `c` to `csrf`; `i` is left out unless given.
 * `key` is the gate's dataDir, whose session key is used, or a key itself.
 */
export async function sealedSession(key: string | Uint8Array, fields: Record<string, unknown>): Promise<string> {
  const bytes = typeof key === 'string' ? await loadSessionKey(key) : key;
  return `session=${await seal({ p: 'oidc', c: 'csrf', ...fields }, bytes, new Date(), 3_600_000)}`;
}
