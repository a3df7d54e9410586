import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { managedMetricsNoop } from './managed-metrics.js';
import type { HostStatusApi } from './released-owners.js';
import {
  decideOrphans,
  ownerKey,
  sweepOrphans,
  type LabelledObject,
  type SweepCode,
  type SweepFacts,
} from './orphan-sweep.js';
import { CLUSTER_LABEL, ownerLabels } from './ownership.js';
import { FILES_HASH_LABEL } from '../docker/files-image.js';

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

/** A files image as files-image.ts commits it: the owner's labels, the files hash, a dockyard-files tag. */
const filesImage = (o: Parameters<typeof obj>[0] & { hash?: boolean; tags?: string[] }): LabelledObject => {
  const { labels } = obj(o);
  if (o.hash !== false) labels[FILES_HASH_LABEL] = 'f'.repeat(64);
  return {
    type: 'image',
    ref: `sha256:${o.uid}`,
    labels,
    tags: o.tags ?? [`dockyard-files/${o.ns ?? 'team'}.${o.name}:0123456789abcdef`],
  };
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
      'files image, owner gone everywhere (Delete label)',
      filesImage({ name: 'old', uid: 'u-old' }),
      confirmed,
      'remove',
      'filesImageOwnerGone',
    ],
    [
      'files image of an Orphan-labelled owner, gone: no data of its own (an orphaned container using it makes Docker refuse)',
      filesImage({ name: 'old', uid: 'u-old', policy: 'Orphan' }),
      confirmed,
      'remove',
      'filesImageOwnerGone',
    ],
    [
      'files image of an owner that released it and is gone since',
      filesImage({ name: 'old', uid: 'u-old' }),
      { ...confirmed, released: new Set(['u-old']) },
      'remove',
      'filesImageOwnerGone',
    ],
    [
      'files image, owner gone live: releases need no read',
      filesImage({ name: 'old', uid: 'u-old', policy: 'Orphan' }),
      { ...confirmed, released: undefined },
      'remove',
      'filesImageOwnerGone',
    ],
    [
      'files image, owner missing from the cache: asked first (Orphan label too)',
      filesImage({ name: 'old', uid: 'u-old', policy: 'Orphan' }),
      base,
      'confirm',
      'confirmOwner',
    ],
    [
      'files image, owner in the cache',
      filesImage({ name: 'web', uid: 'u-web' }),
      base,
      'keep',
      'ownerCached',
    ],
    [
      'files image, owner on the API server (cache lags)',
      filesImage({ name: 'web2', uid: 'u-web2' }),
      confirmed,
      'keep',
      'ownerLive',
    ],
    [
      "files image of another cluster's owner",
      filesImage({ name: 'old', uid: 'u-old', cluster: 'cluster-them' }),
      confirmed,
      'keep',
      'otherCluster',
    ],
    [
      'files image without a cluster id',
      filesImage({ name: 'old', uid: 'u-old', cluster: null }),
      confirmed,
      'keep',
      'noClusterLabel',
    ],
    [
      'files image in a namespace out of scope',
      filesImage({ ns: 'other', name: 'x', uid: 'u-x' }),
      confirmed,
      'keep',
      'notWatched',
    ],
    [
      "an image with owner labels but no files hash (a user's commit of a Dockyard container)",
      filesImage({ name: 'old', uid: 'u-old', hash: false }),
      confirmed,
      'keep',
      'notFilesImage',
    ],
    [
      'an image with both labels but no dockyard-files tag (committed or retagged by hand)',
      filesImage({ name: 'old', uid: 'u-old', tags: ['myteam/app:debug'] }),
      confirmed,
      'keep',
      'notFilesImage',
    ],
    [
      'an untagged image with both labels',
      filesImage({ name: 'old', uid: 'u-old', tags: ['<none>:<none>'] }),
      confirmed,
      'keep',
      'notFilesImage',
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

/**
 * A daemon with three files images of gone owners, as spies: `free` (no
 * container uses it), `used` (an orphaned container does: 409, as Docker
 * answers an unforced removal) and `moved` (its tag names a newer image by
 * the time of the removal). Removals are by tag, never forced.
 */
function imageDaemon() {
  const removed: string[] = [];
  const image = (name: string, id: string) => ({
    Id: id,
    RepoTags: [`dockyard-files/team.${name}:0123456789abcdef`],
    Labels: filesImage({ name, uid: `u-${name}` }).labels,
  });
  const images = [image('free', 'sha256:free'), image('used', 'sha256:used'), image('moved', 'sha256:old')];
  const idOf = (tag: string) => images.find((i) => i.RepoTags.includes(tag))?.Id;
  const api = {
    listContainers: () => Promise.resolve([]),
    listNetworks: () => Promise.resolve([]),
    listVolumes: () => Promise.resolve({ Volumes: [] }),
    listImages: () => Promise.resolve(images),
    getImage: (tag: string) => ({
      inspect: () => Promise.resolve({ Id: tag.includes('.moved:') ? 'sha256:newer' : idOf(tag) }),
      remove: (opts?: { force?: boolean }) => {
        if (opts?.force) throw new Error('never forced');
        if (tag.includes('.used:'))
          return Promise.reject(Object.assign(new Error('in use'), { statusCode: 409 }));
        removed.push(tag);
        return Promise.resolve([]);
      },
    }),
  } as unknown as Dockerode;
  return { api, removed };
}

describe('sweepOrphans: files images', () => {
  it('removes an unused one by its tag; one in use (409) or re-tagged since stays and is not counted', async () => {
    const { api, removed } = imageDaemon();
    const counted: string[] = [];
    const hostStatus = {
      listClusterCustomObject: () => Promise.resolve({ items: [{ metadata: { name: 'n1' }, status: {} }] }),
    } as unknown as HostStatusApi;
    const n = await sweepOrphans({
      hosts: () => [{ name: 'n1', api }],
      clusterId: US,
      lookup: () => undefined,
      liveOwner: () => Promise.resolve(null),
      hostStatus,
      fieldManager: 'test',
      watchedKinds: new Set(['DockerContainer']),
      inScope: () => true,
      metrics: { ...managedMetricsNoop, orphanRemoved: (kind) => counted.push(kind) },
      logger: pino({ level: 'silent' }),
    });
    expect(removed).toEqual(['dockyard-files/team.free:0123456789abcdef']);
    expect({ n, counted }).toEqual({ n: 1, counted: ['DockerContainer'] });
  });
});
