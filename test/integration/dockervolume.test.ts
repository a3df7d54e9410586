import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// DockerVolume on two real nodes: creation with owner labels, drift repair
// (event-driven, and by polling with the event stream cut), data safety on
// spec changes and deletion, name conflicts and placement changes.

let world: World;
let lab: Lab;
let kube: Kube;
const NS = 'team-a';
const POLL_MS = 4_000;

async function volumeOn(node: string, name: string) {
  try {
    return (await lab.node(node).client().getVolume(name).inspect()) as {
      Name: string;
      Labels: Record<string, string> | null;
    };
  } catch {
    return undefined;
  }
}

async function writeData(node: string, volume: string, text: string): Promise<void> {
  const docker = lab.node(node).client();
  await lab
    .node(node)
    .loadImage(lab.hostDocker, lab.workloadImage)
    .catch(() => undefined);
  const c = await docker.createContainer({
    Image: lab.workloadImage,
    Cmd: ['sh', '-c', `echo ${text} > /data/file`],
    HostConfig: { Binds: [`${volume}:/data`] },
  });
  await c.start();
  await c.wait();
  await c.remove();
}

async function readData(node: string, volume: string): Promise<string> {
  const { output } = await lab
    .node(node)
    .exec(['sh', '-c', `cat "$(docker volume inspect -f '{{.Mountpoint}}' ${volume})/file"`]);
  return output.trim();
}

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'n1' }, { name: 'n2' }] },
    namespaces: [NS],
    dockyard: { syncPeriodMs: POLL_MS, orphanSweepIntervalMs: POLL_MS },
    hostLabels: { n1: { site: 'lab' }, n2: { site: 'lab' } },
  });
  ({ lab, kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

describe('DockerVolume', () => {
  it('is created on every matching host with owner labels, and reports Ready 2/2', async () => {
    const created = await kube.create('DockerVolume', NS, 'data', {
      hostSelector: { matchLabels: { site: 'lab' } },
      labels: { app: 'web' },
    });
    const ready = await kube.waitFor('DockerVolume', NS, 'data', isReady, 'Ready');
    expect(ready.status?.hostsReady).toBe('2/2');
    expect(ready.status?.hosts?.map((h) => `${h.name}:${h.phase}`)).toEqual(['n1:Ready', 'n2:Ready']);
    expect(ready.metadata.finalizers).toContain('dockyard.io/cleanup');
    for (const node of ['n1', 'n2']) {
      const v = await volumeOn(node, `${NS}.data`);
      expect(v?.Labels).toMatchObject({
        app: 'web',
        'dockyard.io/uid': created.metadata.uid,
        'dockyard.io/namespace': NS,
        'dockyard.io/name': 'data',
        'dockyard.io/kind': 'DockerVolume',
      });
      expect(v?.Labels?.['dockyard.io/spec-hash']).toMatch(/^[0-9a-f]{16}$/);
    }
    const address = world.dockyard.manager.metricsAddress();
    const text = await (await fetch(`http://127.0.0.1:${address?.port}/metrics`)).text();
    expect(text).toMatch(/dockyard_managed_objects\{kind="DockerVolume",phase="Ready"\} 1/);
  });

  it('puts back a volume removed out of band within seconds (event-driven)', async () => {
    await lab.node('n1').client().getVolume(`${NS}.data`).remove();
    const t0 = Date.now();
    await waitFor(async () => (await volumeOn('n1', `${NS}.data`)) !== undefined, {
      timeoutMs: 10_000,
      what: 'volume repaired on n1',
    });
    // Well under the poll interval: the Docker event did it.
    expect(Date.now() - t0).toBeLessThan(POLL_MS);
  });

  it('puts it back within one poll interval when the event stream is cut', async () => {
    const runtime = world.dockyard.controllers.hostRuntime;
    runtime.stopEventStream('n2'); // no events from n2 until its next heartbeat restarts the stream…
    await lab.node('n2').client().getVolume(`${NS}.data`).remove();
    const t0 = Date.now();
    await waitFor(async () => (await volumeOn('n2', `${NS}.data`)) !== undefined, {
      timeoutMs: POLL_MS * 3,
      what: 'volume repaired on n2 by polling',
    });
    expect(Date.now() - t0).toBeLessThan(POLL_MS * 2 + 2_000);
  });

  it('never destroys data to apply an immutable change: Stalled RecreateRequired', async () => {
    await writeData('n1', `${NS}.data`, 'precious');
    await kube.patch('DockerVolume', NS, 'data', {
      spec: { driverOptions: { type: 'tmpfs', device: 'tmpfs', o: 'size=16m' } },
    });
    const stalled = await kube.waitFor(
      'DockerVolume',
      NS,
      'data',
      (o) => condition(o, 'Stalled')?.status === 'True',
      'Stalled',
    );
    expect(condition(stalled, 'Stalled')?.reason).toBe('RecreateRequired');
    expect(condition(stalled, 'Stalled')?.message).toContain('docker volume rm team-a.data');
    expect(await readData('n1', `${NS}.data`)).toBe('precious');
    await kube.patch('DockerVolume', NS, 'data', { spec: { driverOptions: null } });
    await kube.waitFor('DockerVolume', NS, 'data', isReady, 'Ready again after revert');
  });

  it('keeps the volume and its data on delete with the default Orphan policy', async () => {
    await kube.delete('DockerVolume', NS, 'data');
    await kube.waitForGone('DockerVolume', NS, 'data');
    expect(await volumeOn('n1', `${NS}.data`)).toBeDefined();
    expect(await volumeOn('n2', `${NS}.data`)).toBeDefined();
    expect(await readData('n1', `${NS}.data`)).toBe('precious');
  });

  it('never touches a foreign volume with its name: NameConflict', async () => {
    // The orphaned volume from the previous test belongs to a deleted owner (another uid).
    await lab
      .node('n1')
      .client()
      .createVolume({ Name: `${NS}.foreign`, Labels: { app: 'not-dockyard' } });
    await kube.create('DockerVolume', NS, 'foreign', { hostName: 'n1', deletionPolicy: 'Delete' });
    const obj = await kube.waitFor(
      'DockerVolume',
      NS,
      'foreign',
      (o) => condition(o, 'Stalled')?.reason === 'NameConflict',
      'NameConflict',
    );
    expect(condition(obj, 'Ready')?.status).toBe('False');
    await kube.delete('DockerVolume', NS, 'foreign');
    await kube.waitForGone('DockerVolume', NS, 'foreign');
    expect((await volumeOn('n1', `${NS}.foreign`))?.Labels).toEqual({ app: 'not-dockyard' });
  });

  it('with Delete, removes it from every host; a host that stops matching keeps it (flagged)', async () => {
    await kube.create('DockerVolume', NS, 'scratch', {
      hostSelector: { matchLabels: { site: 'lab' } },
      deletionPolicy: 'Delete',
    });
    await kube.waitFor(
      'DockerVolume',
      NS,
      'scratch',
      (o) => isReady(o) && o.status?.hostsReady === '2/2',
      'Ready on 2 hosts',
    );
    await kube.patch('DockerHost', undefined, 'n2', { metadata: { labels: { site: 'elsewhere' } } });
    // A relabelled host never evicts (IgnoredDuringExecution): kept, flagged, still Ready.
    await kube.waitFor(
      'DockerVolume',
      NS,
      'scratch',
      (o) =>
        isReady(o) &&
        o.status?.hostsReady === '2/2' &&
        condition(o, 'PlacementMatched')?.reason === 'HostNoLongerMatches',
      'kept on n2 with PlacementMatched=False',
    );
    expect(await volumeOn('n2', `${NS}.scratch`)).toBeDefined();
    expect(await volumeOn('n1', `${NS}.scratch`)).toBeDefined();
    await kube.delete('DockerVolume', NS, 'scratch');
    await kube.waitForGone('DockerVolume', NS, 'scratch');
    expect(await volumeOn('n1', `${NS}.scratch`)).toBeUndefined();
    expect(await volumeOn('n2', `${NS}.scratch`)).toBeUndefined();
    await kube.patch('DockerHost', undefined, 'n2', { metadata: { labels: { site: 'lab' } } });
  });

  it('sweeps volumes whose owner is gone only when their recorded policy says Delete', async () => {
    // The sweep considers only objects of its own cluster (kube-system's UID by default).
    const cluster = (await kube.core.readNamespace({ name: 'kube-system' })).metadata?.uid ?? '';
    const labels = (name: string, policy: string) => ({
      'dockyard.io/cluster': cluster,
      'dockyard.io/uid': `gone-${name}`,
      'dockyard.io/namespace': NS,
      'dockyard.io/name': name,
      'dockyard.io/kind': 'DockerVolume',
      'dockyard.io/spec-hash': '0000000000000000',
      'dockyard.io/deletion-policy': policy,
    });
    const docker = lab.node('n1').client();
    await docker.createVolume({ Name: `${NS}.left-delete`, Labels: labels('left-delete', 'Delete') });
    await docker.createVolume({ Name: `${NS}.left-orphan`, Labels: labels('left-orphan', 'Orphan') });
    await waitFor(async () => (await volumeOn('n1', `${NS}.left-delete`)) === undefined, {
      timeoutMs: POLL_MS * 3,
      what: 'orphaned Delete-policy volume swept',
    });
    expect(await volumeOn('n1', `${NS}.left-orphan`)).toBeDefined();
    const address = world.dockyard.manager.metricsAddress();
    const text = await (await fetch(`http://127.0.0.1:${address?.port}/metrics`)).text();
    expect(text).toMatch(/dockyard_orphans_removed_total\{kind="DockerVolume"\} [1-9]/);
    expect(text).toMatch(/dockyard_drift_repairs_total\{kind="DockerVolume"\} [1-9]/);
  });

  it('holds the finalizer while a host is down, and finishes once it is back', async () => {
    await kube.create('DockerVolume', NS, 'held', { hostName: 'n2', deletionPolicy: 'Delete' });
    await kube.waitFor('DockerVolume', NS, 'held', isReady, 'Ready');
    await lab.node('n2').halt();
    await kube.waitFor(
      'DockerHost',
      undefined,
      'n2',
      (o) => condition(o, 'Ready')?.status === 'False',
      'NotReady',
    );
    await kube.delete('DockerVolume', NS, 'held');
    const deleting = await kube.waitFor(
      'DockerVolume',
      NS,
      'held',
      (o) => o.status?.phase === 'Deleting',
      'Deleting',
    );
    expect(deleting.status?.hosts?.[0]?.message).toContain('not Ready');
    await lab.node('n2').resume();
    await kube.waitForGone('DockerVolume', NS, 'held', 60_000);
    expect(await volumeOn('n2', `${NS}.held`)).toBeUndefined();
  });
});
