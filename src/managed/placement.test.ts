import { describe, expect, it } from 'vitest';
import type { DockerHost, DockerHostSpec } from '../crds/dockerhost.js';
import type { LabelSelector } from '../crds/kit.js';
import {
  decideRemovals,
  placementCandidates,
  placementHash,
  resolvePlacement,
  type PlacementSpec,
  type PreviousPlacement,
  type Removal,
} from './placement.js';

function host(
  name: string,
  labels: Record<string, string> = {},
  spec: Partial<DockerHostSpec> = {},
  deleting = false,
): DockerHost {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: {
      name,
      labels,
      ...(deleting ? { deletionTimestamp: '2026-12-01T00:00:00Z' as unknown as Date } : {}),
    },
    spec: { endpoint: 'unix:///s', ...spec },
  };
}

const gold = {
  allowedNamespaces: { from: 'Selector' as const, selector: { matchLabels: { tier: 'gold' } } },
};
const hosts = [
  host('a', { site: 'lab' }),
  host('b', { site: 'lab' }, { unschedulable: true }),
  host('c', { site: 'dc' }, gold),
  host('d', { site: 'lab' }),
];

const lab: LabelSelector = { matchLabels: { site: 'lab' } };
const dc: LabelSelector = { matchLabels: { site: 'dc' } };
/** Previously placed under the given spec (the hash the reconciler recorded). */
const under = (spec: PlacementSpec, ...names: string[]): PreviousPlacement[] =>
  names.map((name) => ({ name, placementHash: placementHash(spec) }));

describe('resolvePlacement', () => {
  const names = (p: ReturnType<typeof resolvePlacement>) => ({
    placed: p.placed.map((h) => h.metadata.name),
    refused: p.refused.map((r) => `${r.host}:${r.reason}`),
    kept: p.kept.map((k) => `${k.host}:${k.reason}`),
    removed: p.removed.map((r) => `${r.host}:${r.reason}`),
  });
  const none = { refused: [], kept: [], removed: [] };

  it.each<
    [
      string,
      PlacementSpec,
      Record<string, string>,
      readonly DockerHost[],
      Array<string | PreviousPlacement>,
      object,
    ]
  >([
    ['hostName', { hostName: 'a' }, {}, hosts, [], { ...none, placed: ['a'] }],
    [
      'missing hostName',
      { hostName: 'zz' },
      {},
      hosts,
      [],
      { ...none, placed: [], refused: ['zz:HostNotFound'] },
    ],
    [
      'unschedulable: a new placement skips the host',
      { hostSelector: lab },
      {},
      hosts,
      [],
      { ...none, placed: ['a', 'd'], refused: ['b:HostUnschedulable'] },
    ],
    [
      'unschedulable: the host keeps what it has',
      { hostSelector: lab },
      {},
      hosts,
      under({ hostSelector: lab }, 'b'),
      { ...none, placed: ['a', 'b', 'd'] },
    ],
    [
      'namespace not admitted',
      { hostName: 'c' },
      { tier: 'bronze' },
      hosts,
      [],
      { ...none, placed: [], refused: ['c:NamespaceNotAllowed'] },
    ],
    ['namespace admitted', { hostName: 'c' }, { tier: 'gold' }, hosts, [], { ...none, placed: ['c'] }],
    [
      'host labels change: kept there, flagged',
      { hostSelector: lab },
      {},
      [host('a', { site: 'dc' }), host('d', { site: 'lab' })],
      under({ hostSelector: lab }, 'a', 'd'),
      { ...none, placed: ['a', 'd'], kept: ['a:HostNoLongerMatches'] },
    ],
    [
      'host labels change on an entry written before placement hashes: kept',
      { hostSelector: dc },
      { tier: 'gold' },
      hosts,
      ['a', 'c'],
      { ...none, placed: ['a', 'c'], kept: ['a:HostNoLongerMatches'] },
    ],
    [
      'allowedNamespaces change: kept there, flagged',
      { hostName: 'c' },
      { tier: 'silver' },
      hosts,
      under({ hostName: 'c' }, 'c'),
      { ...none, placed: ['c'], kept: ['c:NamespaceNoLongerAllowed'] },
    ],
    [
      'namespace labels change: kept there, flagged; a new host still obeys them',
      { hostSelector: {} },
      { tier: 'bronze' },
      [host('c', {}, gold), host('e', {}, gold)],
      under({ hostSelector: {} }, 'c'),
      { ...none, placed: ['c'], refused: ['e:NamespaceNotAllowed'], kept: ['c:NamespaceNoLongerAllowed'] },
    ],
    [
      'spec selector change: the old host is to be removed, the new one placed',
      { hostSelector: dc },
      { tier: 'gold' },
      hosts,
      under({ hostSelector: lab }, 'a', 'd'),
      { ...none, placed: ['c'], removed: ['a:PlacementChanged', 'd:PlacementChanged'] },
    ],
    [
      'spec hostName change: moves',
      { hostName: 'd' },
      {},
      hosts,
      under({ hostName: 'a' }, 'a'),
      { ...none, placed: ['d'], removed: ['a:PlacementChanged'] },
    ],
    [
      'spec change that still selects the host: stays',
      { hostSelector: { matchExpressions: [{ key: 'site', operator: 'In', values: ['lab', 'dc'] }] } },
      { tier: 'gold' },
      hosts,
      under({ hostSelector: lab }, 'a'),
      { ...none, placed: ['a', 'c', 'd'], refused: ['b:HostUnschedulable'] },
    ],
    [
      'spec change after a relabel: the kept host is removed now',
      { hostName: 'd' },
      {},
      [host('a', { site: 'dc' }), host('d', { site: 'lab' })],
      under({ hostSelector: lab }, 'a', 'd'),
      { ...none, placed: ['d'], removed: ['a:PlacementChanged'] },
    ],
    [
      'drain: removed from the draining host, refused there for new placements',
      { hostSelector: lab },
      {},
      [
        host('a', { site: 'lab' }, { drain: true }),
        host('d', { site: 'lab' }, { drain: true }),
        host('f', { site: 'lab' }),
      ],
      under({ hostSelector: lab }, 'a'),
      { ...none, placed: ['f'], refused: ['d:HostDraining'], removed: ['a:HostDraining'] },
    ],
    [
      'drain of a host named by hostName',
      { hostName: 'a' },
      {},
      [host('a', {}, { drain: true })],
      under({ hostName: 'a' }, 'a'),
      { ...none, placed: [], removed: ['a:HostDraining'] },
    ],
    [
      'deleted host: kept until drained or moved, no new placements',
      { hostSelector: lab },
      {},
      [host('a', { site: 'lab' }, {}, true), host('d', { site: 'lab' }, {}, true)],
      under({ hostSelector: lab }, 'a'),
      { ...none, placed: ['a'], refused: ['d:HostTerminating'], kept: ['a:HostTerminating'] },
    ],
    [
      'deleted host that drains: removed',
      { hostName: 'a' },
      {},
      [host('a', {}, { drain: true }, true)],
      under({ hostName: 'a' }, 'a'),
      { ...none, placed: [], removed: ['a:HostDraining'] },
    ],
    [
      'host gone from the API: nothing to clean up through',
      { hostName: 'a' },
      {},
      hosts,
      ['a', 'gone'],
      { ...none, placed: ['a'] },
    ],
    [
      'empty selector matches all admitted',
      { hostSelector: {} },
      {},
      hosts,
      [],
      { ...none, placed: ['a', 'd'], refused: ['b:HostUnschedulable', 'c:NamespaceNotAllowed'] },
    ],
  ])('%s', (_name, spec, nsLabels, world, before, expected) => {
    expect(
      names(
        resolvePlacement({
          spec,
          namespace: 'team',
          namespaceLabels: nsLabels,
          hosts: world,
          previouslyPlaced: before,
        }),
      ),
    ).toEqual(expected);
  });

  it('records the hash each placed host was selected under', () => {
    const old = { hostSelector: lab };
    const now = { hostSelector: { matchLabels: { site: 'lab', rack: '1' } } };
    const p = resolvePlacement({
      spec: now,
      namespace: 'team',
      namespaceLabels: {},
      hosts: [host('a', { site: 'lab' }), host('d', { site: 'lab', rack: '1' })],
      previouslyPlaced: [{ name: 'a' }, ...under(old, 'd')],
    });
    // a: kept (no recorded hash) under today's hash; d: still selected, re-stamped.
    expect(p.placementHashes).toEqual({ a: placementHash(now), d: placementHash(now) });
    const relabelled = resolvePlacement({
      spec: old,
      namespace: 'team',
      namespaceLabels: {},
      hosts: [host('a', { site: 'dc' })],
      previouslyPlaced: under(old, 'a'),
    });
    expect(relabelled.placementHashes).toEqual({ a: placementHash(old) });
  });

  it('names the host in the mismatch message', () => {
    const p = resolvePlacement({
      spec: { hostSelector: lab },
      namespace: 'team',
      namespaceLabels: {},
      hosts: [host('a', { site: 'dc' })],
      previouslyPlaced: under({ hostSelector: lab }, 'a'),
    });
    expect(p.kept[0]?.message).toMatch(/DockerHost a no longer matches spec.hostSelector/);
  });
});

describe('decideRemovals (make before break)', () => {
  const moved: Removal = { host: 'old', reason: 'PlacementChanged' };
  const drained: Removal = { host: 'old', reason: 'HostDraining' };
  const keptOn = (host: string) => [{ host, reason: 'HostNoLongerMatches' as const, message: '' }];
  const decide = (
    removed: Removal[],
    outcomes: Array<{ host: string; ready: boolean }>,
    kept: ReturnType<typeof keptOn> = [],
  ) => {
    const d = decideRemovals(removed, outcomes, kept);
    return { due: d.due.map((r) => r.host), waiting: d.waiting.map((w) => w.message) };
  };

  it.each<[string, Removal[], Array<{ host: string; ready: boolean }>, ReturnType<typeof keptOn>, object]>([
    [
      'spec change: new host Ready → remove from the old one',
      [moved],
      [{ host: 'new', ready: true }],
      [],
      { due: ['old'], waiting: [] },
    ],
    [
      'spec change: new host not Ready yet → wait',
      [moved],
      [{ host: 'new', ready: false }],
      [],
      { due: [], waiting: ['waiting for new to be Ready before removing here (PlacementChanged)'] },
    ],
    [
      'spec change: no new host at all → keep the old one',
      [moved],
      [],
      [],
      {
        due: [],
        waiting: ['kept until the new placement takes the object on at least one host (PlacementChanged)'],
      },
    ],
    [
      'spec change: a host kept although unmatched is not a target',
      [moved],
      [{ host: 'kept', ready: true }],
      keptOn('kept'),
      {
        due: [],
        waiting: ['kept until the new placement takes the object on at least one host (PlacementChanged)'],
      },
    ],
    ['drain: no other host → remove', [drained], [], [], { due: ['old'], waiting: [] }],
    [
      'drain: another host takes it, not Ready yet → wait',
      [drained],
      [{ host: 'other', ready: false }],
      [],
      { due: [], waiting: ['waiting for other to be Ready before removing here (HostDraining)'] },
    ],
    [
      'drain: another host Ready → remove',
      [drained],
      [{ host: 'other', ready: true }],
      [],
      { due: ['old'], waiting: [] },
    ],
  ])('%s', (_name, removed, outcomes, kept, expected) => {
    expect(decide(removed, outcomes, kept)).toEqual(expected);
  });
});

describe('placementCandidates', () => {
  const cache = {
    list: () => [...hosts],
    getByName: (name: string) => hosts.find((h) => h.metadata.name === name),
  };
  const sorted = (p: ReturnType<typeof resolvePlacement>) => ({
    ...p,
    placed: p.placed.map((h) => h.metadata.name).sort(),
    refused: [...p.refused].sort((x, y) => x.host.localeCompare(y.host)),
    kept: [...p.kept].sort((x, y) => x.host.localeCompare(y.host)),
    removed: [...p.removed].sort((x, y) => x.host.localeCompare(y.host)),
  });

  it.each<[string, PlacementSpec, PreviousPlacement[] | string[]]>([
    ['a named host', { hostName: 'a' }, []],
    ['an unschedulable named host', { hostName: 'b' }, []],
    ['a host that does not exist', { hostName: 'zz' }, []],
    ['a named host, the object still on others', { hostName: 'a' }, under({ hostName: 'c' }, 'c', 'd')],
    ['a renamed host it was on (plain names)', { hostName: 'd' }, ['a']],
    ['a selector', { hostSelector: lab }, under({ hostSelector: dc }, 'c')],
  ])('decides as the whole fleet would: %s', (_name, spec, previous) => {
    const candidates = placementCandidates(spec, previous, cache);
    const input = { spec, namespace: 'team', namespaceLabels: { tier: 'gold' }, previouslyPlaced: previous };
    expect(sorted(resolvePlacement({ ...input, hosts: candidates }))).toEqual(
      sorted(resolvePlacement({ ...input, hosts })),
    );
  });

  it('looks at no other host for a named one', () => {
    expect(placementCandidates({ hostName: 'a' }, ['d'], cache).map((h) => h.metadata.name)).toEqual([
      'a',
      'd',
    ]);
  });
});
