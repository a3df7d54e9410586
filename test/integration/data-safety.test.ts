import { randomUUID } from 'node:crypto';
import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { startControlPlane } from '../support/control-plane.js';
import { startDockyard } from '../support/dockyard.js';
import { condition, isReady, Kube, registerLabHosts, type DockyardObject } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { startSingleNodeWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// Issue #12, "data must survive" and "only what is yours", on the real API
// server and a real DinD node: the deletion policy asked for last wins over
// the one labelled at create time, through the orphan sweep and a leader
// change; two clusters sharing a daemon never sweep each other's objects;
// names taken by others are never adopted, and conflict messages never name
// another tenant.

let world: World;
let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
let image: string;
const NS = 'safety';
const SWEEP_MS = 2_000;
const SYNC_MS = 4_000;
const DOCKYARD_OPTIONS = { syncPeriodMs: SYNC_MS, orphanSweepIntervalMs: SWEEP_MS };

const docker = () => lab.node('n1').client();

async function volumeOn(name: string) {
  try {
    return (await docker().getVolume(name).inspect()) as {
      Name: string;
      Labels: Record<string, string> | null;
    };
  } catch {
    return undefined;
  }
}

async function containerOn(name: string) {
  try {
    return await docker().getContainer(name).inspect();
  } catch {
    return undefined;
  }
}

async function networkNamed(name: string) {
  return (await docker().listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name);
}

async function readMarker(volume: string): Promise<string> {
  const { output } = await lab
    .node('n1')
    .exec(['sh', '-c', `cat "$(docker volume inspect -f '{{.Mountpoint}}' ${volume})/marker"`]);
  return output.trim();
}

async function clusterIdOf(k: Kube): Promise<string> {
  const uid = (await k.core.readNamespace({ name: 'kube-system' })).metadata?.uid;
  if (!uid) throw new Error('kube-system has no uid');
  return uid;
}

/** Owner labels of a resource that does not exist (any more), as cluster `cluster` made them. */
function goneOwnerLabels(name: string, cluster: string | undefined): Record<string, string> {
  return {
    'dockyard.io/uid': `gone-${randomUUID()}`,
    'dockyard.io/namespace': NS,
    'dockyard.io/name': name,
    'dockyard.io/kind': 'DockerVolume',
    'dockyard.io/spec-hash': '0000000000000000',
    'dockyard.io/deletion-policy': 'Delete',
    ...(cluster ? { 'dockyard.io/cluster': cluster } : {}),
  };
}

/**
 * Proof that a whole sweep of `cluster`'s controller ran after this call: a
 * canary volume of that cluster whose owner never existed is swept. The
 * sweep that removes it decided on every other object from the same listing.
 */
async function sweepRan(cluster: string): Promise<void> {
  const name = `${NS}.canary-${randomUUID().slice(0, 8)}`;
  await docker().createVolume({ Name: name, Labels: goneOwnerLabels('canary', cluster) });
  await waitFor(async () => (await volumeOn(name)) === undefined, {
    timeoutMs: SWEEP_MS * 10 + 20_000,
    what: `a sweep of cluster ${cluster}`,
  });
}

async function eventsOf(name: string): Promise<Array<{ type?: string; reason?: string; note?: string }>> {
  const list = await cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.regarding?.name === name);
}

const stalled = (reason: string) => (o: DockyardObject) => condition(o, 'Stalled')?.reason === reason;

beforeAll(async () => {
  world = await startSingleNodeWorld({ namespaces: [NS], dockyard: DOCKYARD_OPTIONS });
  ({ cp, lab, kube, image } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

describe('the deletion policy is read when the deletion happens', () => {
  it('Delete switched to Orphan keeps volume, data and container through the sweep and a leader change', async () => {
    const cluster = await clusterIdOf(kube);
    const volume = await kube.create('DockerVolume', NS, 'data', {
      hostName: 'n1',
      deletionPolicy: 'Delete',
    });
    await kube.waitFor('DockerVolume', NS, 'data', isReady, 'volume Ready');
    const container = await kube.create('DockerContainer', NS, 'db', {
      hostName: 'n1',
      image,
      command: ['sh', '-c', 'echo precious > /data/marker; sleep 3600'],
      deletionPolicy: 'Delete',
      mounts: [{ type: 'volume', volume: 'data', target: '/data' }],
    });
    await kube.waitFor('DockerContainer', NS, 'db', isReady, 'container Ready');
    await waitFor(async () => (await readMarker(`${NS}.data`).catch(() => '')) === 'precious', {
      timeoutMs: 20_000,
      what: 'marker written',
    });
    // Asserted last, so that on code without cluster ids the data loss is what fails first.
    const labels = (await volumeOn(`${NS}.data`))?.Labels;

    await kube.patch('DockerContainer', NS, 'db', { spec: { deletionPolicy: 'Orphan' } });
    await kube.patch('DockerVolume', NS, 'data', { spec: { deletionPolicy: 'Orphan' } });
    await kube.delete('DockerContainer', NS, 'db');
    await kube.delete('DockerVolume', NS, 'data');
    await kube.waitForGone('DockerContainer', NS, 'db');
    await kube.waitForGone('DockerVolume', NS, 'data');

    const survives = async (what: string) => {
      expect(await containerOn(`${NS}.db`), `container after ${what}`).toBeDefined();
      expect(await volumeOn(`${NS}.data`), `volume after ${what}`).toBeDefined();
      expect(await readMarker(`${NS}.data`)).toBe('precious');
    };
    await sweepRan(cluster);
    await survives('a sweep');

    // A new leader: a fresh controller with empty memory and cold caches.
    await world.restartDockyard();
    await sweepRan(cluster);
    await survives('a leader change and its first sweeps');

    // Where the release was recorded.
    const host = await kube.get('DockerHost', undefined, 'n1');
    const released = (host?.status as { releasedOwners?: Array<{ uid: string; kind: string }> } | undefined)
      ?.releasedOwners;
    expect(released?.map((r) => r.uid)).toEqual(
      expect.arrayContaining([volume.metadata.uid, container.metadata.uid]),
    );

    // The labels still say what was asked at create time, and name this cluster.
    expect(labels).toMatchObject({ 'dockyard.io/deletion-policy': 'Delete', 'dockyard.io/cluster': cluster });
    // The record goes once nothing of its owner is left on the host.
    await docker().getContainer(`${NS}.db`).remove({ force: true });
    await docker().getVolume(`${NS}.data`).remove();
  }, 180_000);
});

describe('objects of another cluster, or from before cluster ids', () => {
  it("two clusters sharing one daemon never sweep each other's objects", async () => {
    const ours = await clusterIdOf(kube);
    const cp2 = await startControlPlane();
    const kube2 = new Kube(cp2);
    const other = await startDockyard(cp2, DOCKYARD_OPTIONS);
    try {
      const theirs = await clusterIdOf(kube2);
      expect(theirs).not.toBe(ours);
      await kube2.namespace(NS);
      await registerLabHosts(kube2, lab);
      await kube.create('DockerVolume', NS, 'a-vol', { hostName: 'n1', deletionPolicy: 'Delete' });
      await kube2.create('DockerVolume', NS, 'b-vol', { hostName: 'n1', deletionPolicy: 'Delete' });
      await kube.waitFor('DockerVolume', NS, 'a-vol', isReady, 'a-vol Ready');
      await kube2.waitFor('DockerVolume', NS, 'b-vol', isReady, 'b-vol Ready in the other cluster');
      // Drift repair would put a swept volume back at once (empty): its creation time tells.
      const createdAt = async (name: string) =>
        ((await volumeOn(`${NS}.${name}`)) as { CreatedAt?: string } | undefined)?.CreatedAt;
      const before = { a: await createdAt('a-vol'), b: await createdAt('b-vol') };
      const labelled = {
        a: (await volumeOn(`${NS}.a-vol`))?.Labels?.['dockyard.io/cluster'],
        b: (await volumeOn(`${NS}.b-vol`))?.Labels?.['dockyard.io/cluster'],
      };
      // Made before cluster ids: owner gone, Delete, and yet never swept.
      await docker().createVolume({ Name: `${NS}.legacy`, Labels: goneOwnerLabels('legacy', undefined) });

      await Promise.all([sweepRan(ours), sweepRan(theirs)]);
      await Promise.all([sweepRan(ours), sweepRan(theirs)]);
      const after = { a: await createdAt('a-vol'), b: await createdAt('b-vol') };
      expect(after, 'the same volumes: neither swept by the other cluster').toEqual(before);
      expect(await volumeOn(`${NS}.legacy`), 'a volume without cluster id').toBeDefined();
      expect(labelled).toEqual({ a: ours, b: theirs });

      // Each still deletes its own, per its policy.
      await kube.delete('DockerVolume', NS, 'a-vol');
      await kube.waitForGone('DockerVolume', NS, 'a-vol');
      expect(await volumeOn(`${NS}.a-vol`)).toBeUndefined();
      expect(await volumeOn(`${NS}.b-vol`)).toBeDefined();
    } finally {
      await other.stop();
      await cp2.stop();
      await docker()
        .getVolume(`${NS}.b-vol`)
        .remove()
        .catch(() => undefined);
      await docker()
        .getVolume(`${NS}.legacy`)
        .remove()
        .catch(() => undefined);
    }
  }, 240_000);
});

describe('only what is yours', () => {
  const tenantB = (name: string) => ({
    'dockyard.io/uid': 'u-tenant-b',
    'dockyard.io/namespace': 'tenant-b',
    'dockyard.io/name': name,
    'dockyard.io/kind': 'DockerVolume',
    'dockyard.io/spec-hash': '0000000000000000',
    'dockyard.io/deletion-policy': 'Orphan',
  });
  const leaks = /tenant-b|secret-|\/var\/lib\/docker/;

  it('a volume, network or container of another owner with the name is never used, and never named', async () => {
    await docker().createVolume({ Name: `${NS}.taken-vol`, Labels: tenantB('secret-vol') });
    await docker().createNetwork({ Name: `${NS}.taken-net`, Labels: tenantB('secret-net') });
    const foreign = await docker().createContainer({
      name: `${NS}.taken-ctr`,
      Image: image,
      Cmd: ['sleep', '3600'],
      Labels: { app: 'secret-app' },
    });
    await kube.create('DockerVolume', NS, 'taken-vol', { hostName: 'n1' });
    await kube.create('DockerNetwork', NS, 'taken-net', { hostName: 'n1' });
    await kube.create('DockerContainer', NS, 'taken-ctr', {
      hostName: 'n1',
      image,
      command: ['sleep', '3600'],
    });
    for (const [kind, name] of [
      ['DockerVolume', 'taken-vol'],
      ['DockerNetwork', 'taken-net'],
      ['DockerContainer', 'taken-ctr'],
    ] as const) {
      const obj = await kube.waitFor(kind, NS, name, stalled('NameConflict'), `${kind} NameConflict`);
      expect(condition(obj, 'Ready')?.status).toBe('False');
      const shown = [
        condition(obj, 'Ready')?.message,
        condition(obj, 'Stalled')?.message,
        JSON.stringify(obj.status?.hosts ?? []),
      ];
      await waitFor(async () => (await eventsOf(name)).some((e) => e.reason === 'NameConflict'), {
        timeoutMs: 10_000,
        what: `${kind} NameConflict Warning Event`,
      });
      const events = await eventsOf(name);
      expect(events.find((e) => e.reason === 'NameConflict')?.type).toBe('Warning');
      for (const text of [...shown, ...events.map((e) => e.note)]) expect(text ?? '').not.toMatch(leaks);
    }
    // Untouched.
    expect((await volumeOn(`${NS}.taken-vol`))?.Labels).toEqual(tenantB('secret-vol'));
    expect(await networkNamed(`${NS}.taken-net`)).toHaveLength(1);
    expect((await containerOn(`${NS}.taken-ctr`))?.Id).toBe(foreign.id);
    for (const kind of ['DockerVolume', 'DockerNetwork', 'DockerContainer'] as const) {
      const name =
        kind === 'DockerVolume' ? 'taken-vol' : kind === 'DockerNetwork' ? 'taken-net' : 'taken-ctr';
      await kube.delete(kind, NS, name);
      await kube.waitForGone(kind, NS, name);
    }
  }, 120_000);

  it("an explicit volumeName in another namespace's default form is refused: InvalidName, nothing created", async () => {
    await kube.create('DockerVolume', NS, 'sneaky', { hostName: 'n1', volumeName: 'tenant-b.data' });
    const obj = await kube.waitFor('DockerVolume', NS, 'sneaky', stalled('InvalidName'), 'InvalidName');
    expect(condition(obj, 'Ready')?.status).toBe('False');
    expect(condition(obj, 'Stalled')?.message).toContain('spec.volumeName');
    expect(await volumeOn('tenant-b.data')).toBeUndefined();
    await waitFor(async () => (await eventsOf('sneaky')).some((e) => e.reason === 'InvalidName'), {
      timeoutMs: 10_000,
      what: 'InvalidName Warning Event',
    });
    // Its own namespace's prefix is fine.
    await kube.patch('DockerVolume', NS, 'sneaky', { spec: { volumeName: `${NS}.sneaky-data` } });
    await kube.waitFor('DockerVolume', NS, 'sneaky', isReady, 'Ready under its own prefix');
    expect(await volumeOn(`${NS}.sneaky-data`)).toBeDefined();
  }, 60_000);
});
