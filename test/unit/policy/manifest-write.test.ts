import { describe, expect, it } from 'vitest';
import { decideManifestDelete, decideManifestPush, decideManifestWrite, type TagHolding, type WriteVerdict } from '../../../src/policy/manifest-write.js';
import type { AccessControl, Decision, ImmutableTagRule, Principal } from '../../../src/policy/types.js';

const ac: AccessControl = {
  repositories: {
    '**': {
      policies: [
        { groups: ['creators'], actions: ['read', 'create'] },
        { groups: ['updaters'], actions: ['read', 'create', 'update'] },
        { groups: ['movers'], actions: ['read', 'update'] },
        { groups: ['deleters'], actions: ['read', 'delete'] },
      ],
    },
  },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
};

const RULES: readonly ImmutableTagRule[] = [
  { repositories: ['**'], tags: ['v*'], except: ['v*-rc*'] },
  { repositories: ['frozen/**'], tags: ['*'] },
  { repositories: ['signed/**'], tags: ['sha256-*'] },
];

const creator: Principal = { name: 'creator', groups: ['creators'] };
const updater: Principal = { name: 'updater', groups: ['updaters'] };
const mover: Principal = { name: 'mover', groups: ['movers'] };
const deleter: Principal = { name: 'deleter', groups: ['deleters'] };
const reader: Principal = { name: 'reader', groups: [] };
const admin: Principal = { name: 'root', groups: ['admins'] };
const scopedAdmin: Principal = { name: 'root', groups: ['admins'], scopes: ['app'] };

const BODY = `sha256:${'b'.repeat(64)}`;
const OTHER = `sha256:${'0'.repeat(64)}`;
const SIG = `sha256-${'a'.repeat(64)}`;

const absent: TagHolding = { kind: 'absent' };
const same: TagHolding = { kind: 'present', digest: BODY };
const other: TagHolding = { kind: 'present', digest: OTHER };

const grant = (group: string, index: number): Decision => ({
  allow: true,
  reason: 'group-policy',
  pattern: '**',
  rule: `repositories["**"].policies[${index}].groups: ${group}`,
});
const notGranted: Decision = { allow: false, reason: 'action-not-granted', pattern: '**' };
const byAdmin: Decision = { allow: true, reason: 'admin-policy', rule: 'adminPolicy.groups: admins' };
const immutable: Decision = { allow: false, reason: 'tag-immutable' };
const rule = (index: number) => ({ index, rule: RULES[index]! });

type Tags = ReadonlyArray<readonly [string, TagHolding]>;

describe('decideManifestWrite: per tag, create if new or identical, update if moved, never if immutable', () => {
  it.each<[string, Principal, string, Tags, WriteVerdict]>([
    // digest PUT without ?tag=
    ['digest PUT, no tags: create', creator, 'app', [], { allow: true, action: 'create', repository: 'app', decision: grant('creators', 0) }],
    ['digest PUT, no tags, without create', mover, 'app', [], { allow: false, action: 'create', repository: 'app', decision: notGranted }],
    // new tag
    ['new tag: create', creator, 'app', [['latest', absent]], { allow: true, action: 'create', repository: 'app', tag: 'latest', decision: grant('creators', 0) }],
    ['new tag, update alone is not create', mover, 'app', [['latest', absent]], { allow: false, action: 'create', repository: 'app', tag: 'latest', decision: notGranted }],
    ['new tag, read alone', reader, 'app', [['latest', absent]], { allow: false, action: 'create', repository: 'app', tag: 'latest', decision: notGranted }],
    ['new immutable tag: create', creator, 'app', [['v1', absent]], { allow: true, action: 'create', repository: 'app', tag: 'v1', decision: grant('creators', 0) }],
    // identical re-push
    ['identical re-push: create', creator, 'app', [['latest', same]], { allow: true, action: 'create', repository: 'app', tag: 'latest', identical: true, decision: grant('creators', 0) }],
    ['identical re-push of an immutable tag: create', creator, 'app', [['v1', same]], { allow: true, action: 'create', repository: 'app', tag: 'v1', identical: true, decision: grant('creators', 0) }],
    // a no-op for someone who could move the tag anyway
    ['identical re-push by an update holder without create', mover, 'app', [['latest', same]], { allow: true, action: 'update', repository: 'app', tag: 'latest', identical: true, decision: grant('movers', 2) }],
    // moving a tag
    ['other digest: update (CVE-2026-31801: latest is no exception)', creator, 'app', [['latest', other]], { allow: false, action: 'update', repository: 'app', tag: 'latest', decision: notGranted }],
    ['other digest, update holder', updater, 'app', [['latest', other]], { allow: true, action: 'update', repository: 'app', tag: 'latest', decision: grant('updaters', 1) }],
    ['other digest, update without create', mover, 'app', [['latest', other]], { allow: true, action: 'update', repository: 'app', tag: 'latest', decision: grant('movers', 2) }],
    ['other digest, admin', admin, 'app', [['latest', other]], { allow: true, action: 'update', repository: 'app', tag: 'latest', decision: byAdmin }],
    // immutable: nobody
    ['immutable, create only', creator, 'app', [['v1', other]], { allow: false, action: 'update', repository: 'app', tag: 'v1', immutable: rule(0), decision: immutable }],
    ['immutable, update holder', updater, 'app', [['v1', other]], { allow: false, action: 'update', repository: 'app', tag: 'v1', immutable: rule(0), decision: immutable }],
    ['immutable, admin', admin, 'app', [['v1', other]], { allow: false, action: 'update', repository: 'app', tag: 'v1', immutable: rule(0), decision: immutable }],
    ['except: v1-rc1 moves with update', updater, 'app', [['v1-rc1', other]], { allow: true, action: 'update', repository: 'app', tag: 'v1-rc1', decision: grant('updaters', 1) }],
    ['except: v1-rc1 still needs update', creator, 'app', [['v1-rc1', other]], { allow: false, action: 'update', repository: 'app', tag: 'v1-rc1', decision: notGranted }],
    ['tags are case-sensitive: V1 is not v*', updater, 'app', [['V1', other]], { allow: true, action: 'update', repository: 'app', tag: 'V1', decision: grant('updaters', 1) }],
    ['a * rule freezes plain tags', admin, 'frozen/app', [['latest', other]], { allow: false, action: 'update', repository: 'frozen/app', tag: 'latest', immutable: rule(1), decision: immutable }],
    // signature tags
    ...(['sig', 'att', 'sbom'] as const).map((kind): [string, Principal, string, Tags, WriteVerdict] => [
      `.${kind} is exempt from a * rule`,
      updater,
      'frozen/app',
      [[`${SIG}.${kind}`, other]],
      { allow: true, action: 'update', repository: 'frozen/app', tag: `${SIG}.${kind}`, decision: grant('updaters', 1) },
    ]),
    ['a signature tag still needs update', creator, 'frozen/app', [[`${SIG}.sig`, other]], { allow: false, action: 'update', repository: 'frozen/app', tag: `${SIG}.sig`, decision: notGranted }],
    ['a sha256-* rule freezes signature tags', admin, 'signed/app', [[`${SIG}.sig`, other]], { allow: false, action: 'update', repository: 'signed/app', tag: `${SIG}.sig`, immutable: rule(2), decision: immutable }],
    ['not a signature tag: .txt under a * rule', updater, 'frozen/app', [[`${SIG}.txt`, other]], { allow: false, action: 'update', repository: 'frozen/app', tag: `${SIG}.txt`, immutable: rule(1), decision: immutable }],
    ['not a signature tag: uppercase hex under a * rule', updater, 'frozen/app', [[`sha256-${'A'.repeat(64)}.sig`, other]], { allow: false, action: 'update', repository: 'frozen/app', tag: `sha256-${'A'.repeat(64)}.sig`, immutable: rule(1), decision: immutable }],
    // several tags (digest PUT ?tag=a&tag=b): the first denial decides, else the last tag's verdict
    ['new + existing, create only: the existing one denies', creator, 'app', [['new', absent], ['latest', other]], { allow: false, action: 'update', repository: 'app', tag: 'latest', decision: notGranted }],
    ['existing + new, create only: order does not matter', creator, 'app', [['latest', other], ['new', absent]], { allow: false, action: 'update', repository: 'app', tag: 'latest', decision: notGranted }],
    ['new + immutable, update holder', updater, 'app', [['new', absent], ['v1', other]], { allow: false, action: 'update', repository: 'app', tag: 'v1', immutable: rule(0), decision: immutable }],
    ['existing + new, update without create: the new one denies (zot #4266)', mover, 'app', [['latest', other], ['new', absent]], { allow: false, action: 'create', repository: 'app', tag: 'new', decision: notGranted }],
    ['two new tags, create', creator, 'app', [['a', absent], ['b', absent]], { allow: true, action: 'create', repository: 'app', tag: 'b', decision: grant('creators', 0) }],
    ['new + identical + moved, update holder', updater, 'app', [['a', absent], ['b', same], ['c', other]], { allow: true, action: 'update', repository: 'app', tag: 'c', decision: grant('updaters', 1) }],
  ])('%s', (_name, principal, repository, tags, expected) => {
    const verdict = decideManifestWrite({
      ac,
      immutableTags: RULES,
      principal,
      repository,
      digest: BODY,
      tags: tags.map(([tag, holding]) => ({ tag, holding })),
    });
    expect(verdict).toEqual(expected);
  });

  it('without immutableTags rules, an update holder moves any tag', () => {
    const verdict = decideManifestWrite({ ac, immutableTags: [], principal: updater, repository: 'app', digest: BODY, tags: [{ tag: 'v1', holding: other }] });
    expect(verdict).toEqual({ allow: true, action: 'update', repository: 'app', tag: 'v1', decision: grant('updaters', 1) });
  });
});

describe('decideManifestPush: before the body, create or update is needed', () => {
  it.each<[string, Principal, WriteVerdict]>([
    ['create', creator, { allow: true, action: 'create', repository: 'app', decision: grant('creators', 0) }],
    ['update alone', mover, { allow: true, action: 'update', repository: 'app', decision: grant('movers', 2) }],
    ['neither: create\'s denial', deleter, { allow: false, action: 'create', repository: 'app', decision: notGranted }],
    ['an admin', admin, { allow: true, action: 'create', repository: 'app', decision: byAdmin }],
  ])('%s', (_name, principal, expected) => {
    expect(decideManifestPush(ac, principal, 'app')).toEqual(expected);
  });
});

describe('decideManifestDelete: delete, and an admin for a frozen tag (Quay PROJQUAY-10504)', () => {
  it.each<[string, Principal, string, readonly string[], WriteVerdict]>([
    ['no frozen tags: delete', deleter, 'app', [], { allow: true, action: 'delete', repository: 'app', decision: grant('deleters', 3) }],
    ['no frozen tags, without delete', creator, 'app', [], { allow: false, action: 'delete', repository: 'app', decision: notGranted }],
    ['no frozen tags, admin', admin, 'app', [], { allow: true, action: 'delete', repository: 'app', decision: byAdmin }],
    ['frozen tag, non-admin holding delete', deleter, 'app', ['v1'], { allow: false, action: 'delete', repository: 'app', tag: 'v1', immutable: rule(0), decision: immutable }],
    ['frozen tag, without delete: the plain denial', creator, 'app', ['v1'], { allow: false, action: 'delete', repository: 'app', decision: notGranted }],
    ['frozen tag, admin', admin, 'app', ['v1'], { allow: true, action: 'delete', repository: 'app', tag: 'v1', immutable: rule(0), decision: byAdmin }],
    ['frozen tags: the first one is named', admin, 'app', ['v2', 'v1'], { allow: true, action: 'delete', repository: 'app', tag: 'v2', immutable: rule(0), decision: byAdmin }],
    ['frozen tag, a scoped admin key is no admin', scopedAdmin, 'app', ['v1'], { allow: false, action: 'delete', repository: 'app', tag: 'v1', immutable: rule(0), decision: immutable }],
    ['frozen under a * rule', deleter, 'frozen/app', ['latest'], { allow: false, action: 'delete', repository: 'frozen/app', tag: 'latest', immutable: rule(1), decision: immutable }],
  ])('%s', (_name, principal, repository, frozenTags, expected) => {
    expect(decideManifestDelete({ ac, immutableTags: RULES, principal, repository, frozenTags })).toEqual(expected);
  });
});
