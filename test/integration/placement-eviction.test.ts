import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { condition, isReady, Kube, registerLabHosts, type DockyardObject } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';

// No eviction by accident (issue #12 item 3), on two real nodes: a host whose
// labels or allowedNamespaces change keeps what runs there (flagged with
// PlacementMatched=False); an object's own placement change creates on the
// new host first and removes from the old one only after; spec.drain empties
// a host; deleting a DockerHost waits for what is placed on it.

let cp: ControlPlane;
let lab: Lab;
let dockyard: RunningDockyard;
let kube: Kube;
const NS = 'team-p';
const POLL_MS = 3_000;
let image: string;

async function running(node: string, name: string): Promise<boolean | undefined> {
  try {
    return (await lab.node(node).client().getContainer(name).inspect()).State.Running;
  } catch {
    return undefined;
  }
}

async function volumeOn(node: string, name: string): Promise<boolean> {
  try {
    await lab.node(node).client().getVolume(name).inspect();
    return true;
  } catch {
    return false;
  }
}

/** kube.waitFor, with the object's last status in the error (these tests wait on conditions). */
async function waitOn(
  kind: string,
  namespace: string | undefined,
  name: string,
  predicate: (o: DockyardObject) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<DockyardObject> {
  try {
    return await kube.waitFor(kind, namespace, name, predicate, what, timeoutMs);
  } catch (err) {
    const last = await kube.get(kind, namespace, name);
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status)}`, {
      cause: err,
    });
  }
}

async function gone(kind: string, namespace: string | undefined, name: string, timeoutMs = 30_000) {
  try {
    await kube.waitForGone(kind, namespace, name, timeoutMs);
  } catch (err) {
    const last = await kube.get(kind, namespace, name);
    const hosts = await Promise.all(['n1', 'n2'].map((h) => kube.get('DockerHost', undefined, h)));
    throw new Error(
      `${(err as Error).message}; last status: ${JSON.stringify(last?.status)}; ` +
        `hosts: ${JSON.stringify(hosts.map((h) => h?.status?.conditions))}`,
      { cause: err },
    );
  }
}

const hostNames = (o: DockyardObject) => (o.status?.hosts ?? []).map((h) => h.name).sort();
const hostReadyIs = (status: string) => (o: DockyardObject) => condition(o, 'Ready')?.status === status;

beforeAll(async () => {
  [cp, lab] = await Promise.all([startControlPlane(), startLab({ nodes: [{ name: 'n1' }, { name: 'n2' }] })]);
  image = lab.workloadImage;
  await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, image)));
  kube = new Kube(cp);
  dockyard = await startDockyard(cp, { syncPeriodMs: POLL_MS });
  await kube.namespace(NS, { tier: 'bronze' });
  await registerLabHosts(kube, lab, { n1: { site: 'lab' }, n2: { site: 'lab' } });
}, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await dockyard?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

describe('placement without accidental eviction', () => {
  it('keeps a container running on a host whose labels and allowedNamespaces change, with PlacementMatched=False', async () => {
    await kube.create('DockerContainer', NS, 'stay', {
      hostSelector: { matchLabels: { site: 'lab' } },
      image,
      command: ['sleep', '3600'],
    });
    await waitOn('DockerContainer', NS, 'stay', (o) => isReady(o) && o.status?.hostsReady === '2/2', '2/2');

    await kube.patch('DockerHost', undefined, 'n2', { metadata: { labels: { site: 'elsewhere' } } });
    const flagged = await waitOn(
      'DockerContainer',
      NS,
      'stay',
      (o) => condition(o, 'PlacementMatched')?.status === 'False',
      'PlacementMatched=False',
    );
    expect(condition(flagged, 'PlacementMatched')).toMatchObject({
      reason: 'HostNoLongerMatches',
      message: expect.stringContaining('DockerHost n2 no longer matches'),
    });
    // Still Ready (kstatus Current, Argo CD Healthy) and still on both hosts.
    expect(isReady(flagged)).toBe(true);
    expect(flagged.status?.hostsReady).toBe('2/2');
    expect(condition(flagged, 'Ready')?.message).toContain('kept on n2 (HostNoLongerMatches)');
    // Give a removal every chance to happen (a poll interval and then some): none does.
    await new Promise((r) => setTimeout(r, POLL_MS * 2));
    expect(await running('n2', `${NS}.stay`)).toBe(true);
    expect(await running('n1', `${NS}.stay`)).toBe(true);

    // And still reconciled there: removed out of band, it is put back.
    await lab.node('n2').client().getContainer(`${NS}.stay`).remove({ force: true });
    await waitFor(async () => (await running('n2', `${NS}.stay`)) === true, {
      timeoutMs: 30_000,
      what: 'container put back on the host that no longer matches',
    });

    // allowedNamespaces now excludes the namespace: kept too, with its own reason.
    await kube.patch('DockerHost', undefined, 'n2', {
      metadata: { labels: { site: 'lab' } },
      spec: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { tier: 'gold' } } } },
    });
    const notAllowed = await waitOn(
      'DockerContainer',
      NS,
      'stay',
      (o) => condition(o, 'PlacementMatched')?.reason === 'NamespaceNoLongerAllowed',
      'PlacementMatched NamespaceNoLongerAllowed',
    );
    expect(isReady(notAllowed)).toBe(true);
    expect(await running('n2', `${NS}.stay`)).toBe(true);

    await kube.patch('DockerHost', undefined, 'n2', { spec: { allowedNamespaces: null } });
    await waitOn(
      'DockerContainer',
      NS,
      'stay',
      (o) => isReady(o) && condition(o, 'PlacementMatched') === undefined,
      'PlacementMatched gone once it matches again',
    );
    await kube.delete('DockerContainer', NS, 'stay');
    await gone('DockerContainer', NS, 'stay');
  });

  it('on its own placement change, creates on the new host first and removes from the old one after', async () => {
    await kube.create('DockerContainer', NS, 'mover', { hostName: 'n1', image, command: ['sleep', '3600'] });
    await waitOn('DockerContainer', NS, 'mover', isReady, 'Ready on n1');

    // The new host cannot take it yet (its DockerHost points nowhere: not Ready within a
    // heartbeat, and back at once, unlike a node restart): the old one must keep running.
    const endpoint = (await kube.get('DockerHost', undefined, 'n2'))?.spec.endpoint;
    await kube.patch('DockerHost', undefined, 'n2', { spec: { endpoint: 'tcp://127.0.0.1:1' } });
    try {
      await waitOn('DockerHost', undefined, 'n2', hostReadyIs('False'), 'NotReady');
      await kube.patch('DockerContainer', NS, 'mover', { spec: { hostSelector: null, hostName: 'n2' } });
      const waiting = await waitOn(
        'DockerContainer',
        NS,
        'mover',
        (o) =>
          o.status?.observedGeneration === o.metadata.generation &&
          o.status?.hosts?.find((h) => h.name === 'n1')?.phase === 'Removing',
        'n1 waiting for removal',
      );
      expect(String(waiting.status?.hosts?.find((h) => h.name === 'n1')?.message)).toContain(
        'waiting for n2 to be Ready before removing here',
      );
      await new Promise((r) => setTimeout(r, POLL_MS));
      expect(await running('n1', `${NS}.mover`)).toBe(true);
    } finally {
      await kube.patch('DockerHost', undefined, 'n2', { spec: { endpoint } });
    }
    const moved = await waitOn(
      'DockerContainer',
      NS,
      'mover',
      (o) => isReady(o) && hostNames(o).join() === 'n2',
      'moved to n2 only',
      60_000,
    );
    expect(moved.status?.hostsReady).toBe('1/1');
    expect(await running('n2', `${NS}.mover`)).toBe(true);
    expect(await running('n1', `${NS}.mover`)).toBeUndefined();
    await kube.delete('DockerContainer', NS, 'mover');
    await gone('DockerContainer', NS, 'mover');
  });

  it('spec.drain removes objects from the host per their deletionPolicy and reports progress', async () => {
    await kube.create('DockerContainer', NS, 'drained', {
      hostName: 'n1',
      image,
      command: ['sleep', '3600'],
    });
    await kube.create('DockerVolume', NS, 'kept-data', { hostName: 'n1' }); // default Orphan
    await waitOn('DockerContainer', NS, 'drained', isReady, 'Ready');
    await waitOn('DockerVolume', NS, 'kept-data', isReady, 'Ready');

    await kube.patch('DockerHost', undefined, 'n1', { spec: { drain: true } });
    try {
      const host = await waitOn(
        'DockerHost',
        undefined,
        'n1',
        (o) => condition(o, 'Drained')?.status === 'True',
        'Drained',
      );
      expect(condition(host, 'Drained')?.reason).toBe('Drained');
      expect(condition(host, 'Ready')?.status).toBe('True');
      expect(await running('n1', `${NS}.drained`)).toBeUndefined();
      // Orphan: left in place, no longer managed here.
      expect(await volumeOn('n1', `${NS}.kept-data`)).toBe(true);
      const c = await waitOn(
        'DockerContainer',
        NS,
        'drained',
        (o) => condition(o, 'Ready')?.reason === 'HostDraining',
        'refused by the draining host',
      );
      expect(hostNames(c)).toEqual([]);
    } finally {
      await kube.patch('DockerHost', undefined, 'n1', { spec: { drain: null } });
    }
    // Undrained: it takes new placements again.
    await waitOn('DockerContainer', NS, 'drained', isReady, 'Ready again after undrain', 60_000);
    expect(await running('n1', `${NS}.drained`)).toBe(true);
    await kube.delete('DockerContainer', NS, 'drained');
    await kube.delete('DockerVolume', NS, 'kept-data');
    await gone('DockerContainer', NS, 'drained');
    await gone('DockerVolume', NS, 'kept-data');
  });

  it('a deleted DockerHost waits for the objects placed on it (ObjectsStillPlaced) and cleans them up through itself', async () => {
    await kube.create('DockerContainer', NS, 'pinned', {
      hostName: 'n2',
      image,
      command: ['sleep', '3600'],
      deletionPolicy: 'Delete',
    });
    await waitOn('DockerContainer', NS, 'pinned', isReady, 'Ready');

    await kube.delete('DockerHost', undefined, 'n2');
    const held = await waitOn(
      'DockerHost',
      undefined,
      'n2',
      (o) => condition(o, 'Terminating')?.status === 'True',
      'Terminating held',
    );
    expect(condition(held, 'Terminating')).toMatchObject({
      reason: 'ObjectsStillPlaced',
      message: expect.stringContaining(`DockerContainer 1 (${NS}/pinned)`),
    });
    // Held, not just slow: still there a while later, the container still running and managed.
    await new Promise((r) => setTimeout(r, POLL_MS * 2));
    expect(await kube.get('DockerHost', undefined, 'n2')).toBeDefined();
    expect(await running('n2', `${NS}.pinned`)).toBe(true);
    const pinned = await kube.get('DockerContainer', NS, 'pinned');
    expect(condition(pinned, 'PlacementMatched')?.reason).toBe('HostTerminating');

    // The object goes: its Delete policy is carried out through the deleted host, then the host goes.
    await kube.delete('DockerContainer', NS, 'pinned');
    await gone('DockerContainer', NS, 'pinned');
    expect(await running('n2', `${NS}.pinned`)).toBeUndefined();
    await gone('DockerHost', undefined, 'n2');
  });
});
