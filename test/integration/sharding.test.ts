import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { shardOf } from '../../src/runtime/shards.js';
import { shardReplica, startDockyard, TEST_SHARD_TIMING, type RunningDockyard } from '../support/dockyard.js';
import { isReady, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// Two sharded replicas (`--leader-elect --shards=2`) over two real Docker
// nodes, whose names fall in different shards: each replica connects to and
// works on its own node only; an object placed on both nodes is reconciled by
// both, each recording its own host, and turns Ready without their status
// writes fighting; deleting it removes it from both before the finalizer
// goes; a replica that stops hands its shard over, and the other takes its
// node on without touching what is there.

let world: World;
let lab: Lab;
let kube: Kube;
let b: RunningDockyard | undefined;
const NS = 'shards';
const SHARDS = 2;
const replica = (identity: string) => shardReplica(identity, { shards: SHARDS, namespace: NS });

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'n1' }, { name: 'n2' }] },
    loadWorkloadImage: true,
    namespaces: [NS],
    dockyard: { replica: replica('a') },
    hostLabels: { n1: { fleet: 'lab' }, n2: { fleet: 'lab' } },
  });
  ({ lab, kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await b?.stop();
  await world?.stop();
});

const held = (r: RunningDockyard) => r.shards?.heldShards() ?? [];
const connected = (r: RunningDockyard, host: string) =>
  r.controllers.hostRuntime.connection(host) !== undefined;

/** dockyard_managed_objects of `kind` on one replica, over every phase. */
async function managedObjects(r: RunningDockyard, kind: string): Promise<number> {
  const gauge = r.manager.metrics.registry.getSingleMetric('dockyard_managed_objects');
  const values = (await gauge?.get())?.values ?? [];
  return values.filter((v) => v.labels.kind === kind).reduce((sum, v) => sum + v.value, 0);
}

async function containersNamed(node: string, name: string): Promise<string[]> {
  const list = await lab
    .node(node)
    .client()
    .listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  return list.map((c) => c.Id);
}

describe('sharding over two replicas', () => {
  it('spreads the hosts: each replica holds one shard and connects to its own node only', async () => {
    expect(shardOf('n1', SHARDS)).not.toBe(shardOf('n2', SHARDS));
    b = await startDockyard(world.cp, { replica: replica('b'), maxConcurrentReconciles: 4 });
    const a = world.dockyard;
    await waitFor(async () => (held(a).length === 1 && held(b!).length === 1 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'one shard each',
    });
    const [ownerOf1, ownerOf2] = held(a)[0] === shardOf('n1', SHARDS) ? [a, b] : [b, a];
    await waitFor(
      async () =>
        connected(ownerOf1, 'n1') &&
        connected(ownerOf2, 'n2') &&
        !connected(ownerOf1, 'n2') &&
        !connected(ownerOf2, 'n1')
          ? true
          : undefined,
      { timeoutMs: 30_000, what: 'each replica connected to its own node only' },
    );
  });

  it('runs a container on each node, each by the replica holding it, exactly once', async () => {
    for (const node of ['n1', 'n2'])
      await kube.create('DockerContainer', NS, `web-${node}`, {
        hostName: node,
        image: world.image,
        command: ['sleep', '3600'],
      });
    for (const node of ['n1', 'n2']) {
      await kube.waitFor('DockerContainer', NS, `web-${node}`, isReady, 'Ready');
      expect(await containersNamed(node, `${NS}.web-${node}`)).toHaveLength(1);
    }
    // Each replica counts the objects of its own shards: over both, each container once.
    const counted = await Promise.all([world.dockyard, b!].map((r) => managedObjects(r, 'DockerContainer')));
    expect(counted.reduce((sum, n) => sum + n, 0)).toBe(2);
  });

  it('reconciles an object placed on both nodes from both replicas, without their writes fighting', async () => {
    // deletionPolicy Delete (a volume's default is Orphan): the deletion below removes it from both nodes.
    await kube.create('DockerVolume', NS, 'shared', {
      hostSelector: { matchLabels: { fleet: 'lab' } },
      deletionPolicy: 'Delete',
    });
    const ready = await kube.waitFor('DockerVolume', NS, 'shared', isReady, 'Ready');
    expect(ready.status?.hostsReady).toBe('2/2');
    expect(ready.status?.hosts?.map((h) => [h.name, h.result])).toEqual([
      ['n1', { state: 'Ready' }],
      ['n2', { state: 'Ready' }],
    ]);
    // Settled: a few more rounds of both replicas change nothing.
    const version = ready.metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 3_000));
    const later = await kube.get('DockerVolume', NS, 'shared');
    expect(later?.metadata.resourceVersion, 'no write after Ready').toBe(version);
    for (const node of ['n1', 'n2'])
      await expect(lab.node(node).client().getVolume(`${NS}.shared`).inspect()).resolves.toBeDefined();
  });

  it('deletes it from both nodes before the finalizer goes', async () => {
    await kube.delete('DockerVolume', NS, 'shared');
    await waitFor(async () => ((await kube.get('DockerVolume', NS, 'shared')) ? undefined : true), {
      timeoutMs: 60_000,
      what: 'DockerVolume shared gone',
    });
    for (const node of ['n1', 'n2'])
      await expect(lab.node(node).client().getVolume(`${NS}.shared`).inspect()).rejects.toThrow();
  });

  it('a replica that stops hands its shard over: the other takes its node on, duplicating nothing', async () => {
    const a = world.dockyard;
    const moved = held(b!).includes(shardOf('n1', SHARDS)) ? 'n1' : 'n2';
    const before = await containersNamed(moved, `${NS}.web-${moved}`);
    expect(before).toHaveLength(1);
    await b!.stop();
    b = undefined;
    await waitFor(async () => (held(a).length === SHARDS ? true : undefined), {
      timeoutMs: TEST_SHARD_TIMING.leaseDurationMs + 10_000,
      what: 'the remaining replica to hold both shards',
    });
    await waitFor(async () => (connected(a, moved) ? true : undefined), {
      timeoutMs: 30_000,
      what: `the remaining replica connected to ${moved}`,
    });
    await kube.create('DockerContainer', NS, 'late', {
      hostName: moved,
      image: world.image,
      command: ['sleep', '3600'],
    });
    await kube.waitFor('DockerContainer', NS, 'late', isReady, 'Ready');
    expect(
      await containersNamed(moved, `${NS}.web-${moved}`),
      'the existing container is left as it was',
    ).toEqual(before);
    expect(await containersNamed(moved, `${NS}.late`)).toHaveLength(1);
  });
});
