import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { labRegistry, registrySecret } from '../support/registry.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// A dependency's later status does not make a running container not ready
// (as a Pod's readiness does not follow its volume objects, and Compose's
// depends_on orders creation only): a DockerImage whose new image cannot be
// pulled, or a paused DockerVolume, leaves the container Ready and untouched.
// A container that is not created yet, or must be recreated, still waits.

let world: World;
let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
const NS = 'held';
const NODE = 'n1';
const SYNC_MS = 3_000;

const entry = (o: DockyardObject | undefined) => o?.status?.hosts?.find((h) => h.name === NODE);
const messageOf = (o: DockyardObject | undefined) => String(entry(o)?.message ?? '');

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: NODE }], registry: true },
    namespaces: [NS],
    dockyard: { syncPeriodMs: SYNC_MS },
  });
  ({ cp, lab, kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

/** DependencyNotReady Events of `name`, with how often each was recorded. */
async function heldEvents(name: string): Promise<Array<{ note: string; count: number }>> {
  const list = await cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items
    .filter((e) => e.regarding?.name === name && e.reason === 'DependencyNotReady')
    .map((e) => ({ note: e.note ?? '', count: e.series?.count ?? 1 }));
}

async function inspect(name: string) {
  return lab
    .node(NODE)
    .client()
    .getContainer(`${NS}.${name}`)
    .inspect()
    .catch(() => undefined);
}

/** Several looks of the controller (periodic syncs and the DockerImage's retries). */
const severalSyncs = () => new Promise((resolve) => setTimeout(resolve, 3 * SYNC_MS));

describe('a running container and its dependencies’ later status', () => {
  let repo = '';
  let firstId = '';

  it('stays Ready and untouched while its DockerImage cannot pull a changed image and its DockerVolume is paused', async () => {
    const { registry, seeded } = labRegistry(lab);
    repo = `${registry.address}/${seeded.repository}`;
    await registry.pushImage(lab.hostDocker, lab.workloadImage, seeded.repository, 'held');
    await registrySecret(kube, { namespace: NS, name: 'regcred', registry });
    await kube.create('DockerImage', NS, 'app', {
      hostName: NODE,
      image: `${repo}:held`,
      pullSecrets: [{ name: 'regcred' }],
    });
    await kube.create('DockerVolume', NS, 'data', { hostName: NODE });
    await kube.create('DockerContainer', NS, 'web', {
      hostName: NODE,
      imageRef: { name: 'app' },
      command: ['sleep', '3600'],
      mounts: [{ type: 'volume', volume: 'data', target: '/data' }],
    });
    await kube.waitFor('DockerContainer', NS, 'web', isReady, 'Ready', 60_000);
    const before = await inspect('web');
    if (!before) throw new Error('web not created');
    firstId = before.Id;

    // The DockerImage now names a tag that was never pushed: its pull fails.
    await kube.patch('DockerImage', NS, 'app', { spec: { image: `${repo}:never-pushed` } });
    await kube.waitFor('DockerImage', NS, 'app', (o) => entry(o)?.phase === 'Failed', 'pull Failed', 60_000);
    // The container's entry says what it does without (the controller has looked since).
    const held = await kube.waitFor(
      'DockerContainer',
      NS,
      'web',
      (o) => messageOf(o).startsWith('DockerImage/app is not ready on this host'),
      'held on the image',
      30_000,
    );
    expect(isReady(held)).toBe(true);
    expect(entry(held)?.phase).toBe('Running');

    await kube.patch('DockerVolume', NS, 'data', {
      metadata: { annotations: { 'dockyard.io/paused': 'true' } },
    });
    await kube.waitFor('DockerVolume', NS, 'data', (o) => entry(o)?.phase === 'Paused', 'Paused');
    await kube.waitFor(
      'DockerContainer',
      NS,
      'web',
      (o) => messageOf(o).startsWith('DockerVolume/data, DockerImage/app are not ready'),
      'held on the volume and the image',
    );
    await severalSyncs();

    const after = await kube.get('DockerContainer', NS, 'web');
    expect(isReady(after as DockyardObject)).toBe(true);
    expect(condition(after, 'Ready')?.status).toBe('True');
    const now = await inspect('web');
    expect(now?.Id).toBe(firstId);
    expect(now?.State.Running).toBe(true);
    // One Event per change of what it does without, not one per look.
    const events = await heldEvents('web');
    expect(events.map((e) => e.note.replace(/ are not ready.*| is not ready.*/, ''))).toEqual(
      expect.arrayContaining([
        `${NS}.web on ${NODE}: DockerImage/app`,
        `${NS}.web on ${NODE}: DockerVolume/data, DockerImage/app`,
      ]),
    );
    expect(events, JSON.stringify(events)).toHaveLength(2);
    expect(
      events.every((e) => e.count === 1),
      JSON.stringify(events),
    ).toBe(true);
  }, 180_000);

  it('a new container depending on the not-ready image still waits, and nothing is created for it', async () => {
    await kube.create('DockerContainer', NS, 'late', {
      hostName: NODE,
      imageRef: { name: 'app' },
      command: ['sleep', '3600'],
    });
    const waiting = await kube.waitFor(
      'DockerContainer',
      NS,
      'late',
      (o) => entry(o)?.phase === 'WaitingForDependencies',
      'WaitingForDependencies',
    );
    expect(condition(waiting, 'Ready')?.status).toBe('False');
    expect(messageOf(waiting)).toContain('DockerImage/app');
    expect(await inspect('late')).toBeUndefined();
  }, 60_000);

  it('a spec change of the held container waits for the image, keeping the old container running', async () => {
    await kube.patch('DockerContainer', NS, 'web', { spec: { command: ['sleep', '7200'] } });
    const waiting = await kube.waitFor(
      'DockerContainer',
      NS,
      'web',
      (o) =>
        entry(o)?.phase === 'WaitingForDependencies' &&
        o.status?.observedGeneration === o.metadata.generation,
      'waiting to recreate',
    );
    expect(condition(waiting, 'Ready')?.status).toBe('False');
    const still = await inspect('web');
    expect(still?.Id).toBe(firstId);
    expect(still?.State.Running).toBe(true);

    // The image back to a tag that exists and the volume unpaused: the recreate happens.
    await kube.patch('DockerImage', NS, 'app', { spec: { image: `${repo}:held` } });
    await kube.patch('DockerVolume', NS, 'data', {
      metadata: { annotations: { 'dockyard.io/paused': null } },
    });
    await kube.waitFor('DockerContainer', NS, 'web', isReady, 'Ready after the recreate', 60_000);
    const recreated = await waitFor(
      async () => {
        const c = await inspect('web');
        return c && c.Id !== firstId && c.State.Running ? c : undefined;
      },
      { timeoutMs: 30_000, what: 'web recreated with the new command' },
    );
    expect(recreated.Config.Entrypoint).toEqual(['sleep', '7200']);
    await kube.waitFor('DockerContainer', NS, 'late', isReady, 'late Ready once the image is', 60_000);
  }, 180_000);
});
