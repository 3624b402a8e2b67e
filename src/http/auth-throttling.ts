/**
 * Failed-authentication throttling at the HTTP edge, around the model in
 * `identity/auth-throttle.ts`. Every place that checks credentials (the
 * registry hook, the token endpoint, `/zot/auth/apikey` and `/-/metrics`,
 * all through authenticate.ts; the login callback) calls, in this order:
 *
 * 1. `refuseLocked` before checking: a request that carries credentials from
 *    a locked address is answered 429 `TOOMANYREQUESTS` with `Retry-After` —
 *    also when its credentials are right, so a locked guesser learns nothing.
 *    A locked username refuses here only guessable secrets
 *    (policy/throttle.ts `usernameLockChecksFirst`): an API key or a signed
 *    token is checked first, so its owner is never locked out by strangers.
 *    Requests without credentials (anonymous pulls, the session cookie) are
 *    never refused here.
 * 2. `failed` after refused credentials: counts the failure and waits zot's
 *    failDelay, doubled per failure beyond `delayAfter`; the failure that
 *    reaches a limit, or meets a lock in place, is answered 429 at once.
 * 3. `succeeded` after accepted credentials: the address becomes one the
 *    identity that authenticated is known from — its name, never the Basic
 *    username sent beside a trusted JWT. Accepted credentials never wait.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { AuthThrottle, clientKey, type Attempt } from '../identity/auth-throttle.js';
import { countsAsGuess, secretKindOf, throttleLimits, usernameLockChecksFirst, type Lock, type ThrottleScope } from '../policy/throttle.js';
import type { CredentialsResult } from '../identity/credentials.js';
import type { Identity } from '../identity/types.js';
import { observationOf } from '../observability/observation.js';
import { sendOciError } from './oci-error.js';
import { authenticationThrottled } from './respond.js';

/**
 * A login callback's authorization code and state: presented like a
 * credential (a refused one is counted, by the client's address, and waits),
 * though no Authorization header carries it.
 */
export const LOGIN_CALLBACK = { kind: 'login-callback' } as const;

/** What a request presents to be checked: its Authorization header, or a login callback. */
export type Presented = CredentialsResult | typeof LOGIN_CALLBACK;

/** Where throttling is counted (GateMetrics). */
export interface ThrottleCounters {
  throttled(scope: ThrottleScope): void;
  locked(scope: ThrottleScope): void;
}

export class AuthThrottling {
  readonly #model: AuthThrottle;
  readonly #counters: ThrottleCounters;
  readonly #now: () => Date;

  constructor(counters: ThrottleCounters, now: () => Date, model: AuthThrottle = new AuthThrottle()) {
    this.#model = model;
    this.#counters = counters;
    this.#now = now;
  }

  /** Before credentials are checked: answers 429 and returns the reply when a lock applies; null otherwise. */
  refuseLocked(request: FastifyRequest, reply: FastifyReply, credentials: Presented): FastifyReply | null {
    const attempt = attemptOf(request, credentials);
    if (attempt === null) return null;
    // attemptOf() names a username for Basic credentials only
    const usernameFirst = 'ok' in credentials && credentials.ok && credentials.credentials.kind === 'basic' && usernameLockChecksFirst(secretKindOf(credentials.credentials));
    const lock = this.#model.check(usernameFirst ? attempt : { address: attempt.address }, this.#now().getTime());
    return lock === null ? null : this.#refuse(request, reply, attempt, lock, false);
  }

  /**
   * After credentials were refused for `failure`: counts it and waits before
   * the caller answers (null), or answers 429 at once when a lock is now in
   * place and returns the reply.
   */
  async failed(request: FastifyRequest, reply: FastifyReply, credentials: Presented, failure: string, config: Config): Promise<FastifyReply | null> {
    const attempt = attemptOf(request, credentials);
    if (attempt === null || !countsAsGuess(failure)) {
      await pause(config.auth.failDelayMs);
      return null;
    }
    const outcome = this.#model.fail(attempt, throttleLimits(config.auth), this.#now().getTime());
    if (outcome.kind === 'delay') {
      await pause(outcome.delayMs);
      return null;
    }
    for (const scope of outcome.started) this.#counters.locked(scope);
    return this.#refuse(request, reply, attempt, outcome.lock, outcome.started.length > 0);
  }

  /** After credentials were accepted as `identity`: the address is known for it (an anonymous one records nothing). */
  succeeded(request: FastifyRequest, credentials: Presented, identity: Identity): void {
    const attempt = attemptOf(request, credentials);
    if (attempt !== null && identity.kind === 'user') this.#model.succeed(attempt.address, identity.name);
  }

  #refuse(request: FastifyRequest, reply: FastifyReply, attempt: Attempt, lock: Lock, started: boolean): FastifyReply {
    this.#counters.throttled(lock.scope);
    const { scope, retryAfter } = lock;
    // The username is what the client sent, never the password or key.
    const throttle = { scope, address: addressOf(request), ...(attempt.username === undefined ? {} : { username: attempt.username }), retryAfter, started };
    request.log.warn({ throttle }, 'authentication throttled');
    reply.header('retry-after', String(retryAfter));
    return sendOciError(request, reply, authenticationThrottled(scope, attempt.username));
  }
}

/** The attempt a request's credentials make; null when it carries none. */
function attemptOf(request: FastifyRequest, credentials: Presented): Attempt | null {
  if (!('ok' in credentials)) return { address: clientKey(addressOf(request)) };
  if (credentials.ok && credentials.credentials.kind === 'none') return null;
  const address = clientKey(addressOf(request));
  return credentials.ok && credentials.credentials.kind === 'basic' ? { address, username: credentials.credentials.username } : { address };
}

/** The client's address (`auth.trustedProxies` decides whose X-Forwarded-For counts), as read when the request arrived. */
export function addressOf(request: FastifyRequest): string {
  return observationOf(request).client ?? request.ip;
}

function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
