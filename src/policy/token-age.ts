/**
 * How old a trusted issuer's JWT may be, whatever its `exp` says. Pure: the
 * claim, the clock and the limits go in.
 *
 * A signature proves who minted a token, not that its lifetime is sane: a
 * misused signing key or a misconfigured issuer can mint one with `iat` ten
 * years ahead and `exp` a century out. So a token must say when it was
 * issued (`iat`), that moment may not lie ahead beyond the clock tolerance,
 * and the token counts only for `maxTokenAge` after it (per issuer).
 */

/** Why a token's age refuses it; kebab-case, as in logs. */
export type TokenAgeRefusal = 'token-without-iat' | 'token-issued-in-future' | 'token-too-old';

export interface TokenAgeLimits {
  /** `trustedIssuers[].maxTokenAge`, seconds */
  readonly maxAgeSec: number;
  /** the skew allowed between the issuer's clock and ours, seconds */
  readonly toleranceSec: number;
}

export type TokenAge =
  /** `endsAt`: when the age limit ends the token (epoch seconds), whatever its exp */
  | { readonly ok: true; readonly endsAt: number }
  | { readonly ok: false; readonly reason: TokenAgeRefusal };

/**
 * Whether a token issued at `iat` may be used at `nowSec` (epoch seconds).
 * RFC 7519 makes `iat` optional, but without it the age is unknown: refused.
 */
export function tokenAge(iat: unknown, nowSec: number, limits: TokenAgeLimits): TokenAge {
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return { ok: false, reason: 'token-without-iat' };
  if (iat > nowSec + limits.toleranceSec) return { ok: false, reason: 'token-issued-in-future' };
  // The tolerance counts at this end too, as jose counts it for exp: an issuer whose clock runs behind ours is not punished.
  const endsAt = iat + limits.maxAgeSec + limits.toleranceSec;
  return nowSec > endsAt ? { ok: false, reason: 'token-too-old' } : { ok: true, endsAt };
}
