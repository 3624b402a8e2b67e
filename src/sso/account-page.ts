/**
 * The account page as data → HTML: who you are, what you may do on which
 * repositories, your API keys, and the forms to create and revoke them and
 * to log out. Pure: no request, no clock (the time comes in the view).
 * Every user-controlled string goes through `esc`; a key's secret appears
 * only in the one-time `created` notice, never its hash.
 */
import { formatDuration, parseDuration } from '../policy/duration.js';
import type { ApiKeyRecord } from '../identity/types.js';
import type { Capability } from '../policy/capabilities.js';
import type { Action } from '../policy/types.js';
import { esc, layout } from './html.js';

/** One option of the expiry select: a config duration (`30d`) or `never`. */
export interface ExpiryChoice {
  readonly value: string;
  readonly label: string;
}

/** The create form as typed, kept when a create is refused. */
export interface NewKeyForm {
  readonly label: string;
  readonly expires: string;
  readonly scopes: string;
}

export interface AccountView {
  readonly user: string;
  readonly groups: readonly string[];
  readonly admin: boolean;
  /** the IdP's display name */
  readonly provider: string;
  readonly sessionExpiresAt: Date;
  readonly capabilities: readonly Capability[];
  /** the user's keys, oldest first */
  readonly keys: readonly ApiKeyRecord[];
  /** the session's token, echoed by every form */
  readonly csrf: string;
  /** the registry's `host[:port]`, for the login lines */
  readonly host: string;
  readonly expiryChoices: readonly ExpiryChoice[];
  readonly now: Date;
  /** a key made by this very request: its one and only showing */
  readonly created?: { readonly key: string; readonly record: ApiKeyRecord };
  /** why the create form was refused, with what was typed */
  readonly refused?: { readonly problem: string; readonly form: NewKeyForm };
}

const ACTIONS: readonly Action[] = ['read', 'create', 'update', 'delete'];
const DAY_MS = 86_400_000;
const UNIT_LABEL = { s: 'second', m: 'minute', h: 'hour', d: 'day' } as const;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS } as const;
const STANDARD_EXPIRIES = ['7d', '30d', '90d', '365d'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The expiries the create form offers: 7, 30, 90 and 365 days as far as
 * `auth.apikey.maxLifetime` allows, the limit itself when it is not one of
 * them, and `never` only when there is no limit.
 */
export function expiryChoices(maxLifetimeMs: number | null): ExpiryChoice[] {
  const values = STANDARD_EXPIRIES.filter((value) => maxLifetimeMs === null || (parseDuration(value) ?? 0) <= maxLifetimeMs);
  if (maxLifetimeMs !== null && !values.some((value) => parseDuration(value) === maxLifetimeMs)) values.push(formatDuration(maxLifetimeMs));
  const choices = values.map((value) => ({ value, label: durationLabel(value) }));
  return maxLifetimeMs === null ? [...choices, { value: 'never', label: 'Never' }] : choices;
}

/** The whole page. */
export function accountPage(view: AccountView): string {
  return layout(
    'Your account',
    [header(view), view.created ? createdNotice(view, view.created) : '', identity(view), permissions(view), apiKeys(view)].join('\n'),
  );
}

/** After logout: where to sign in again, and the IdP's own sign-out when it has one. */
export function signedOutPage(links: { readonly signIn: string; readonly endSession?: string; readonly provider: string }): string {
  const idp = links.endSession === undefined
    ? ''
    : `<p class="muted">You may still be signed in at ${esc(links.provider)}, so the next sign-in may not ask for your password.</p>
<p><a class="button quiet" href="${esc(links.endSession)}">Sign out of ${esc(links.provider)} too</a></p>`;
  return layout(
    'Signed out',
    `<header class="top"><div><p class="brand">zot-gate</p><h1>You are signed out</h1></div></header>
<section><p>Your session on this registry has ended. API keys you created keep working until they expire or you revoke them.</p>
<p><a class="button" href="${esc(links.signIn)}">Sign in again</a></p>${idp}</section>`,
  );
}

function header(view: AccountView): string {
  return `<header class="top">
<div><p class="brand">zot-gate · ${esc(view.host)}</p><h1>Your account</h1></div>
<div class="who"><span><span class="muted">Signed in as</span> <strong>${esc(view.user)}</strong></span>
${postForm('/-/account/logout', view.csrf, '', '<button class="quiet" type="submit">Log out</button>')}</div>
</header>`;
}

function createdNotice(view: AccountView, created: { readonly key: string; readonly record: ApiKeyRecord }): string {
  const user = shellWord(view.user);
  const host = shellWord(view.host);
  return `<section class="created" aria-live="polite">
<h2>Your new API key “${esc(created.record.label)}”</h2>
<p>Copy it now. It is shown only this once: the registry keeps a hash of it, not the key.</p>
<pre class="secret" data-key><code>${esc(created.key)}</code></pre>
<p class="muted">Log in with it from a terminal:</p>
<pre class="copy"><code>${esc(`skopeo login ${host} -u ${user} -p ${created.key}`)}</code></pre>
<pre class="copy"><code>${esc(`echo ${created.key} | docker login ${host} -u ${user} --password-stdin`)}</code></pre>
</section>`;
}

function identity(view: AccountView): string {
  const groups = view.groups.length === 0 ? '<span class="muted">none</span>' : view.groups.map((g) => `<span class="chip">${esc(g)}</span>`).join('');
  const role = view.admin ? '<dt>Role</dt><dd>Administrator <span class="muted">(adminPolicy)</span></dd>' : '';
  return `<section>
<h2>Who you are</h2>
<dl class="facts">
<dt>User</dt><dd><strong>${esc(view.user)}</strong></dd>
<dt>Groups</dt><dd class="chips">${groups}</dd>${role}
<dt>Session</dt><dd>signed in through ${esc(view.provider)}, until ${esc(dateTime(view.sessionExpiresAt))}</dd>
</dl>
<p class="muted small">Groups come from your latest sign-in; your API keys carry them too.</p>
</section>`;
}

function permissions(view: AccountView): string {
  if (view.capabilities.length === 0) return `<section><h2>What you may do</h2><p class="muted">No repository patterns are configured.</p></section>`;
  const head = ACTIONS.map((action) => `<th class="act">${action}</th>`).join('');
  const rows = view.capabilities.map((c) => {
    const cells = ACTIONS.map((action) =>
      c.actions.includes(action) ? `<td class="act yes" title="${action}: granted">✓</td>` : `<td class="act no" title="${action}: not granted">–</td>`,
    ).join('');
    const pattern = c.pattern === '' ? '<span class="muted">any other repository</span>' : `<code>${esc(c.pattern)}</code>`;
    const via = c.actions.length === 0 ? `<span class="muted">${esc(c.via)}</span>` : esc(c.via);
    return `<tr><td>${pattern}</td>${cells}<td>${via}</td></tr>`;
  });
  return `<section>
<h2>What you may do</h2>
<p class="muted small">For each repository pattern in the registry's access rules; the longest pattern that matches a repository decides.</p>
<div class="scroll"><table class="perms"><thead><tr><th>Repositories</th>${head}<th>Granted by</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>
</section>`;
}

function apiKeys(view: AccountView): string {
  const list = view.keys.length === 0
    ? '<p class="muted">You have no API keys yet.</p>'
    : `<div class="scroll"><table class="keys"><thead><tr><th>Label</th><th>Repositories</th><th>Created</th><th>Expires</th><th>Last used</th><th></th></tr></thead>
<tbody>${view.keys.map((record) => keyRow(view, record)).join('\n')}</tbody></table></div>`;
  return `<section>
<h2>API keys</h2>
<p class="muted small">Use a key as the password, with <code>${esc(view.user)}</code> as the user name, for docker, skopeo, crane or CI.</p>
${list}
${createForm(view)}
</section>`;
}

function keyRow(view: AccountView, record: ApiKeyRecord): string {
  const scopes = record.scopes.length === 0 ? '<span class="muted">all you may access</span>' : record.scopes.map((s) => `<code class="scope">${esc(s)}</code>`).join(' ');
  const revoke = postForm('/-/account/keys/revoke', view.csrf, `<input type="hidden" name="id" value="${esc(record.id)}">`,
    `<button class="danger small" type="submit" aria-label="Revoke ${esc(record.label)}">Revoke</button>`);
  const fresh = view.created?.record.id === record.id ? ' class="new"' : '';
  return `<tr${fresh} data-key-id="${esc(record.id)}"><td class="label">${record.label === '' ? '<span class="muted">(no label)</span>' : esc(record.label)}</td>
<td>${scopes}</td><td class="when">${esc(date(new Date(record.createdAt)))}</td><td class="when">${expires(record.expiresAt, view.now)}</td>
<td class="when">${record.lastUsedAt === null ? '<span class="muted">never</span>' : esc(dateTime(new Date(record.lastUsedAt)))}</td><td class="end">${revoke}</td></tr>`;
}

function createForm(view: AccountView): string {
  const form = view.refused?.form ?? { label: '', expires: view.expiryChoices.some((c) => c.value === '30d') ? '30d' : (view.expiryChoices.at(-1)?.value ?? ''), scopes: '' };
  const options = view.expiryChoices
    .map((c) => `<option value="${esc(c.value)}"${c.value === form.expires ? ' selected' : ''}>${esc(c.label)}</option>`)
    .join('');
  const problem = view.refused ? `<p class="problem" role="alert">${esc(view.refused.problem)}</p>` : '';
  return `<h3>Create an API key</h3>${problem}
${postForm('/-/account/keys', view.csrf, `<div class="row">
<div class="field grow"><label for="key-label">Label</label><input id="key-label" name="label" required maxlength="100" placeholder="e.g. laptop, forgejo-ci" value="${esc(form.label)}"></div>
<div class="field"><label for="key-expires">Expires after</label><select id="key-expires" name="expires">${options}</select></div>
<div class="field grow"><label for="key-scopes">Only these repositories <span class="muted">(optional)</span></label><input id="key-scopes" name="scopes" placeholder="e.g. team/**, tools/*" value="${esc(form.scopes)}"></div>
<div class="field"><button type="submit">Create key</button></div>
</div>`, '', 'create')}`;
}

function postForm(action: string, csrf: string, fields: string, submit: string, className = 'inline'): string {
  return `<form class="${className}" method="post" action="${action}"><input type="hidden" name="csrf" value="${esc(csrf)}">${fields}${submit}</form>`;
}

function expires(expiresAt: string | null, now: Date): string {
  if (expiresAt === null) return '<span class="muted">never</span>';
  const at = new Date(expiresAt);
  const left = at.getTime() - now.getTime();
  if (left <= 0) return `${esc(date(at))} <span class="tag">expired</span>`;
  return `${esc(date(at))} <span class="muted small">in ${esc(roughly(left))}</span>`;
}

/** `30 days`, `5 hours`, `1 minute`: the largest unit that fits, rounded (a 30-day key read a second later is still "30 days"). */
function roughly(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms < UNIT_MS[unit]) continue;
    const n = Math.round(ms / UNIT_MS[unit]);
    return `${n} ${UNIT_LABEL[unit]}${n === 1 ? '' : 's'}`;
  }
  return 'less than a minute';
}

/** `22 Nov 2026`, in UTC so the page reads the same everywhere. */
function date(at: Date): string {
  return `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}`;
}

/** `22 Nov 2026, 05:01 UTC` */
function dateTime(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date(at)}, ${two(at.getUTCHours())}:${two(at.getUTCMinutes())} UTC`;
}

function durationLabel(value: string): string {
  const n = Number(value.slice(0, -1));
  const unit = UNIT_LABEL[value.slice(-1) as keyof typeof UNIT_LABEL];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** A word a POSIX shell reads back unchanged: quoted when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
