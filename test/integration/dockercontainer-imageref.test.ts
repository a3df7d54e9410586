import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { isReady, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { labRegistry, registrySecret } from '../support/registry.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// A DockerContainer with imageRef runs exactly the digest its DockerImage
// resolved on each host (pulled from the authenticated registry), and a new
// digest pushed to the tag rolls the container.

let world: World;
let lab: Lab;
let kube: Kube;
const NS = 'roll';

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'n1' }], registry: true },
    namespaces: [NS],
    dockyard: { syncPeriodMs: 3_000 },
  });
  ({ lab, kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

describe('DockerContainer with imageRef', () => {
  it('runs the resolved digest and rolls when the tag moves', async () => {
    const { registry, seeded } = labRegistry(lab);
    const repo = `${registry.address}/${seeded.repository}`;
    const first = await registry.pushImage(lab.hostDocker, lab.workloadImage, seeded.repository, 'app');
    await registrySecret(kube, { namespace: NS, name: 'regcred', registry });
    await kube.create('DockerImage', NS, 'app', {
      hostName: 'n1',
      image: `${repo}:app`,
      pullSecrets: [{ name: 'regcred' }],
      pullPolicy: 'Always',
      refreshInterval: '5s',
    });
    // The container exists before the image is ready: it waits for it.
    await kube.create('DockerContainer', NS, 'web', {
      hostName: 'n1',
      imageRef: { name: 'app' },
      command: ['sleep', '3600'],
    });
    await kube.waitFor('DockerContainer', NS, 'web', isReady, 'Ready', 60_000);
    const docker = lab.node('n1').client();
    const c1 = await docker.getContainer(`${NS}.web`).inspect();
    expect(c1.Config.Image).toBe(`${repo}@${first}`);

    const second = await registry.pushImage(
      lab.hostDocker,
      `${lab.workloadImage}-alt`,
      seeded.repository,
      'app',
    );
    expect(second).not.toBe(first);
    const rolled = await waitFor(
      async () => {
        const c = await docker
          .getContainer(`${NS}.web`)
          .inspect()
          .catch(() => undefined);
        return c && c.Id !== c1.Id && c.State.Running ? c : undefined;
      },
      { timeoutMs: 60_000, what: 'container rolled to the new digest' },
    );
    expect(rolled.Config.Image).toBe(`${repo}@${second}`);
    await kube.waitFor('DockerContainer', NS, 'web', isReady, 'Ready after the roll');
  });
});
