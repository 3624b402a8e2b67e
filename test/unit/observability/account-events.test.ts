/**
 * The account events, exactly: who, how, and what detail each carries — a
 * key's id and never its hash or the key.
 */
import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../../../src/identity/types.js';
import { keyCreated, keyRevoked, loggedIn, loggedOut, loginIdentityRefused, loginRefused } from '../../../src/observability/account-events.js';

const RECORD: ApiKeyRecord = {
  id: '7f1c2d4e-0000-4000-8000-000000000001',
  hash: 'f'.repeat(64),
  owner: 'alice',
  label: 'laptop',
  createdAt: '2026-06-01T00:00:00.000Z',
  expiresAt: '2026-07-01T00:00:00.000Z',
  lastUsedAt: null,
  scopes: ['team/**'],
};
const PARENT = '7f1c2d4e-0000-4000-8000-000000000000';
const SESSION = { id: 'session-id-0000000001', user: 'alice', groups: ['devs'], provider: 'oidc', csrf: 'c', expiresAt: 0 };

describe('account events', () => {
  it.each([
    {
      name: 'login',
      note: loggedIn('alice', ['devs'], 'oidc'),
      expected: { event: 'login', identity: 'alice', authMethod: 'session', decision: 'allow', reason: 'idp-login', detail: { provider: 'oidc', groups: ['devs'] } },
    },
    {
      name: 'login refused',
      note: loginRefused('username-claim-missing', 'oidc'),
      expected: { event: 'login', identity: null, authMethod: 'session', decision: 'deny', reason: 'username-claim-missing', detail: { provider: 'oidc' } },
    },
    {
      name: 'login refused: an unverified email address, with the account that tried',
      note: loginIdentityRefused('email-unverified', 'oidc', { issuer: 'https://idp/', subject: 'm1', username: 'alice@example.org' }),
      expected: {
        event: 'login', identity: null, authMethod: 'session', decision: 'deny', reason: 'email-unverified',
        detail: { provider: 'oidc', username: 'alice@example.org', issuer: 'https://idp/', subject: 'm1' },
      },
    },
    {
      name: 'login refused: a name bound to another account, naming both',
      note: loginIdentityRefused('username-bound-to-another-subject', 'oidc', { issuer: 'https://idp/', subject: 'm1', username: 'alice', boundTo: { issuer: 'https://idp/', subject: 'a1' } }),
      expected: {
        event: 'login', identity: null, authMethod: 'session', decision: 'deny', reason: 'username-bound-to-another-subject',
        detail: { provider: 'oidc', username: 'alice', issuer: 'https://idp/', subject: 'm1', boundTo: { issuer: 'https://idp/', subject: 'a1' } },
      },
    },
    {
      name: 'login refused: a username unfit to print is left out',
      note: loginIdentityRefused('username-invalid', 'oidc', { issuer: 'https://idp/', subject: 'e1' }),
      expected: { event: 'login', identity: null, authMethod: 'session', decision: 'deny', reason: 'username-invalid', detail: { provider: 'oidc', issuer: 'https://idp/', subject: 'e1' } },
    },
    {
      name: 'logout',
      note: loggedOut(SESSION),
      expected: { event: 'logout', identity: 'alice', authMethod: 'session', decision: 'allow', reason: 'logout', detail: { provider: 'oidc' } },
    },
    {
      name: 'key created on the page',
      note: keyCreated('alice', 'session', RECORD),
      expected: {
        event: 'key-create',
        identity: 'alice',
        authMethod: 'session',
        decision: 'allow',
        reason: 'apikey-created',
        detail: { keyId: RECORD.id, label: 'laptop', scopes: ['team/**'], expiresAt: '2026-07-01T00:00:00.000Z', parentId: null },
      },
    },
    {
      name: 'key created with a key: names it as the parent',
      note: keyCreated('alice', 'apikey', { ...RECORD, parentId: PARENT }),
      expected: {
        event: 'key-create',
        identity: 'alice',
        authMethod: 'apikey',
        decision: 'allow',
        reason: 'apikey-created',
        detail: { keyId: RECORD.id, label: 'laptop', scopes: ['team/**'], expiresAt: '2026-07-01T00:00:00.000Z', parentId: PARENT },
      },
    },
    {
      name: 'key revoked on the page',
      note: keyRevoked('alice', 'session', RECORD.id),
      expected: { event: 'key-revoke', identity: 'alice', authMethod: 'session', decision: 'allow', reason: 'apikey-revoked', detail: { keyId: RECORD.id, descendants: [] } },
    },
    {
      name: 'key revoked with the keys it minted',
      note: keyRevoked('alice', 'apikey', PARENT, [RECORD.id]),
      expected: { event: 'key-revoke', identity: 'alice', authMethod: 'apikey', decision: 'allow', reason: 'apikey-revoked', detail: { keyId: PARENT, descendants: [RECORD.id] } },
    },
  ])('$name', ({ note, expected }) => {
    expect(note).toEqual(expected);
    expect(JSON.stringify(note)).not.toContain(RECORD.hash);
  });
});
