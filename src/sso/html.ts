/**
 * Server-rendered HTML for the gate's own pages: escaping, one calm layout,
 * readable without JavaScript (no front-end framework), and the one function
 * that sends a page with its security headers.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values. */
export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6677; --line: #d9dee6; --bg: #f7f8fa; --card: #fff; --accent: #2456c7; --danger: #b42318; --ok: #1f7a4d; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa4b5; --line: #2c3340; --bg: #12161d; --card: #1a1f29; --accent: #7aa2ff; --danger: #ff8a80; --ok: #6fd3a0; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 920px; margin: 0 auto; padding: 32px 20px 64px; }
header.top { display: flex; flex-wrap: wrap; gap: 12px 24px; justify-content: space-between; align-items: center; margin-bottom: 24px; }
h1 { font-size: 22px; margin: 0; font-weight: 600; }
h2 { font-size: 16px; margin: 0 0 12px; font-weight: 600; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px; margin-bottom: 20px; }
.muted { color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 13px; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.chip { display: inline-block; padding: 1px 8px; margin: 0 4px 4px 0; border-radius: 999px; border: 1px solid var(--line); font-size: 13px; }
.yes { color: var(--ok); } .no { color: var(--muted); }
form.inline { display: inline; margin: 0; }
label { display: block; font-size: 13px; color: var(--muted); margin-bottom: 4px; }
input, select { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
.row { display: flex; gap: 12px; flex-wrap: wrap; align-items: flex-end; }
button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.quiet { background: transparent; color: var(--accent); }
button.danger { background: transparent; border-color: var(--danger); color: var(--danger); }
.notice { border-left: 4px solid var(--ok); padding: 8px 12px; margin-bottom: 12px; }
.warn { border-left: 4px solid var(--danger); padding: 8px 12px; }
a { color: var(--accent); }
.brand { margin: 0 0 2px; font-size: 13px; color: var(--muted); letter-spacing: .02em; }
.who { display: flex; align-items: center; gap: 10px; }
.small { font-size: 13px; }
p.small { margin: -4px 0 14px; }
h3 { font-size: 15px; margin: 24px 0 10px; font-weight: 600; }
.facts { display: grid; grid-template-columns: 96px 1fr; gap: 8px 16px; margin: 0 0 14px; }
.facts dt { color: var(--muted); font-size: 13px; padding-top: 2px; }
.facts dd { margin: 0; }
.chips .chip { margin-bottom: 0; }
.act { text-align: center; width: 64px; }
td.act.yes { font-weight: 600; }
td.end { text-align: right; white-space: nowrap; }
table.keys td { vertical-align: middle; }
td.label { font-weight: 500; min-width: 10em; overflow-wrap: anywhere; }
code.scope { display: inline-block; padding: 0 6px; border-radius: 4px; background: var(--bg); border: 1px solid var(--line); }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px; color: var(--danger); border: 1px solid var(--danger); }
section.created { border-left: 4px solid var(--ok); }
section.created pre { margin: 0 0 10px; }
pre.secret { font-size: 15px; user-select: all; }
pre.copy { user-select: all; }
.problem { color: var(--danger); margin: 0 0 10px; }
.field { display: flex; flex-direction: column; min-width: 0; }
.field.grow { flex: 1 1 200px; }
.field input { width: 100%; }
.field input, .field select, .field button { height: 36px; }
section > :first-child { margin-top: 0; }
section > :last-child, section.created pre:last-child { margin-bottom: 0; }
.scroll { overflow-x: auto; }
td.when { white-space: nowrap; }
tr.new td { background: color-mix(in srgb, var(--ok) 8%, transparent); }
form.create { margin: 0; }
button.small { padding: 3px 10px; font-size: 13px; }
a.button { display: inline-block; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; text-decoration: none; }
a.button.quiet { background: transparent; color: var(--accent); }
`;

/** CSP source for the stylesheet above, the only thing a page loads: no script, image, font or frame. */
const STYLE_SOURCE = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * The headers of every page the gate renders (account, sign-in and error
 * pages). The CSP allows the one inline stylesheet by its hash and forms
 * that post to this origin, and forbids framing (the account page's buttons
 * revoke keys: clickjacking). `Referrer-Policy: same-origin`, not
 * `no-referrer`: under `no-referrer` a browser sends `Origin: null` on a
 * form POST (Fetch, "append a request Origin header") and the account
 * forms' origin check would refuse the user's own posts. Pages show who is
 * signed in and, once, a new key: never stored by any cache.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': `default-src 'none'; style-src ${STYLE_SOURCE}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
});

/** Sends a page with {@link PAGE_HEADERS}: every HTML response of the gate leaves through here. */
export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(html);
}

/** A whole page. `body` must already be escaped. */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · zot-gate</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}

/** A short page that says one thing, for errors and notices. */
export function messagePage(title: string, text: string, link?: { href: string; label: string }): string {
  const action = link ? `<p><a href="${esc(link.href)}">${esc(link.label)}</a></p>` : '';
  return layout(title, `<header class="top"><h1>${esc(title)}</h1></header><section><p>${esc(text)}</p>${action}</section>`);
}
