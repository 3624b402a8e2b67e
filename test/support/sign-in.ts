/**
 * Signs in through the gate and the test IdP's development login form with
 * plain HTTP, as a browser would: one cookie jar for both (cookies ignore
 * ports, RFC 6265 §8.5), redirects followed by hand. No browser needed, and
 * the cookies the gate set are there to replay.
 */

export interface SignedIn {
  /** the last response's status and body: the page the login came back to */
  readonly status: number;
  readonly body: string;
  /** every cookie set on the way, by name (the gate's `session` and `user` among them) */
  readonly cookies: ReadonlyMap<string, string>;
}

export interface SignInOptions {
  /**
   * Stop before requesting a URL this accepts (say the gate's callback): the
   * result is then `status` 0 with that URL in `stoppedAt`, and the cookies
   * so far, so a test can send (or replay, or tamper with) that request itself.
   */
  readonly stopAt?: (url: URL) => boolean;
}

/** Starts at `start` (default the account page, which sends a visitor to the login) and signs in as `login`. */
export async function signIn(gate: string, login: string, start = `${gate}/-/account`, options: SignInOptions = {}): Promise<SignedIn & { readonly stoppedAt?: URL }> {
  const jar = new Map<string, string>();
  const request = async (url: string, init: RequestInit = {}) => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), cookie }, redirect: 'manual' });
    for (const set of response.headers.getSetCookie()) {
      const pair = set.split(';')[0]!;
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  let url = start;
  for (let hop = 0; hop < 10; hop++) {
    if (options.stopAt?.(new URL(url)) === true) return { status: 0, body: '', cookies: jar, stoppedAt: new URL(url) };
    let response = await request(url);
    if (response.status === 200 && new URL(url).pathname.startsWith('/interaction/')) {
      await response.body?.cancel();
      const form = new URLSearchParams({ prompt: 'login', login, password: 'anything' });
      response = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    }
    const location = response.headers.get('location');
    if (location === null) return { status: response.status, body: await response.text(), cookies: jar };
    await response.body?.cancel();
    url = new URL(location, url).href;
  }
  throw new Error('sign-in: too many redirects');
}

/** The CSRF token the account page's forms carry. */
export function formToken(accountPage: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(accountPage)?.[1];
  if (token === undefined) throw new Error('no CSRF token on the page: not the account page?');
  return token;
}
