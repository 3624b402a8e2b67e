/**
 * The words of a refusal (http/respond.ts): anonymous callers get 401 (credentials
 * could help), named ones 403, an immutable tag its rule; refused credentials
 * are "invalid credentials" unless the route names the failure, and 503 when
 * a trusted issuer cannot be reached.
 */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/identity/types.js';
import { CLIENT_FACING, credentialsRefused, keyGrantRefused, refusal, writeRefused, type Refused } from '../../../src/http/respond.js';
import type { KeyGrantReason } from '../../../src/policy/api-key.js';
import type { WriteVerdict } from '../../../src/policy/manifest-write.js';

const ANONYMOUS: Identity = { kind: 'anonymous' };
const BOB: Identity = { kind: 'user', name: 'bob', groups: [], method: 'apikey' };
const RULE = { repositories: ['app/**'], tags: ['v*'] };

describe('refusal', () => {
  const rows: Array<[string, Identity, Refused, ReturnType<typeof refusal>]> = [
    [
      'anonymous: 401, what it would need',
      ANONYMOUS,
      { decision: { allow: false, reason: 'action-not-granted', pattern: 'team/**' }, what: 'read in repository "team/app"', action: 'read', repository: 'team/app' },
      { status: 401, code: 'UNAUTHORIZED', message: 'authentication required to read in repository "team/app"', reason: 'action-not-granted', detail: { action: 'read', repository: 'team/app', pattern: 'team/**' } },
    ],
    [
      'named: 403, who may not',
      BOB,
      { decision: { allow: false, reason: 'action-not-granted' }, what: 'delete in repository "team/app"', action: 'delete', repository: 'team/app' },
      { status: 403, code: 'DENIED', message: 'user "bob" may not delete in repository "team/app"', reason: 'action-not-granted', detail: { action: 'delete', repository: 'team/app' } },
    ],
    [
      'no repository (metrics)',
      BOB,
      { decision: { allow: false, reason: 'metrics-not-granted' }, what: 'read metrics' },
      { status: 403, code: 'DENIED', message: 'user "bob" may not read metrics', reason: 'metrics-not-granted', detail: {} },
    ],
    [
      'an immutable tag: its rule, whoever asks',
      BOB,
      { decision: { allow: false, reason: 'tag-immutable' }, what: 'overwrite', action: 'update', repository: 'app/web', tag: 'v1', immutable: { index: 2, rule: RULE } },
      { status: 403, code: 'DENIED', message: 'tag "v1" in repository "app/web" is immutable (immutableTags[2]); it cannot be overwritten, push a new tag instead', reason: 'tag-immutable', detail: { action: 'update', repository: 'app/web', tag: 'v1', rule: 'immutableTags[2]' } },
    ],
    [
      'an immutable tag, deleted: only an admin may',
      ANONYMOUS,
      { decision: { allow: false, reason: 'tag-immutable' }, what: 'delete', action: 'delete', repository: 'app/web', tag: 'v1', immutable: { index: 0, rule: RULE } },
      { status: 401, code: 'UNAUTHORIZED', message: 'tag "v1" in repository "app/web" is immutable (immutableTags[0]); only an admin may delete it', reason: 'tag-immutable', detail: { action: 'delete', repository: 'app/web', tag: 'v1', rule: 'immutableTags[0]' } },
    ],
    [
      'an immutable tag without its match: the rule in general',
      BOB,
      { decision: { allow: false, reason: 'tag-immutable' }, what: 'overwrite', action: 'update', repository: 'app/web', tag: 'v1' },
      { status: 403, code: 'DENIED', message: 'tag "v1" in repository "app/web" is immutable (an immutableTags rule); it cannot be overwritten, push a new tag instead', reason: 'tag-immutable', detail: { action: 'update', repository: 'app/web', tag: 'v1' } },
    ],
  ];
  it.each(rows)('%s', (_name, identity, refused, expected) => {
    expect(refusal(identity, refused)).toEqual(expected);
  });
});

describe('credentialsRefused', () => {
  it.each([
    ['an unknown key: invalid credentials, the cause kept from the client', 'unknown-key', CLIENT_FACING, 401, 'invalid credentials', 'invalid-credentials'],
    ['a malformed header where the route names it', 'malformed-authorization', CLIENT_FACING, 401, 'the Authorization header is malformed', 'malformed-authorization'],
    ['two headers where the route names it', 'multiple-authorization', CLIENT_FACING, 401, 'more than one Authorization header', 'multiple-authorization'],
    ['an unsupported scheme where the route names it', 'unsupported-scheme', CLIENT_FACING, 401, 'only Basic and Bearer credentials are accepted', 'unsupported-scheme'],
    ['a malformed header where the route names nothing (the token endpoint)', 'malformed-authorization', {}, 401, 'invalid credentials', 'invalid-credentials'],
    ['a Bearer token at the token endpoint', 'bearer-at-token-endpoint', {}, 401, 'invalid credentials', 'invalid-credentials'],
    ['a trusted issuer out of reach: 503, the token may be good', 'issuer-unavailable', CLIENT_FACING, 503, 'the issuer of this token cannot be reached to check it; retry later', 'issuer-unavailable'],
  ] as const)('%s', (_name, failure, told, status, message, reason) => {
    expect(credentialsRefused(failure, told)).toEqual({ status, code: status === 503 ? 'UNAVAILABLE' : 'UNAUTHORIZED', message, reason });
  });
});

describe('writeRefused', () => {
  const rows: Array<[string, Identity, WriteVerdict, string]> = [
    ['an update of a tag names the tag and what it needs', BOB, { allow: false, decision: { allow: false, reason: 'action-not-granted' }, action: 'update', repository: 'app', tag: 'v1' }, 'user "bob" may not overwrite tag "v1" in repository "app" (needs update)'],
    ['a create names the repository', BOB, { allow: false, decision: { allow: false, reason: 'action-not-granted' }, action: 'create', repository: 'app', tag: 'v1' }, 'user "bob" may not create in repository "app"'],
    ['a delete names the repository', ANONYMOUS, { allow: false, decision: { allow: false, reason: 'action-not-granted' }, action: 'delete', repository: 'app' }, 'authentication required to delete in repository "app"'],
    ['a delete under an immutable tag names its rule', BOB, { allow: false, decision: { allow: false, reason: 'tag-immutable' }, action: 'delete', repository: 'app', tag: 'v1', immutable: { index: 1, rule: RULE } }, 'tag "v1" in repository "app" is immutable (immutableTags[1]); only an admin may delete it'],
  ];
  it.each(rows)('%s', (_name, identity, verdict, message) => {
    expect(writeRefused(identity, verdict).message).toBe(message);
  });
});

describe('keyGrantRefused', () => {
  it.each([
    ['scope-count', 400, 'UNSUPPORTED'],
    ['scope-invalid', 400, 'UNSUPPORTED'],
    ['expiration-malformed', 400, 'UNSUPPORTED'],
    ['expiration-past', 400, 'UNSUPPORTED'],
    ['expiration-beyond-max-lifetime', 400, 'UNSUPPORTED'],
    ['scope-not-covered', 403, 'DENIED'],
    ['expiration-beyond-caller-key', 403, 'DENIED'],
  ] as Array<[KeyGrantReason, number, string]>)('%s: %i %s, the grant\'s own words', (reason, status, code) => {
    expect(keyGrantRefused({ allow: false, reason, message: 'why' })).toEqual({ status, code, message: 'why', reason });
  });
});
