import { EventsV1Api } from '@kubernetes/client-node';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// DockerNetwork on two real nodes (Engine 20.10): creation with IPAM and
// owner labels, drift repair (event-driven, and by polling with the event
// stream blocked), recreate on spec changes only when nothing is attached,
// name conflicts, duplicates from racing creates, deletion and placement.

let world: World;
let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
let events: EventsV1Api;
const NS = 'team-a';
const POLL_MS = 4_000;
const NODES = ['n1', 'n2'];

interface NetworkInfo {
  Id: string;
  Name: string;
  Created: string;
  Internal: boolean;
  Attachable: boolean;
  Labels: Record<string, string> | null;
  IPAM: { Driver: string; Config: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null };
  Containers: Record<string, { Name: string }> | null;
}

/** Every network named exactly `name` on a node (Docker's name filter matches substrings). */
async function networksOn(node: string, name: string): Promise<NetworkInfo[]> {
  const docker = lab.node(node).client();
  const listed = await docker.listNetworks({ filters: { name: [name] } });
  return Promise.all(
    listed
      .filter((n) => n.Name === name)
      .map(async (n) => (await docker.getNetwork(n.Id).inspect()) as NetworkInfo),
  );
}

async function networkOn(node: string, name: string): Promise<NetworkInfo | undefined> {
  const found = await networksOn(node, name);
  if (found.length > 1) throw new Error(`${found.length} networks named ${name} on ${node}`);
  return found[0];
}

const subnetsOf = (n: NetworkInfo | undefined) => (n?.IPAM.Config ?? []).map((c) => c.Subnet);

/** `docker network ls` on the node, as the user would run it. */
async function networkNames(node: string): Promise<string[]> {
  const { exitCode, output } = await lab
    .node(node)
    .exec(['docker', 'network', 'ls', '--format', '{{.Name}}']);
  expect(exitCode).toBe(0);
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** A plain container (no Dockyard labels) attached to `network`, running. */
async function attach(node: string, network: string, name: string): Promise<Dockerode.Container> {
  const c = await lab
    .node(node)
    .client()
    .createContainer({
      name,
      Image: lab.workloadImage,
      Cmd: ['sleep', '3600'],
      HostConfig: { NetworkMode: network },
    });
  await c.start();
  return c;
}

async function eventReasons(name: string): Promise<string[]> {
  const list = await events.listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.regarding?.name === name).map((e) => e.reason ?? '');
}

async function waitForEvent(name: string, reason: string): Promise<void> {
  await waitFor(async () => (await eventReasons(name)).includes(reason), {
    timeoutMs: 15_000,
    what: `event ${reason} for ${name}`,
  });
}

const hostIds = (o: DockyardObject) => Object.fromEntries((o.status?.hosts ?? []).map((h) => [h.name, h.id]));

const stalledWith = (reason: string) => (o: DockyardObject) =>
  condition(o, 'Stalled')?.status === 'True' && condition(o, 'Stalled')?.reason === reason;

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'n1' }, { name: 'n2' }] },
    loadWorkloadImage: true,
    namespaces: [NS],
    dockyard: { syncPeriodMs: POLL_MS },
    hostLabels: { n1: { site: 'lab' }, n2: { site: 'lab' } },
  });
  ({ cp, lab, kube } = world);
  events = cp.kubeConfig().makeApiClient(EventsV1Api);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

describe('DockerNetwork', () => {
  it('is created on every matching host with its IPAM config and owner labels, and reports Ready 2/2', async () => {
    const created = await kube.create('DockerNetwork', NS, 'web', {
      hostSelector: { matchLabels: { site: 'lab' } },
      internal: true,
      attachable: true,
      ipam: { config: [{ subnet: '10.231.1.0/24', gateway: '10.231.1.1', ipRange: '10.231.1.128/25' }] },
      options: { 'com.docker.network.driver.mtu': '1400' },
      labels: { app: 'web' },
    });
    const ready = await kube.waitFor('DockerNetwork', NS, 'web', isReady, 'Ready');
    expect(ready.status?.hostsReady).toBe('2/2');
    expect(ready.status?.hosts?.map((h) => `${h.name}:${h.phase}`)).toEqual(['n1:Ready', 'n2:Ready']);
    expect(ready.metadata.finalizers).toContain('dockyard.io/cleanup');
    for (const node of NODES) {
      const n = await networkOn(node, `${NS}.web`);
      expect(n?.Internal).toBe(true);
      expect(n?.Attachable).toBe(true);
      expect(n?.IPAM.Config).toEqual([
        { Subnet: '10.231.1.0/24', Gateway: '10.231.1.1', IPRange: '10.231.1.128/25' },
      ]);
      expect(n?.Labels).toMatchObject({
        app: 'web',
        'dockyard.io/uid': created.metadata.uid,
        'dockyard.io/namespace': NS,
        'dockyard.io/name': 'web',
        'dockyard.io/kind': 'DockerNetwork',
        'dockyard.io/deletion-policy': 'Delete',
      });
      expect(n?.Labels?.['dockyard.io/spec-hash']).toMatch(/^[0-9a-f]{16}$/);
      const entry = ready.status?.hosts?.find((h) => h.name === node);
      expect(entry).toMatchObject({ id: n?.Id, networkName: `${NS}.web`, subnets: ['10.231.1.0/24'] });
    }
    await waitForEvent('web', 'Created');
  });

  it('puts back a network removed out of band within seconds (event-driven)', async () => {
    const before = await networkOn('n1', `${NS}.web`);
    await lab.node('n1').client().getNetwork(`${NS}.web`).remove();
    const t0 = Date.now();
    const after = await waitFor(async () => networkOn('n1', `${NS}.web`), {
      timeoutMs: 10_000,
      what: 'network repaired on n1',
    });
    // Well under the poll interval: the Docker event did it.
    expect(Date.now() - t0).toBeLessThan(POLL_MS);
    expect(after.Id).not.toBe(before?.Id);
    expect(subnetsOf(after)).toEqual(['10.231.1.0/24']);
    await waitForEvent('web', 'DriftRepaired');
    await kube.waitFor('DockerNetwork', NS, 'web', (o) => hostIds(o).n1 === after.Id, 'new id in status');
  });

  it('puts it back within one poll interval when the event stream is blocked', async () => {
    const runtime = world.dockyard.controllers.hostRuntime;
    runtime.blockEventStream('n2', true);
    try {
      await lab.node('n2').client().getNetwork(`${NS}.web`).remove();
      const t0 = Date.now();
      await waitFor(async () => networkOn('n2', `${NS}.web`), {
        timeoutMs: POLL_MS * 3,
        what: 'network repaired on n2 by polling',
      });
      expect(Date.now() - t0).toBeLessThan(POLL_MS * 2 + 2_000);
      // No Docker event can have done it: n2 has had no event stream all along.
      expect(runtime.hasEventStream('n2')).toBe(false);
    } finally {
      runtime.blockEventStream('n2', false);
    }
  });

  it('recreates it on a spec change when nothing is attached', async () => {
    const before = await kube.waitFor('DockerNetwork', NS, 'web', isReady, 'Ready');
    await kube.patch('DockerNetwork', NS, 'web', {
      spec: { ipam: { config: [{ subnet: '10.231.2.0/24' }] } },
    });
    const after = await kube.waitFor(
      'DockerNetwork',
      NS,
      'web',
      (o) => isReady(o) && o.status?.hostsReady === '2/2',
      'Ready with the new spec',
    );
    for (const node of NODES) {
      const n = await networkOn(node, `${NS}.web`);
      expect(subnetsOf(n)).toEqual(['10.231.2.0/24']);
      expect(n?.Id).toBe(hostIds(after)[node]);
      expect(n?.Id).not.toBe(hostIds(before)[node]);
    }
    await waitForEvent('web', 'Recreated');
  });

  it('with a container attached, a spec change is Stalled RecreateRequired naming it, and the network stays', async () => {
    const pinned = await attach('n1', `${NS}.web`, 'pinned');
    const before = await networkOn('n1', `${NS}.web`);
    await kube.patch('DockerNetwork', NS, 'web', {
      spec: { ipam: { config: [{ subnet: '10.231.3.0/24' }] } },
    });
    const stalled = await kube.waitFor(
      'DockerNetwork',
      NS,
      'web',
      (o) => stalledWith('RecreateRequired')(o) && o.status?.observedGeneration === o.metadata.generation,
      'Stalled RecreateRequired',
    );
    expect(condition(stalled, 'Stalled')?.message).toContain('in use by pinned');
    expect(condition(stalled, 'Ready')?.status).toBe('False');
    expect(stalled.status?.hosts?.find((h) => h.name === 'n1')?.phase).toBe('RecreateRequired');
    await waitForEvent('web', 'RecreateRequired');
    // Untouched on n1: same network, old subnet, container still attached.
    const still = await networkOn('n1', `${NS}.web`);
    expect(still?.Id).toBe(before?.Id);
    expect(subnetsOf(still)).toEqual(['10.231.2.0/24']);
    expect(Object.values(still?.Containers ?? {}).map((c) => c.Name)).toEqual(['pinned']);
    // Nothing is attached on n2: recreated there.
    await waitFor(async () => subnetsOf(await networkOn('n2', `${NS}.web`))[0] === '10.231.3.0/24', {
      timeoutMs: 10_000,
      what: 'n2 recreated with the new subnet',
    });

    // Once the container is gone, n1 follows by itself.
    await pinned.remove({ force: true });
    await kube.waitFor(
      'DockerNetwork',
      NS,
      'web',
      (o) => isReady(o) && o.status?.hostsReady === '2/2',
      'Ready 2/2 after the container left',
    );
    expect(subnetsOf(await networkOn('n1', `${NS}.web`))).toEqual(['10.231.3.0/24']);
  });

  it('observes only while paused', async () => {
    await kube.patch('DockerNetwork', NS, 'web', {
      metadata: { annotations: { 'dockyard.io/paused': 'true' } },
    });
    await kube.waitFor(
      'DockerNetwork',
      NS,
      'web',
      (o) => o.status?.hosts?.every((h) => h.phase === 'Paused') === true,
      'Paused on every host',
    );
    await lab.node('n1').client().getNetwork(`${NS}.web`).remove();
    await new Promise((r) => setTimeout(r, POLL_MS + 1_000));
    expect(await networkOn('n1', `${NS}.web`)).toBeUndefined();
    await kube.patch('DockerNetwork', NS, 'web', {
      metadata: { annotations: { 'dockyard.io/paused': null } },
    });
    await waitFor(async () => networkOn('n1', `${NS}.web`), {
      timeoutMs: 10_000,
      what: 'created after resume',
    });
    await kube.waitFor('DockerNetwork', NS, 'web', isReady, 'Ready after resume');
  });

  it('on delete, keeps the finalizer while a container is attached ("in use by"), and removes it everywhere after', async () => {
    const blocker = await attach('n2', `${NS}.web`, 'blocker');
    await kube.delete('DockerNetwork', NS, 'web');
    const deleting = await kube.waitFor(
      'DockerNetwork',
      NS,
      'web',
      (o) => o.status?.phase === 'Deleting' && o.status.hosts?.length === 1,
      'Deleting, held on n2',
    );
    expect(deleting.status?.hosts?.[0]?.name).toBe('n2');
    expect(deleting.status?.hosts?.[0]?.message).toContain('in use by blocker');
    expect(await networkOn('n1', `${NS}.web`)).toBeUndefined();
    // Nothing was disconnected.
    const held = await networkOn('n2', `${NS}.web`);
    expect(Object.values(held?.Containers ?? {}).map((c) => c.Name)).toEqual(['blocker']);

    await blocker.remove({ force: true });
    await kube.waitForGone('DockerNetwork', NS, 'web');
    for (const node of NODES) expect(await networkOn(node, `${NS}.web`)).toBeUndefined();
  });

  it('never touches a foreign network with its name: NameConflict', async () => {
    const foreign = await lab
      .node('n1')
      .client()
      .createNetwork({ Name: `${NS}.foreign`, CheckDuplicate: true, Labels: { app: 'not-dockyard' } });
    await kube.create('DockerNetwork', NS, 'foreign', {
      hostName: 'n1',
      ipam: { config: [{ subnet: '10.231.9.0/24' }] },
    });
    const obj = await kube.waitFor(
      'DockerNetwork',
      NS,
      'foreign',
      stalledWith('NameConflict'),
      'NameConflict',
    );
    expect(condition(obj, 'Ready')?.status).toBe('False');
    expect(condition(obj, 'Stalled')?.message).toContain('not owned by this DockerNetwork');
    await waitForEvent('foreign', 'NameConflict');
    await kube.delete('DockerNetwork', NS, 'foreign');
    await kube.waitForGone('DockerNetwork', NS, 'foreign');
    const after = await networksOn('n1', `${NS}.foreign`);
    expect(after.map((n) => n.Id)).toEqual([foreign.id]);
    expect(after[0]?.Labels).toEqual({ app: 'not-dockyard' });
    await foreign.remove();
  });

  it('keeps one of two networks of its own with the same name (the one in status) and removes the other', async () => {
    const obj = await kube.create('DockerNetwork', NS, 'dup', { hostName: 'n1' });
    const ready = await kube.waitFor('DockerNetwork', NS, 'dup', isReady, 'Ready');
    const keeper = hostIds(ready).n1;
    const original = await networkOn('n1', `${NS}.dup`);
    expect(original?.Id).toBe(keeper);
    // What racing creates on Engine 20.10 leave behind: same name, same labels.
    // (Without CheckDuplicate, 20.10 accepts a duplicate name outright.)
    const docker = lab.node('n1').client();
    await docker.createNetwork({ Name: `${NS}.dup`, CheckDuplicate: false, Labels: original?.Labels ?? {} });
    await docker.createNetwork({ Name: `${NS}.dup`, CheckDuplicate: false, Labels: original?.Labels ?? {} });
    await waitFor(async () => (await networksOn('n1', `${NS}.dup`)).length === 1, {
      timeoutMs: POLL_MS * 3,
      what: 'duplicates removed',
    });
    expect((await networksOn('n1', `${NS}.dup`))[0]?.Id).toBe(keeper);
    await waitForEvent('dup', 'DuplicateRemoved');
    expect(obj.metadata.uid).toBe(original?.Labels?.['dockyard.io/uid']);

    // A duplicate that a container may use stays (nothing is disconnected), and the name is ambiguous meanwhile.
    // The container is created (not started) while the name is unique: it knows the network only by name,
    // so it counts as attached to every network with that name.
    const user = await lab
      .node('n1')
      .client()
      .createContainer({
        name: 'dup-user',
        Image: lab.workloadImage,
        Cmd: ['sleep', '3600'],
        HostConfig: { NetworkMode: `${NS}.dup` },
      });
    const extra = await docker.createNetwork({
      Name: `${NS}.dup`,
      CheckDuplicate: false,
      Labels: original?.Labels ?? {},
    });
    const failing = await kube.waitFor(
      'DockerNetwork',
      NS,
      'dup',
      (o) => condition(o, 'Ready')?.reason === 'DuplicateNetworks',
      'DuplicateNetworks',
    );
    expect(condition(failing, 'Ready')?.message).toContain('in use by dup-user');
    expect(failing.status?.hosts?.[0]).toMatchObject({ phase: 'DuplicateNetworks', id: keeper });
    expect((await networksOn('n1', `${NS}.dup`)).map((n) => n.Id).sort()).toEqual([keeper, extra.id].sort());
    await user.remove({ force: true });
    await kube.waitFor('DockerNetwork', NS, 'dup', isReady, 'Ready once the duplicate is free and removed');
    expect((await networksOn('n1', `${NS}.dup`)).map((n) => n.Id)).toEqual([keeper]);
    await kube.delete('DockerNetwork', NS, 'dup');
    await kube.waitForGone('DockerNetwork', NS, 'dup');
    expect(await networksOn('n1', `${NS}.dup`)).toEqual([]);
  });

  it('concurrent creation on one host never produces duplicate names', async () => {
    const distinct = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    const sharing = ['s1', 's2', 's3', 's4', 's5', 's6'];
    await Promise.all([
      ...distinct.map((name) => kube.create('DockerNetwork', NS, name, { hostName: 'n1' })),
      ...sharing.map((name) =>
        kube.create('DockerNetwork', NS, name, { hostName: 'n1', networkName: 'shared' }),
      ),
    ]);
    await Promise.all(distinct.map((name) => kube.waitFor('DockerNetwork', NS, name, isReady, 'Ready')));
    const settled = await Promise.all(
      sharing.map((name) =>
        kube.waitFor(
          'DockerNetwork',
          NS,
          name,
          (o) => isReady(o) || stalledWith('NameConflict')(o),
          'Ready or NameConflict',
        ),
      ),
    );
    // Exactly one of the six owns "shared"; the others see it as someone else's.
    expect(settled.filter((o) => isReady(o)).length).toBe(1);
    expect(settled.filter(stalledWith('NameConflict')).length).toBe(5);
    const winner = settled.find((o) => isReady(o));
    const shared = await networksOn('n1', 'shared');
    expect(shared.map((n) => n.Labels?.['dockyard.io/name'])).toEqual([winner?.metadata.name]);

    const ours = (await networkNames('n1')).filter((n) => n === 'shared' || n.startsWith(`${NS}.c`));
    expect(ours.sort()).toEqual(['shared', ...distinct.map((name) => `${NS}.${name}`)].sort());

    await Promise.all([...distinct, ...sharing].map((name) => kube.delete('DockerNetwork', NS, name)));
    await Promise.all([...distinct, ...sharing].map((name) => kube.waitForGone('DockerNetwork', NS, name)));
    const left = await networkNames('n1');
    expect(left.filter((n) => n === 'shared' || n.startsWith(`${NS}.c`))).toEqual([]);
  });

  it('a host that stops matching keeps it, flagged PlacementMatched=False (no eviction by relabelling)', async () => {
    await kube.create('DockerNetwork', NS, 'placed', {
      hostSelector: { matchLabels: { site: 'lab' } },
      ipam: { config: [{ subnet: '10.231.5.0/24' }] },
    });
    await kube.waitFor(
      'DockerNetwork',
      NS,
      'placed',
      (o) => isReady(o) && o.status?.hostsReady === '2/2',
      'Ready on 2 hosts',
    );
    await kube.patch('DockerHost', undefined, 'n2', { metadata: { labels: { site: 'elsewhere' } } });
    try {
      await kube.waitFor(
        'DockerNetwork',
        NS,
        'placed',
        (o) =>
          isReady(o) &&
          o.status?.hostsReady === '2/2' &&
          condition(o, 'PlacementMatched')?.reason === 'HostNoLongerMatches',
        'kept on n2 with PlacementMatched=False',
      );
      expect(subnetsOf(await networkOn('n2', `${NS}.placed`))).toEqual(['10.231.5.0/24']);
      expect(subnetsOf(await networkOn('n1', `${NS}.placed`))).toEqual(['10.231.5.0/24']);
    } finally {
      await kube.patch('DockerHost', undefined, 'n2', { metadata: { labels: { site: 'lab' } } });
    }
    await kube.waitFor(
      'DockerNetwork',
      NS,
      'placed',
      (o) => isReady(o) && o.status?.hostsReady === '2/2' && condition(o, 'PlacementMatched') === undefined,
      'matching on 2 hosts again',
    );
    await kube.delete('DockerNetwork', NS, 'placed');
    await kube.waitForGone('DockerNetwork', NS, 'placed');
    for (const node of NODES) expect(await networkOn(node, `${NS}.placed`)).toBeUndefined();
  });
});
