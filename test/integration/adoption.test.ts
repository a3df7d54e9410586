import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { startSingleNodeWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// Issue #12 item 4 on the real API server and a real DinD node: objects kept
// by deletionPolicy Orphan, and objects made by hand, are taken over only by
// a resource that asks (spec.adoptionPolicy: IfOrphaned), never from another
// namespace, never a hand-made one unless the DockerHost allows it; data and
// volumes stay; the claim lives in the DockerHost's status and goes with
// the resource.

let world: World;
let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
let image: string;
const NS = 'adopt';
const OTHER = 'adopt-other';

const docker = () => lab.node('n1').client();

async function volumeExists(name: string): Promise<boolean> {
  try {
    await docker().getVolume(name).inspect();
    return true;
  } catch {
    return false;
  }
}

async function writeMarker(volume: string, text: string): Promise<void> {
  await lab
    .node('n1')
    .exec(['sh', '-c', `echo ${text} > "$(docker volume inspect -f '{{.Mountpoint}}' ${volume})/marker"`]);
}

async function readMarker(volume: string): Promise<string> {
  const { output } = await lab
    .node('n1')
    .exec(['sh', '-c', `cat "$(docker volume inspect -f '{{.Mountpoint}}' ${volume})/marker"`]);
  return output.trim();
}

async function eventReasons(namespace: string, name: string): Promise<string[]> {
  const list = await cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
  return list.items.filter((e) => e.regarding?.name === name).map((e) => e.reason ?? '');
}

async function adoptedOnHost(): Promise<Array<{ type: string; dockerName: string; uid: string }>> {
  const host = await kube.get('DockerHost', undefined, 'n1');
  return ((host?.status as { adoptedObjects?: unknown[] } | undefined)?.adoptedObjects ?? []) as Array<{
    type: string;
    dockerName: string;
    uid: string;
  }>;
}

const stalled = (reason: string) => (o: DockyardObject) =>
  condition(o, 'Stalled')?.reason === reason && o.status?.observedGeneration === o.metadata.generation;

beforeAll(async () => {
  world = await startSingleNodeWorld({
    namespaces: [NS, OTHER],
    dockyard: { syncPeriodMs: 4_000, orphanSweepIntervalMs: 2_000 },
  });
  ({ cp, lab, kube, image } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

describe('explicit adoption', () => {
  it('takes an Orphan volume back, data included, only when asked, and lets go on delete', async () => {
    await kube.create('DockerVolume', NS, 'data', { hostName: 'n1' });
    await kube.waitFor('DockerVolume', NS, 'data', isReady, 'Ready');
    await writeMarker(`${NS}.data`, 'precious');
    await kube.delete('DockerVolume', NS, 'data');
    await kube.waitForGone('DockerVolume', NS, 'data');
    expect(await volumeExists(`${NS}.data`)).toBe(true);

    // Not asked: the kept volume is someone else's, as before.
    await kube.create('DockerVolume', NS, 'data', { hostName: 'n1' });
    const conflict = await kube.waitFor('DockerVolume', NS, 'data', stalled('NameConflict'), 'NameConflict');
    expect(condition(conflict, 'Ready')?.status).toBe('False');
    expect(condition(conflict, 'Stalled')?.message).toContain('spec.adoptionPolicy: IfOrphaned');

    await kube.patch('DockerVolume', NS, 'data', { spec: { adoptionPolicy: 'IfOrphaned' } });
    const adopted = await kube.waitFor('DockerVolume', NS, 'data', isReady, 'Ready after adoption');
    expect(adopted.status?.hosts?.[0]?.adopted).toBe(true);
    expect(await readMarker(`${NS}.data`)).toBe('precious');
    expect(await eventReasons(NS, 'data')).toContain('Adopted');
    const uid = adopted.metadata.uid;
    expect(await adoptedOnHost()).toContainEqual(
      expect.objectContaining({ type: 'volume', dockerName: `${NS}.data`, uid }),
    );
    // The sweep reads the uid its labels name as released: it keeps the volume.
    const host = await kube.get('DockerHost', undefined, 'n1');
    const labelled = (await docker().getVolume(`${NS}.data`).inspect()).Labels?.['dockyard.io/uid'];
    expect(
      ((host?.status as { releasedOwners?: Array<{ uid: string }> }).releasedOwners ?? []).map((r) => r.uid),
    ).toContain(labelled);

    // Deleted again (Orphan): the claim goes, the volume and its data stay.
    await kube.delete('DockerVolume', NS, 'data');
    await kube.waitForGone('DockerVolume', NS, 'data');
    await waitFor(async () => !(await adoptedOnHost()).some((a) => a.uid === uid), {
      timeoutMs: 20_000,
      what: 'the claim dropped',
    });
    expect(await readMarker(`${NS}.data`)).toBe('precious');
  });

  it('never takes another namespace’s orphan, and says so without naming it', async () => {
    await kube.create('DockerVolume', NS, 'shared', { hostName: 'n1', volumeName: 'shared-data' });
    await kube.waitFor('DockerVolume', NS, 'shared', isReady, 'Ready');
    await writeMarker('shared-data', 'team-adopt');
    await kube.delete('DockerVolume', NS, 'shared');
    await kube.waitForGone('DockerVolume', NS, 'shared');

    await kube.create('DockerVolume', OTHER, 'grab', {
      hostName: 'n1',
      volumeName: 'shared-data',
      adoptionPolicy: 'IfOrphaned',
    });
    const refused = await kube.waitFor('DockerVolume', OTHER, 'grab', stalled('NameConflict'), 'refused');
    const message = condition(refused, 'Stalled')?.message ?? '';
    expect(message).toContain('created it for another namespace');
    expect(message).not.toContain(NS + '/');
    expect(message).not.toMatch(/\bshared\b(?!-data)/);
    expect(await readMarker('shared-data')).toBe('team-adopt');
  });

  it('adopts hand-made objects only where the DockerHost allows it: volume, network, container', async () => {
    await docker().createVolume({ Name: 'handmade' });
    await writeMarker('handmade', 'by-hand');
    await kube.create('DockerVolume', NS, 'hm', {
      hostName: 'n1',
      volumeName: 'handmade',
      adoptionPolicy: 'IfOrphaned',
    });
    const refused = await kube.waitFor('DockerVolume', NS, 'hm', stalled('NameConflict'), 'refused');
    expect(condition(refused, 'Stalled')?.message).toContain('allowAdoptingUnlabelled');

    await kube.patch('DockerHost', undefined, 'n1', {
      spec: { securityPolicySettings: { allowAdoptingUnlabelled: true } },
    });
    const volume = await kube.waitFor('DockerVolume', NS, 'hm', isReady, 'adopted', 40_000);
    expect(volume.status?.hosts?.[0]?.adopted).toBe(true);
    expect(await readMarker('handmade')).toBe('by-hand');

    await docker().createNetwork({ Name: 'handnet', Driver: 'bridge' });
    await kube.create('DockerNetwork', NS, 'hn', {
      hostName: 'n1',
      networkName: 'handnet',
      adoptionPolicy: 'IfOrphaned',
    });
    const network = await kube.waitFor('DockerNetwork', NS, 'hn', isReady, 'adopted', 40_000);
    expect(network.status?.hosts?.[0]?.adopted).toBe(true);
    expect(await eventReasons(NS, 'hn')).toContain('Adopted');

    // A hand-run container with an anonymous volume holding its data.
    const legacy = await docker().createContainer({
      name: 'legacy',
      Image: image,
      Cmd: ['sh', '-c', 'echo kept > /data/marker; sleep 3600'],
      Volumes: { '/data': {} },
    });
    await legacy.start();
    await kube.create('DockerContainer', NS, 'legacy', {
      hostName: 'n1',
      image,
      containerName: 'legacy',
      command: ['sleep', '3600'],
      adoptionPolicy: 'IfOrphaned',
    });
    const container = await kube.waitFor('DockerContainer', NS, 'legacy', isReady, 'adopted', 60_000);
    const now = await docker().getContainer('legacy').inspect();
    expect(now.Id).not.toBe(legacy.id);
    expect(now.Config.Labels['dockyard.io/uid']).toBe(container.metadata.uid);
    const { output } = await lab.node('n1').exec(['docker', 'exec', 'legacy', 'cat', '/data/marker']);
    expect(output.trim()).toBe('kept');
    expect(await eventReasons(NS, 'legacy')).toContain('Adopted');
  });
});
