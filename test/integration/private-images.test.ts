import { EventsV1Api, type EventsV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { labRegistry, registrySecret } from '../support/registry.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// Private images stay private (issue #12 item 8, as KEP-2535 for Pods): on
// one real Docker-in-Docker node and the lab's htpasswd registry, namespace
// tenant-a pulls a private image with its Secret; tenant-b may use that image
// only once the registry has accepted tenant-b's own credentials for it, and
// nothing tenant-b sees names tenant-a's Secret.

let world: World;
let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
let events: EventsV1Api;
const A = 'tenant-a';
const B = 'tenant-b';
const A_SECRET = 'a-private-regcred';
const REJECTED = 'ImagePullCredentialsRejected';

const registry = () => labRegistry(lab).registry;
const seeded = () => labRegistry(lab).seeded;
const privateRef = () => `${registry().address}/${seeded().repository}:1.36`;

async function containerOn(name: string) {
  return lab
    .node('n1')
    .client()
    .getContainer(name)
    .inspect()
    .catch(() => undefined);
}

const rejected = (o: DockyardObject) =>
  condition(o, 'Ready')?.status === 'False' && condition(o, 'Ready')?.reason === REJECTED;

async function eventsIn(namespace: string): Promise<EventsV1Event[]> {
  return (await events.listNamespacedEvent({ namespace })).items;
}

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'n1' }], registry: true },
    namespaces: [A, B],
    dockyard: { syncPeriodMs: 5_000 },
  });
  ({ cp, lab, kube } = world);
  events = cp.kubeConfig().makeApiClient(EventsV1Api);
  await registrySecret(kube, { namespace: A, name: A_SECRET, registry: registry() });
  await registrySecret(kube, {
    namespace: B,
    name: 'b-wrong',
    registry: registry(),
    password: 'not-the-password',
  });
  await registrySecret(kube, { namespace: B, name: 'b-regcred', registry: registry() });
  // tenant-a pulls the private image onto n1 with its own Secret.
  await kube.create('DockerImage', A, 'private', {
    hostName: 'n1',
    image: privateRef(),
    pullSecrets: [{ name: A_SECRET }],
  });
  await kube.waitFor('DockerImage', A, 'private', isReady, 'Ready on n1', 60_000);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

describe('private images stay private', () => {
  it("refuses another namespace's container that names the image without credentials, and creates nothing", async () => {
    await kube.create('DockerContainer', B, 'direct', {
      hostName: 'n1',
      image: privateRef(),
      command: ['sleep', '3600'],
    });
    const refused = await kube.waitFor('DockerContainer', B, 'direct', rejected, REJECTED, 60_000);
    expect(condition(refused, 'Ready')?.message).toContain('does not grant anonymous access');
    // The registry's own answer, through the daemon.
    expect(condition(refused, 'Ready')?.message).toMatch(
      /no basic auth credentials|unauthori[sz]ed|authentication required/i,
    );
    expect(await containerOn(`${B}.direct`)).toBeUndefined();
    const warning = (await eventsIn(B)).find((e) => e.regarding?.name === 'direct' && e.reason === REJECTED);
    expect(warning?.type).toBe('Warning');
  });

  it("refuses another namespace's DockerImage whose Secret the registry rejects, and its container waits", async () => {
    await kube.create('DockerImage', B, 'wrong', {
      hostName: 'n1',
      image: privateRef(),
      pullSecrets: [{ name: 'b-wrong' }],
    });
    await kube.create('DockerContainer', B, 'via-wrong', {
      hostName: 'n1',
      imageRef: { name: 'wrong' },
      command: ['sleep', '3600'],
    });
    const refused = await kube.waitFor('DockerImage', B, 'wrong', rejected, REJECTED, 60_000);
    expect(condition(refused, 'Ready')?.message).toContain('the credentials of pull secret b-wrong');
    expect(condition(refused, 'Ready')?.message).toMatch(
      /no basic auth credentials|unauthori[sz]ed|authentication required/i,
    );
    expect(refused.status?.hosts?.[0]?.imageId).toBeUndefined(); // nothing about an image it was not granted
    const waiting = await kube.waitFor(
      'DockerContainer',
      B,
      'via-wrong',
      (o) => condition(o, 'Ready')?.reason === 'DependenciesNotReady',
      'waiting for its DockerImage',
    );
    expect(condition(waiting, 'Ready')?.status).toBe('False');
    expect(await containerOn(`${B}.via-wrong`)).toBeUndefined();
  });

  it('runs it for the other namespace with valid credentials of its own', async () => {
    await kube.create('DockerImage', B, 'mine', {
      hostName: 'n1',
      image: privateRef(),
      pullSecrets: [{ name: 'b-regcred' }],
    });
    await kube.create('DockerContainer', B, 'web', {
      hostName: 'n1',
      imageRef: { name: 'mine' },
      command: ['sleep', '3600'],
    });
    await kube.waitFor('DockerImage', B, 'mine', isReady, 'Ready', 60_000);
    await kube.waitFor('DockerContainer', B, 'web', isReady, 'Ready', 60_000);
    expect((await containerOn(`${B}.web`))?.State.Running).toBe(true);
  });

  it('after a controller restart: what was Ready stays Ready, new owners are verified with the registry again', async () => {
    await world.restartDockyard();
    // Own credentials, not known to the new process: checked against the registry, then Ready.
    await kube.create('DockerImage', B, 'after-restart', {
      hostName: 'n1',
      image: privateRef(),
      pullSecrets: [{ name: 'b-regcred' }],
    });
    await kube.waitFor('DockerImage', B, 'after-restart', isReady, 'Ready after the restart', 60_000);
    // Re-created without credentials after the restart: still refused.
    await kube.delete('DockerContainer', B, 'direct');
    await kube.waitForGone('DockerContainer', B, 'direct');
    await kube.create('DockerContainer', B, 'direct', {
      hostName: 'n1',
      image: privateRef(),
      command: ['sleep', '3600'],
    });
    await kube.waitFor('DockerContainer', B, 'direct', rejected, `${REJECTED} after the restart`, 60_000);
    expect(await containerOn(`${B}.direct`)).toBeUndefined();
    for (const [ns, kind, name] of [
      [A, 'DockerImage', 'private'],
      [B, 'DockerImage', 'mine'],
      [B, 'DockerContainer', 'web'],
    ] as const)
      expect(isReady((await kube.get(kind, ns, name)) as DockyardObject), `${ns}/${name}`).toBe(true);
  });

  it("never shows the other namespace's Secret name to tenant-b (status or Events)", async () => {
    const objects = await Promise.all(
      (
        [
          ['DockerImage', 'wrong'],
          ['DockerImage', 'mine'],
          ['DockerContainer', 'direct'],
          ['DockerContainer', 'via-wrong'],
          ['DockerContainer', 'web'],
        ] as const
      ).map(([kind, name]) => kube.get(kind, B, name)),
    );
    const seenByB = JSON.stringify([objects, await eventsIn(B)]);
    expect(seenByB).toContain(REJECTED); // what B sees is there
    expect(seenByB).not.toContain(A_SECRET);
    expect(seenByB).not.toContain(A);
    expect(seenByB).not.toContain(registry().password);
  });
});
