import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import type { DockerNetwork } from '../../crds/dockernetwork.js';
import type { DockerVolume } from '../../crds/dockervolume.js';
import type { ObservedContainer } from '../../docker/container-client.js';
import { groupHashes, SPEC_GROUPS_LABEL } from '../../docker/container-spec.js';
import type { HostStatusEntry } from '../../managed/types.js';
import { desiredContainer, type DockerContainerKindDeps } from './container-kind.js';
import { observedContainer } from '../../docker/test-support.js';

// desiredContainer with the dependency caches in every state that matters:
// a container waits for its dependencies before it is created or when it
// must be recreated, and an existing one of ours is held as it is while a
// dependency stops being ready later (a failed re-pull, a paused or deleted
// volume), with the spec hash it carries, so nothing recreates it.

const NS = 'team';
const HOST = 'n1';
const DIGEST = 'sha256:' + 'a'.repeat(64);
const REPO_DIGEST = `reg.local/app@${DIGEST}`;

type Hosts = HostStatusEntry[];
const meta = (name: string) => ({ name, namespace: NS, uid: `u-${name}` });
const image = (hosts: Hosts, ref = 'reg.local/app:1') =>
  ({ metadata: meta('app'), spec: { image: ref }, status: { hosts } }) as unknown as DockerImage;
const volume = (hosts: Hosts) =>
  ({ metadata: meta('data'), spec: {}, status: { hosts } }) as unknown as DockerVolume;
const network = (hosts: Hosts) =>
  ({ metadata: meta('backend'), spec: {}, status: { hosts } }) as unknown as DockerNetwork;

const ready: Hosts = [{ name: HOST, phase: 'Ready' }];
const imageReady: Hosts = [{ name: HOST, phase: 'Ready', repoDigest: REPO_DIGEST }];
/** A re-pull of the same reference failed: the image is still there, its digest in the entry. */
const repullFailed: Hosts = [{ name: HOST, phase: 'Failed', repoDigest: REPO_DIGEST }];
/** spec.image changed to something whose pull fails: nothing of it on the host. */
const newRefFailed: Hosts = [{ name: HOST, phase: 'Failed' }];
const paused: Hosts = [{ name: HOST, phase: 'Paused' }];

interface World {
  images?: DockerImage[];
  volumes?: DockerVolume[];
  networks?: DockerNetwork[];
}
const healthy: Required<World> = {
  images: [image(imageReady)],
  volumes: [volume(ready)],
  networks: [network(ready)],
};

function cacheOf<T extends { metadata: { name: string; namespace?: string } }>(items: readonly T[]) {
  return {
    getByName: (name: string, ns?: string) =>
      items.find((i) => i.metadata.name === name && i.metadata.namespace === ns),
  };
}

function depsOf(w: World): DockerContainerKindDeps {
  return {
    images: cacheOf(w.images ?? []),
    volumes: cacheOf(w.volumes ?? []),
    networks: cacheOf(w.networks ?? []),
    volumeNameOf: (v) => `${NS}.${v.metadata.name}`,
    networkNameOf: (n) => `${NS}.${n.metadata.name}`,
    refs: () => ({ secret: () => Promise.resolve(undefined), configMap: () => Promise.resolve(undefined) }),
  };
}

const container = (spec: Partial<DockerContainer['spec']> = {}) =>
  ({
    metadata: meta('web'),
    spec: {
      hostName: HOST,
      imageRef: { name: 'app' },
      command: ['sleep', '3600'],
      mounts: [{ type: 'volume', volume: 'data', target: '/data' }],
      networks: [{ name: 'backend' }],
      ...spec,
    },
  }) as unknown as DockerContainer;

/** Our container as the controller created it with every dependency ready. */
async function created(): Promise<ObservedContainer> {
  const c = container();
  const d = await desiredContainer(depsOf(healthy), { container: c, hostName: HOST, namespace: NS });
  if (!d.inputs || !d.hash) throw new Error('fixture: not created');
  return observedContainer({
    labels: { 'dockyard.io/spec-hash': d.hash, [SPEC_GROUPS_LABEL]: groupHashes(c.spec, d.inputs) },
    image: d.inputs.image,
    networks: { 'team.backend': { aliases: [] } } as unknown as ObservedContainer['networks'],
    mounts: [{ type: 'volume', name: 'team.data', destination: '/data', readOnly: false }],
  });
}

type Expect =
  | { held: string[] }
  | { missing: string[] }
  /** All ready: a hash of its own, other than the one the container carries (a roll). */
  | { rolls: true };

describe('desiredContainer: waiting only before create or recreate', () => {
  it.each<[string, World, { running: boolean; spec?: Partial<DockerContainer['spec']> }, Expect]>([
    [
      'a re-pull of the same image failed: held',
      { ...healthy, images: [image(repullFailed)] },
      { running: true },
      { held: ['DockerImage/app'] },
    ],
    [
      'the DockerImage now names an image whose pull fails: held, not recreated',
      { ...healthy, images: [image(newRefFailed, 'reg.local/app:broken')] },
      { running: true },
      { held: ['DockerImage/app'] },
    ],
    [
      'its DockerVolume paused: held',
      { ...healthy, volumes: [volume(paused)] },
      { running: true },
      { held: ['DockerVolume/data'] },
    ],
    [
      'its DockerVolume deleted: held (the mounted volume stays)',
      { ...healthy, volumes: [] },
      { running: true },
      { held: ['DockerVolume/data'] },
    ],
    [
      'its DockerNetwork and DockerImage deleted: held',
      { volumes: healthy.volumes },
      { running: true },
      { held: ['DockerNetwork/backend', 'DockerImage/app'] },
    ],
    [
      'not created yet, image not ready: waits',
      { ...healthy, images: [image(newRefFailed)] },
      { running: false },
      { missing: ['DockerImage/app'] },
    ],
    [
      'own spec changed while the image is not ready: the recreate waits',
      { ...healthy, images: [image(newRefFailed, 'reg.local/app:broken')] },
      { running: true, spec: { command: ['sleep', '60'] } },
      { missing: ['DockerImage/app'] },
    ],
    [
      'a new mount of a deleted DockerVolume: waits',
      { ...healthy, volumes: [] },
      { running: true, spec: { mounts: [{ type: 'volume', volume: 'data', target: '/elsewhere' }] } },
      { missing: ['DockerVolume/data'] },
    ],
    [
      'the image ready again with a new digest: rolls',
      {
        ...healthy,
        images: [
          image([{ name: HOST, phase: 'Ready', repoDigest: `reg.local/app@sha256:${'b'.repeat(64)}` }]),
        ],
      },
      { running: true },
      { rolls: true },
    ],
  ])('%s', async (_name, world, situation, expected) => {
    const running = situation.running ? await created() : undefined;
    const d = await desiredContainer(depsOf(world), {
      container: container(situation.spec),
      hostName: HOST,
      namespace: NS,
      ...(running ? { running } : {}),
    });
    if ('held' in expected) {
      expect(d.missing).toEqual([]);
      expect(d.held?.map((h) => h.ref)).toEqual(expected.held);
      // The hash it carries: nothing computed from a stand-in can recreate it.
      expect(d.hash).toBe(running?.labels['dockyard.io/spec-hash']);
    } else if ('missing' in expected) {
      expect(d.missing).toEqual(expected.missing);
      expect(d.held).toBeUndefined();
      expect(d.inputs).toBeUndefined();
    } else {
      expect(d.missing).toEqual([]);
      expect(d.held).toBeUndefined();
      expect(d.hash).toBeDefined();
      expect(d.hash).not.toBe(running?.labels['dockyard.io/spec-hash']);
    }
  });

  it('all ready: the same hash with or without the running container (the fault suite computes it without)', async () => {
    const running = await created();
    const at = { hostName: HOST, namespace: NS };
    const withRunning = await desiredContainer(depsOf(healthy), { container: container(), ...at, running });
    const without = await desiredContainer(depsOf(healthy), { container: container(), ...at });
    expect(withRunning.hash).toBe(running.labels['dockyard.io/spec-hash']);
    expect(without.hash).toBe(withRunning.hash);
    expect(withRunning.held).toBeUndefined();
  });

  it('owner labels in the inputs carry the owner and cluster but no spec hash (create adds the recreate hash)', async () => {
    const d = await desiredContainer(depsOf(healthy), {
      container: container(),
      hostName: HOST,
      namespace: NS,
      clusterId: 'c-1',
    });
    expect(d.inputs?.ownerLabels).toMatchObject({ 'dockyard.io/uid': 'u-web', 'dockyard.io/cluster': 'c-1' });
    expect(d.inputs?.ownerLabels).not.toHaveProperty(['dockyard.io/spec-hash']);
  });
});
