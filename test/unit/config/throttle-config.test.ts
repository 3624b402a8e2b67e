/** `auth.throttle`: its defaults, and every problem in it reported at once. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { formatProblem } from '../../../src/config/problems.js';

const minimal = {
  upstream: { url: 'http://127.0.0.1:5051' },
  dataDir: '/var/lib/zot-gate',
  accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
};

function problemsOf(throttle: unknown): string[] {
  try {
    parseConfig({ ...minimal, auth: { throttle } }, '/etc/zot-gate/zot-gate.json');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

describe('auth.throttle', () => {
  it('defaults: 30 failures per address or 60 per username in 10m lock for 1m (an address up to 1h); delays after 5', () => {
    expect(parseConfig(minimal, '/etc/zot-gate/zot-gate.json').auth.throttle).toEqual({
      windowMs: 600_000,
      delayAfter: 5,
      maxFailures: 30,
      usernameMaxFailures: 60,
      lockForMs: 60_000,
      maxLockForMs: 3_600_000,
    });
  });

  it('takes every field', () => {
    const throttle = { window: '5m', delayAfter: 0, maxFailures: 0, usernameMaxFailures: 100, lockFor: '30s', maxLockFor: '2h' };
    expect(parseConfig({ ...minimal, auth: { throttle } }, '/etc/zot-gate/zot-gate.json').auth.throttle).toEqual({
      windowMs: 300_000,
      delayAfter: 0,
      maxFailures: 0,
      usernameMaxFailures: 100,
      lockForMs: 30_000,
      maxLockForMs: 7_200_000,
    });
  });

  it.each([
    [{ window: '0s' }, ['auth.throttle.window: must be longer than 0s (positive)']],
    [{ lockFor: '10 min', maxLockFor: '0s' }, [
      'auth.throttle.lockFor: "10 min" is not a duration such as 30s, 15m, 2h or 90d (duration)',
      'auth.throttle.maxLockFor: must be longer than 0s (positive)',
    ]],
    [{ lockFor: '2h' }, ['auth.throttle.maxLockFor: must not be shorter than lockFor (2h) (range)']],
    [{ maxFailures: -1, delayAfter: 1.5 }, [
      'auth.throttle.delayAfter: expected integer (integer)',
      'auth.throttle.maxFailures: expected integer to be greater or equal to 0 (integer-minimum)',
    ]],
    [{ lockouts: 3 }, ['auth.throttle.lockouts: unknown field (a typo?) (object-additional-properties)']],
  ])('%j is refused', (throttle, problems) => {
    expect(problemsOf(throttle)).toEqual(problems);
  });
});
