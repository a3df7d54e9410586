import { describe, expect, it } from 'vitest';
import {
  decideOrphans,
  ownerKey,
  type LabelledObject,
  type SweepCode,
  type SweepFacts,
} from './orphan-sweep.js';
import { CLUSTER_LABEL, ownerLabels } from './ownership.js';

const US = 'cluster-us';

const obj = (o: {
  type?: LabelledObject['type'];
  kind?: string;
  ns?: string;
  name: string;
  uid: string;
  policy?: 'Delete' | 'Orphan' | null;
  cluster?: string | null;
}): LabelledObject => {
  const labels = ownerLabels(
    { kind: o.kind ?? 'DockerContainer', namespace: o.ns ?? 'team', name: o.name, uid: o.uid },
    {
      specHash: 'h',
      deletionPolicy: o.policy ?? 'Delete',
      clusterId: o.cluster === null ? undefined : (o.cluster ?? US),
    },
  );
  if (o.policy === null) delete labels['dockyard.io/deletion-policy'];
  return { type: o.type ?? 'container', ref: `${o.ns ?? 'team'}.${o.name}`, labels };
};

const cachedOwners = new Map([['DockerContainer/team/web', { uid: 'u-web' }]]);
const base: SweepFacts = {
  clusterId: US,
  watchedKinds: new Set(['DockerContainer', 'DockerVolume', 'DockerNetwork']),
  inScope: (ns) => ns === 'team',
  cached: (kind, ns, name) => cachedOwners.get(ownerKey(kind, ns, name)),
};
/** After the live reads: `web2` exists on the server (the cache lags), everything else is gone. */
const confirmed: SweepFacts = {
  ...base,
  live: new Map<string, { uid?: string } | null>([
    ['DockerContainer/team/web2', { uid: 'u-web2' }],
    ['DockerContainer/team/old', null],
    ['DockerContainer/team/web', { uid: 'u-web' }],
    ['DockerVolume/team/data', null],
    ['DockerVolume/team/tmp', null],
  ]),
  released: new Set(['u-data']),
};

describe('decideOrphans', () => {
  it.each<[string, LabelledObject, SweepFacts, 'keep' | 'remove' | 'confirm', SweepCode]>([
    [
      'no cluster label (made before cluster ids): never swept',
      obj({ name: 'old', uid: 'u-old', cluster: null }),
      confirmed,
      'keep',
      'noClusterLabel',
    ],
    [
      "another cluster's object",
      obj({ name: 'old', uid: 'u-old', cluster: 'cluster-them' }),
      confirmed,
      'keep',
      'otherCluster',
    ],
    [
      'kind not watched here',
      obj({ kind: 'DockerWidget', name: 'w', uid: 'u-w' }),
      confirmed,
      'keep',
      'notWatched',
    ],
    ['namespace out of scope', obj({ ns: 'other', name: 'x', uid: 'u-x' }), confirmed, 'keep', 'notWatched'],
    ['owner in the cache', obj({ name: 'web', uid: 'u-web' }), base, 'keep', 'ownerCached'],
    [
      'owner gone, Orphan label',
      obj({ name: 'old', uid: 'u-old', policy: 'Orphan' }),
      base,
      'keep',
      'policyKeeps',
    ],
    [
      'owner gone, no policy label',
      obj({ name: 'old', uid: 'u-old', policy: null }),
      base,
      'keep',
      'policyKeeps',
    ],
    [
      'owner missing from the cache: ask the API server first',
      obj({ name: 'old', uid: 'u-old' }),
      base,
      'confirm',
      'confirmOwner',
    ],
    [
      'owner replaced in the cache (new uid): still asked',
      obj({ name: 'web', uid: 'u-previous' }),
      base,
      'confirm',
      'confirmOwner',
    ],
    [
      'the API server has the owner (cold cache, new leader)',
      obj({ name: 'web2', uid: 'u-web2' }),
      confirmed,
      'keep',
      'ownerLive',
    ],
    [
      'owner gone live, releases not read yet',
      obj({ name: 'old', uid: 'u-old' }),
      { ...confirmed, released: undefined },
      'confirm',
      'confirmRelease',
    ],
    [
      'Delete label but released under Orphan later: kept with its data',
      obj({ type: 'volume', kind: 'DockerVolume', name: 'data', uid: 'u-data' }),
      confirmed,
      'keep',
      'released',
    ],
    [
      'owner gone everywhere, Delete, not released',
      obj({ name: 'old', uid: 'u-old' }),
      confirmed,
      'remove',
      'ownerGone',
    ],
    [
      'owner replaced live (new uid), Delete',
      obj({ name: 'web', uid: 'u-previous' }),
      confirmed,
      'remove',
      'ownerGone',
    ],
    [
      'volume labelled Delete, owner gone',
      obj({ type: 'volume', kind: 'DockerVolume', name: 'tmp', uid: 'u-tmp' }),
      confirmed,
      'remove',
      'ownerGone',
    ],
  ])('%s', (_name, o, facts, action, code) => {
    const [d] = decideOrphans([o], facts);
    expect({ action: d?.action, code: d?.code }).toEqual({ action, code });
  });

  it('an owner not read live stays in doubt, never removed', () => {
    const o = obj({ name: 'unread', uid: 'u-unread' });
    const [d] = decideOrphans([o], { ...confirmed });
    expect(d?.action).toBe('confirm');
  });

  it('labels carry the cluster id', () => {
    expect(obj({ name: 'a', uid: 'u' }).labels[CLUSTER_LABEL]).toBe(US);
  });
});
