/** What the demo prints once everything runs: where things are, who can sign in, and what to try. */
import { DEMO_USERS } from './idp.js';
import { IMAGE_TAGS } from './image.js';
import { CI_GROUPS, CI_USER } from './gate.js';

export interface BannerFacts {
  readonly workDir: string;
  readonly gate: { readonly url: string; readonly configFile: string; readonly logFile: string };
  readonly idp: { readonly issuer: string; readonly pid: number };
  /** `pid` null: a registry the user runs (ZOT_GATE_DEMO_UPSTREAM) */
  readonly registry: { readonly url: string; readonly pid: number | null };
  readonly key: string;
  readonly imageDir: string;
}

/** The repository the printed lines push to. */
export const DEMO_REPOSITORY = 'demo/app';

export function banner(facts: BannerFacts): string {
  const host = new URL(facts.gate.url).host;
  const target = `docker://${host}/${DEMO_REPOSITORY}:${IMAGE_TAGS.first}`;
  const push = (tag: string) =>
    `skopeo copy --dest-tls-verify=false --dest-creds ${CI_USER}:${facts.key} oci:${facts.imageDir}:${tag} ${target}`;
  const registry = facts.registry.pid === null ? 'yours (ZOT_GATE_DEMO_UPSTREAM)' : `distribution (docker-registry), pid ${facts.registry.pid}`;
  const users = Object.entries(DEMO_USERS).map(([login, user]) => `  ${login.padEnd(6)} groups ${user.groups.join(',').padEnd(19)} any password`);
  return [
    `zot-gate demo: everything runs. Work dir (removed when the demo stops): ${facts.workDir}`,
    '',
    `  gate      ${facts.gate.url}   config ${facts.gate.configFile}, log ${facts.gate.logFile}`,
    `  IdP       ${facts.idp.issuer}   oidc-provider with its development login form, pid ${facts.idp.pid}`,
    `  registry  ${facts.registry.url}   ${registry}`,
    '',
    `Sign in with a browser at ${facts.gate.url}/-/account as`,
    ...users,
    '',
    `API key for ${CI_USER} (groups ${CI_GROUPS.join(',')}): ${facts.key}`,
    '',
    `Push with it (${CI_GROUPS.join(',')} may create new tags):`,
    `  ${push(IMAGE_TAGS.first)}`,
    '',
    'Read it back with no credentials (anyone may read):',
    `  skopeo inspect --tls-verify=false ${target}`,
    '',
    `Push another image to ${IMAGE_TAGS.first} (refused: v* tags are immutable, even for admins):`,
    `  ${push(IMAGE_TAGS.second)}`,
    '',
    'Ctrl-C stops the gate, the IdP and the registry, and removes the work dir.',
    '',
  ].join('\n');
}
