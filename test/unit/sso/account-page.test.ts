import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../../../src/identity/types.js';
import { accountPage, expiryChoices, signedOutPage, type AccountView } from '../../../src/sso/account-page.js';
import { readNewKey } from '../../../src/sso/account-routes.js';

const NOW = new Date('2026-11-22T05:00:00Z');
const DAY = 86_400_000;
const KEY = `zak_${'0123456789abcdef'.repeat(2)}`;
const HASH = 'f0'.repeat(32);
const CSRF = 'csrf-token-123';

function record(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: '11111111-2222-3333-4444-555555555555',
    hash: HASH,
    owner: 'alice',
    label: 'laptop',
    createdAt: '2026-11-01T10:00:00.000Z',
    expiresAt: '2026-12-01T10:00:00.000Z',
    lastUsedAt: null,
    scopes: [],
    ...overrides,
  };
}

function view(overrides: Partial<AccountView> = {}): AccountView {
  return {
    user: 'alice',
    groups: ['admins'],
    admin: true,
    provider: 'Authentik',
    sessionExpiresAt: new Date('2026-11-22T07:00:00Z'),
    capabilities: [
      { pattern: '**', actions: ['read', 'create'], via: 'group artifact-workloads' },
      { pattern: '', actions: [], via: 'not granted' },
    ],
    keys: [record()],
    csrf: CSRF,
    host: 'registry.example.org',
    expiryChoices: expiryChoices(90 * DAY),
    now: NOW,
    ...overrides,
  };
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe('accountPage escapes what users and the IdP control', () => {
  const hostile = '<script>alert(1)</script>';
  const attr = '"><img src=x onerror=alert(1)>';
  it.each<[string, Partial<AccountView>, string]>([
    ['a key label', { keys: [record({ label: hostile })] }, '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['a key label in the revoke button', { keys: [record({ label: attr })] }, 'aria-label="Revoke &quot;&gt;&lt;img src=x onerror=alert(1)&gt;"'],
    ['a group name', { groups: [attr] }, '<span class="chip">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</span>'],
    ['a scope', { keys: [record({ scopes: [hostile] })] }, '<code class="scope">&lt;script&gt;alert(1)&lt;/script&gt;</code>'],
    ['the user name', { user: `o'neil <co>` }, '<strong>o&#39;neil &lt;co&gt;</strong>'],
    ['the IdP name', { provider: hostile }, 'signed in through &lt;script&gt;'],
    ['a pattern', { capabilities: [{ pattern: '<b>/**', actions: ['read'], via: 'admin' }] }, '<code>&lt;b&gt;/**</code>'],
    ['a key id', { keys: [record({ id: attr })] }, 'name="id" value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"'],
    ['a typed label kept after a refusal', { refused: { problem: hostile, form: { label: attr, expires: '7d', scopes: '' } } }, 'name="label" required maxlength="100" placeholder="e.g. laptop, forgejo-ci" value="&quot;&gt;&lt;img'],
    ['a refusal problem', { refused: { problem: hostile, form: { label: '', expires: '7d', scopes: '' } } }, '<p class="problem" role="alert">&lt;script&gt;alert(1)&lt;/script&gt;</p>'],
  ])('%s', (_name, overrides, escaped) => {
    const html = accountPage(view(overrides));
    expect(html).toContain(escaped);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
  });
});

describe('accountPage and secrets', () => {
  it('shows a new key once, in the notice and its two login lines, and never a hash', () => {
    const created = record({ id: 'new-id', label: 'ci push' });
    const html = accountPage(view({ keys: [record(), created], created: { key: KEY, record: created } }));
    expect(count(html, KEY)).toBe(3);
    expect(html).toContain(`<pre class="secret" data-key><code>${KEY}</code></pre>`);
    expect(html).toContain(`<pre class="copy"><code>skopeo login registry.example.org -u alice -p ${KEY}</code></pre>`);
    expect(html).toContain(`<pre class="copy"><code>echo ${KEY} | docker login registry.example.org -u alice --password-stdin</code></pre>`);
    expect(html).toContain('<tr class="new" data-key-id="new-id">');
    expect(html).not.toContain(HASH);
  });

  it('the list alone holds neither key nor hash', () => {
    const html = accountPage(view({ keys: [record(), record({ id: 'b', label: 'ci', hash: 'a1'.repeat(32) })] }));
    expect(html).not.toContain('zak_');
    expect(html).not.toContain(HASH);
    expect(html).not.toContain('a1'.repeat(32));
  });

  it.each([
    ["o'neil", "skopeo login registry.example.org -u &#39;o&#39;\\&#39;&#39;neil&#39; -p"],
    ['alice@example.org', 'skopeo login registry.example.org -u alice@example.org -p'],
    ['a b;rm', 'skopeo login registry.example.org -u &#39;a b;rm&#39; -p'],
  ])('quotes the user %s for the shell in the login lines', (user, line) => {
    const created = record();
    expect(accountPage(view({ user, created: { key: KEY, record: created } }))).toContain(line);
  });

  it('every form echoes the CSRF token: log out, create, and one revoke per key', () => {
    const html = accountPage(view({ keys: [record(), record({ id: 'b' })] }));
    expect(count(html, '<form ')).toBe(4);
    expect(count(html, `<input type="hidden" name="csrf" value="${CSRF}">`)).toBe(4);
    expect(count(html, 'method="post"')).toBe(4);
  });
});

describe('accountPage content', () => {
  it.each<[string, Partial<ApiKeyRecord>, string]>([
    ['an expiry ahead', {}, '<td class="when">1 Dec 2026 <span class="muted small">in 9 days</span></td>'],
    ['an expired key', { expiresAt: '2026-11-20T00:00:00.000Z' }, '<td class="when">20 Nov 2026 <span class="tag">expired</span></td>'],
    ['no expiry', { expiresAt: null }, '<td class="when"><span class="muted">never</span></td>'],
    ['a last use', { lastUsedAt: '2026-11-21T08:05:00.000Z' }, '<td class="when">21 Nov 2026, 08:05 UTC</td>'],
    ['no scopes', {}, '<span class="muted">all you may access</span>'],
    ['scopes', { scopes: ['team/**', 'tools/*'] }, '<code class="scope">team/**</code> <code class="scope">tools/*</code>'],
  ])('a key with %s', (_name, overrides, cell) => {
    expect(accountPage(view({ keys: [record(overrides)] }))).toContain(cell);
  });

  it('renders the permissions table from the capabilities', () => {
    const html = accountPage(view());
    expect(html).toContain(
      '<tr><td><code>**</code></td><td class="act yes" title="read: granted">✓</td><td class="act yes" title="create: granted">✓</td>' +
        '<td class="act no" title="update: not granted">–</td><td class="act no" title="delete: not granted">–</td><td>group artifact-workloads</td></tr>',
    );
    expect(html).toContain('<td><span class="muted">any other repository</span></td>');
    expect(html).toContain('<td><span class="muted">not granted</span></td>');
  });

  it.each<[string, Partial<AccountView>, string]>([
    ['no keys', { keys: [] }, '<p class="muted">You have no API keys yet.</p>'],
    ['no groups', { groups: [] }, '<dd class="chips"><span class="muted">none</span></dd>'],
    ['a non-admin', { admin: false }, '<dt>Groups</dt><dd class="chips"><span class="chip">admins</span></dd>\n<dt>Session</dt>'],
    ['an admin', {}, '<dt>Role</dt><dd>Administrator <span class="muted">(adminPolicy)</span></dd>'],
    ['the 30-day default expiry', {}, '<option value="30d" selected>30 days</option>'],
    ['the expiry typed before a refusal', { refused: { problem: 'x', form: { label: 'a', expires: '7d', scopes: 't/*' } } }, '<option value="7d" selected>7 days</option>'],
    ['scopes typed before a refusal', { refused: { problem: 'x', form: { label: 'a', expires: '7d', scopes: 't/*' } } }, 'name="scopes" placeholder="e.g. team/**, tools/*" value="t/*"'],
  ])('%s', (_name, overrides, part) => {
    expect(accountPage(view(overrides))).toContain(part);
  });
});

describe('expiryChoices', () => {
  it.each<[string, number | null, string[]]>([
    ['no limit: the standard four and never', null, ['7d', '30d', '90d', '365d', 'never']],
    ['90d', 90 * DAY, ['7d', '30d', '90d']],
    ['45d: the limit itself is offered', 45 * DAY, ['7d', '30d', '45d']],
    ['400d', 400 * DAY, ['7d', '30d', '90d', '365d', '400d']],
    ['12h', 12 * 3_600_000, ['12h']],
    ['90s', 90_000, ['90s']],
  ])('%s', (_name, max, values) => {
    expect(expiryChoices(max).map((c) => c.value)).toEqual(values);
  });

  it('labels them in words', () => {
    expect(expiryChoices(null).map((c) => c.label)).toEqual(['7 days', '30 days', '90 days', '365 days', 'Never']);
    expect(expiryChoices(3_600_000).map((c) => c.label)).toEqual(['1 hour']);
  });
});

describe('signedOutPage', () => {
  it('links to sign in again and to the IdP sign-out, escaped', () => {
    const html = signedOutPage({ signIn: '/-/account', provider: 'Authentik', endSession: 'https://idp.example/end?client_id=a&x="y"' });
    expect(html).toContain('<a class="button" href="/-/account">Sign in again</a>');
    expect(html).toContain('<a class="button quiet" href="https://idp.example/end?client_id=a&amp;x=&quot;y&quot;">Sign out of Authentik too</a>');
  });

  it('offers no IdP link when the IdP has no end-session endpoint', () => {
    expect(signedOutPage({ signIn: '/-/account', provider: 'Authentik' })).not.toContain('Sign out of');
  });
});

describe('readNewKey (the create form)', () => {
  const max = 90 * DAY;
  it.each<[string, { label: string; expires: string; scopes: string }, number | null, ReturnType<typeof readNewKey>]>([
    ['a plain key', { label: ' ci ', expires: '30d', scopes: '' }, max, { label: 'ci', expiresAt: new Date(NOW.getTime() + 30 * DAY), scopes: [] }],
    ['scopes, trimmed and de-duplicated', { label: 'ci', expires: '7d', scopes: ' team/** , tools/*,,team/**' }, max, { label: 'ci', expiresAt: new Date(NOW.getTime() + 7 * DAY), scopes: ['team/**', 'tools/*'] }],
    ['never, without a limit', { label: 'ci', expires: 'never', scopes: '' }, null, { label: 'ci', expiresAt: null, scopes: [] }],
    ['exactly the limit', { label: 'ci', expires: '90d', scopes: '' }, max, { label: 'ci', expiresAt: new Date(NOW.getTime() + max), scopes: [] }],
    ['100 characters', { label: 'x'.repeat(100), expires: '7d', scopes: '' }, max, { label: 'x'.repeat(100), expiresAt: new Date(NOW.getTime() + 7 * DAY), scopes: [] }],
    ['an empty label', { label: ' ', expires: '7d', scopes: '' }, max, 'Label: give the key a name of 1 to 100 characters.'],
    ['101 characters', { label: 'x'.repeat(101), expires: '7d', scopes: '' }, max, 'Label: give the key a name of 1 to 100 characters.'],
    ['a control character', { label: 'a\u001b[31mb', expires: '7d', scopes: '' }, max, 'Label: control characters are not allowed.'],
    ['never, under a limit', { label: 'ci', expires: 'never', scopes: '' }, max, 'Expires after: choose one of the offered lifetimes.'],
    ['beyond the limit', { label: 'ci', expires: '91d', scopes: '' }, max, 'Expires after: choose one of the offered lifetimes.'],
    ['no expiry given', { label: 'ci', expires: '', scopes: '' }, max, 'Expires after: choose one of the offered lifetimes.'],
    ['a zero expiry', { label: 'ci', expires: '0d', scopes: '' }, null, 'Expires after: choose one of the offered lifetimes.'],
    ['a bad glob', { label: 'ci', expires: '7d', scopes: 'ok/*, a/{b' }, max, 'Repositories: "a/{b" is not a valid pattern (unclosed "{").'],
    ['21 scopes', { label: 'ci', expires: '7d', scopes: Array.from({ length: 21 }, (_, i) => `r${i}`).join(',') }, max, 'Repositories: at most 20 patterns, not 21.'],
  ])('%s', (_name, form, limit, expected) => {
    expect(readNewKey(form, limit, NOW)).toEqual(expected);
  });
});
