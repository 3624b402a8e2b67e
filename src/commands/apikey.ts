/**
 * `zot-gate apikey create|list|revoke`: the operator's way to bootstrap and
 * rotate keys without a browser. Writes go to the same store file a running
 * gate reads, which picks changes up within a second or two.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { AuditLog } from '../observability/audit.js';
import { createLogger } from '../observability/logger.js';
import type { Config } from '../config/types.js';
import { GateError } from '../errors.js';
import { ApiKeyStore, keyStorePath } from '../identity/apikey-store.js';
import { toZotApiKey } from '../identity/zot-shape.js';
import { checkKeyLabel, checkKeyScopes, keyExpiry, lifetimeExpiry } from '../policy/api-key.js';
import { checkUsername } from '../policy/username.js';
import { printable, terminalJson } from './terminal-text.js';
import { configFrom, list, parse, required, UsageError } from './usage.js';

type Out = (line: string) => void;

export async function apikeyCommand(args: string[], out: Out): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') return create(rest, out);
  if (sub === 'list') return listKeys(rest, out);
  if (sub === 'revoke') return revoke(rest, out);
  throw new UsageError(`apikey: unknown subcommand ${JSON.stringify(sub ?? '')} (create, list, revoke)`);
}

const CLI_REASONS = { 'key-create': 'apikey-created', 'key-revoke': 'apikey-revoked', 'user-release': 'username-released' } as const;

/**
 * Key and user changes made at the command line are audit events too: appended to the
 * audit file (the CLI has no log stream of its own: stdout is the result),
 * naming the operator's OS account as the actor. A failed write is said on stderr.
 */
export async function auditCli(config: Config, event: 'key-create' | 'key-revoke' | 'user-release', owner: string, detail: Record<string, unknown>): Promise<void> {
  const audit = await AuditLog.open(config.audit.file);
  const log = createLogger('error');
  await audit.record(
    {
      time: new Date().toISOString(),
      event,
      identity: `cli:${userInfo().username}`,
      authMethod: 'cli',
      client: null,
      method: 'CLI',
      repository: null,
      reference: null,
      digest: null,
      decision: 'allow',
      reason: CLI_REASONS[event],
      status: 0,
      requestId: randomUUID(),
      detail: { owner, ...detail },
    },
    log,
  );
  await audit.close();
}

async function create(args: string[], out: Out): Promise<number> {
  const values = parse(args, {
    user: { type: 'string' },
    groups: { type: 'string' },
    label: { type: 'string' },
    expires: { type: 'string' },
    scope: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  const user = checkUsername(required(values.user, 'user'));
  if (!user.ok) throw new UsageError(`--user: ${user.problem}`);
  const owner = user.username;
  const label = checkKeyLabel(typeof values.label === 'string' ? values.label : 'cli');
  if (!label.ok) throw new UsageError(`--label: ${label.problem}`);
  const scopes = (values.scope as string[] | undefined) ?? [];
  const checkedScopes = checkKeyScopes(scopes);
  if (!checkedScopes.ok) {
    throw new UsageError(checkedScopes.reason === 'scope-count' ? `--scope: ${checkedScopes.problem}` : `--scope ${JSON.stringify(checkedScopes.scope)} ${checkedScopes.problem}`);
  }
  const config = configFrom(values);
  const now = new Date();
  const expiresAt = expiry(typeof values.expires === 'string' ? values.expires : undefined, config.auth.apikeyMaxLifetimeMs, now);
  const store = await ApiKeyStore.open(keyStorePath(config));
  const { key, record } = await store.create({
    owner,
    label: label.label,
    expiresAt,
    scopes,
    // groups the operator sets make a service account: no SSO login takes its name (`user release` lets one)
    ...(values.groups !== undefined ? { groups: list(values.groups), serviceAccount: true } : {}),
  });
  await auditCli(config, 'key-create', owner, { keyId: record.id, label: record.label, scopes: record.scopes, expiresAt: record.expiresAt });
  out(values.json === true ? terminalJson({ ...toZotApiKey(record, now, config.auth.apikeyMaxLifetimeMs), apiKey: key }) : key);
  return 0;
}

/** `--expires` bounded by `auth.apikey.maxLifetime`; without it, the maximum (or none). */
function expiry(text: string | undefined, maxMs: number | null, now: Date): Date | null {
  const lifetime = lifetimeExpiry(text ?? null, maxMs, now);
  if (lifetime.ok) return lifetime.expiresAt;
  // a malformed value is a usage error (exit 2); one the configuration forbids is refused (exit 1)
  if (lifetime.reason === 'expiration-malformed') throw new UsageError(`--expires ${lifetime.problem}`);
  throw new GateError('APIKEY_LIFETIME', `--expires ${lifetime.problem}`, { status: 400 });
}

async function listKeys(args: string[], out: Out): Promise<number> {
  const values = parse(args, { user: { type: 'string' }, json: { type: 'boolean' } });
  const config = configFrom(values);
  const store = await ApiKeyStore.open(keyStorePath(config));
  const records = await store.list(typeof values.user === 'string' ? values.user : undefined);
  const now = new Date();
  const max = config.auth.apikeyMaxLifetimeMs;
  if (values.json === true) {
    out(terminalJson({ apiKeys: records.map((r) => ({ ...toZotApiKey(r, now, max), owner: r.owner, parentId: r.parentId ?? null })) }));
    return 0;
  }
  // PARENT: the key that minted it ("-": a person or the operator did); revoking that key revokes this one
  out(['ID', 'OWNER', 'LABEL', 'CREATED', 'EXPIRES', 'LAST USED', 'SCOPES', 'PARENT'].join('\t'));
  for (const r of records) {
    const fields = [r.id, r.owner, r.label, r.createdAt, keyExpiry(r, max)?.toISOString() ?? 'never', r.lastUsedAt ?? 'never', r.scopes.join(',') || '*', r.parentId ?? '-'];
    out(fields.map(printable).join('\t'));
  }
  return 0;
}

async function revoke(args: string[], out: Out): Promise<number> {
  const values = parse(args, { id: { type: 'string' }, user: { type: 'string' }, all: { type: 'boolean' } });
  const byUser = values.all === true;
  if (byUser === (values.id !== undefined)) throw new UsageError('apikey revoke needs either --id UUID or --user U --all');
  const config = configFrom(values);
  const store = await ApiKeyStore.open(keyStorePath(config));
  if (byUser) {
    const owner = required(values.user, 'user');
    const count = await store.revokeAllForUser(owner);
    await auditCli(config, 'key-revoke', owner, { all: true, count });
    out(`revoked ${count} key(s) of ${printable(owner)}`);
    return 0;
  }
  const id = required(values.id, 'id');
  const owner = (await store.list()).find((record) => record.id === id)?.owner ?? null;
  // the key and every key it minted, transitively
  const revoked = owner === null ? [] : await store.revokeTree(id);
  if (owner === null || revoked.length === 0) throw new GateError('APIKEY_UNKNOWN', `no API key with id ${printable(id)}`, { status: 404 });
  const descendants = revoked.slice(1);
  await auditCli(config, 'key-revoke', owner, { keyId: id, descendants });
  out(descendants.length === 0 ? `revoked ${id}` : `revoked ${id} and ${descendants.length} key(s) it minted`);
  return 0;
}
