/**
 * `zot-gate user list|release`: the users the gate knows (the groups their
 * keys carry, and the IdP account each name is bound to), and the operator's
 * way to unbind a name from its IdP account. A name is bound at its first
 * SSO login and a login from any other account is refused; when the account
 * was re-created at the IdP (a new `sub`), or the issuer's URL changed, the
 * operator releases the name and the next login binds it again. A service
 * account (`apikey create --groups`) is bound to the local subject, shown as
 * such; releasing it lets the next SSO login with its name bind it.
 */
import { ApiKeyStore, keyStorePath } from '../identity/apikey-store.js';
import type { UserRecord } from '../identity/types.js';
import { GateError } from '../errors.js';
import { isLocalSubject } from '../policy/subject-binding.js';
import { auditCli } from './apikey.js';
import { printable, terminalJson } from './terminal-text.js';
import { configFrom, parse, required, UsageError } from './usage.js';

type Out = (line: string) => void;

export async function userCommand(args: string[], out: Out): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listUsers(rest, out);
  if (sub === 'release') return release(rest, out);
  throw new UsageError(`user: unknown subcommand ${JSON.stringify(sub ?? '')} (list, release)`);
}

async function listUsers(args: string[], out: Out): Promise<number> {
  const values = parse(args, { json: { type: 'boolean' } });
  const store = await ApiKeyStore.open(keyStorePath(configFrom(values)));
  const users = await store.users();
  if (values.json === true) {
    out(terminalJson({ users: users.map(jsonOf) }));
    return 0;
  }
  // ISSUER, SUBJECT, BOUND: the IdP account the name belongs to, and since when ("-": bound to nobody yet)
  out(['NAME', 'GROUPS', 'ISSUER', 'SUBJECT', 'BOUND'].join('\t'));
  for (const user of users) {
    const { boundTo } = user;
    const issuer = boundTo === undefined ? '-' : isLocalSubject(boundTo) ? SERVICE_ACCOUNT : boundTo.issuer;
    const fields = [user.name, user.groups.join(',') || '-', issuer, boundTo?.subject ?? '-', boundTo?.boundAt ?? '-'];
    out(fields.map(printable).join('\t'));
  }
  return 0;
}

/** What `user list` shows as the issuer of a service account's binding. */
const SERVICE_ACCOUNT = 'local (service account)';

function jsonOf(user: UserRecord) {
  const serviceAccount = user.boundTo !== undefined && isLocalSubject(user.boundTo);
  return { name: user.name, groups: user.groups, updatedAt: user.updatedAt, boundTo: user.boundTo ?? null, serviceAccount };
}

/** Unbinds the name; its groups and keys stay. Exit 1 when it was bound to nobody (a typo, say). */
async function release(args: string[], out: Out): Promise<number> {
  const values = parse(args, { user: { type: 'string' } });
  const name = required(values.user, 'user');
  const config = configFrom(values);
  const store = await ApiKeyStore.open(keyStorePath(config));
  const released = await store.releaseBinding(name);
  if (released === null) throw new GateError('USER_NOT_BOUND', `${printable(name)} is not bound to any IdP account`, { status: 404 });
  await auditCli(config, 'user-release', name, { issuer: released.issuer, subject: released.subject, boundAt: released.boundAt });
  out(
    isLocalSubject(released)
      ? `released ${printable(name)}, a service account: the next sign-in with the name binds it`
      : `released ${printable(name)} from subject ${printable(released.subject)} of ${printable(released.issuer)}`,
  );
  return 0;
}
