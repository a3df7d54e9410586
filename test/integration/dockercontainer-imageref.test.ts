import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { isReady, Kube, registerLabHosts } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';

// A DockerContainer with imageRef runs exactly the digest its DockerImage
// resolved on each host (pulled from the authenticated registry), and a new
// digest pushed to the tag rolls the container.

let cp: ControlPlane;
let lab: Lab;
let dockyard: RunningDockyard;
let kube: Kube;
const NS = 'roll';

const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  [cp, lab] = await Promise.all([startControlPlane(), startLab({ nodes: [{ name: 'n1' }], registry: true })]);
  kube = new Kube(cp);
  dockyard = await startDockyard(cp, { syncPeriodMs: 3_000 });
  await kube.namespace(NS);
  await registerLabHosts(kube, lab);
}, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await dockyard?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

describe('DockerContainer with imageRef', () => {
  it('runs the resolved digest and rolls when the tag moves', async () => {
    const registry = lab.registry;
    const seeded = lab.seeded;
    if (!registry || !seeded) throw new Error('lab registry missing');
    const repo = `${registry.address}/${seeded.repository}`;
    const first = await registry.pushImage(lab.hostDocker, lab.workloadImage, seeded.repository, 'app');
    await kube.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'regcred' },
        type: 'kubernetes.io/dockerconfigjson',
        data: {
          '.dockerconfigjson': b64(
            JSON.stringify({
              auths: { [registry.address]: { username: registry.username, password: registry.password } },
            }),
          ),
        },
      },
    });
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
