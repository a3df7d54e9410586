import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from '../../src/crds/install.js';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { isReady, Kube, registerLabHosts } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';
import { killAllTestProcesses, TestProcess } from '../support/test-process.js';

// The real `dockyard controller` process is SIGKILLed again and again while it
// creates volumes, networks and containers on two nodes. Deterministic names
// and owner labels mean a restart adopts what a killed process created before
// it could write status: afterwards there is exactly one Docker object per
// (resource, host) and status names it.

let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
const NS = 'crash';
const COUNT = 6;
const KILLS = 8;

function controller(): TestProcess {
  return new TestProcess(
    'dockyard controller',
    'src/main.ts',
    [
      'controller',
      '--metrics-bind-address=0',
      '--health-probe-bind-address=0',
      '--log-format=json',
      '--sync-period=5s',
    ],
    { KUBECONFIG: cp.kubeconfigPath, KUBERNETES_SERVICE_HOST: undefined },
  );
}

beforeAll(async () => {
  [cp, lab] = await Promise.all([startControlPlane(), startLab({ nodes: [{ name: 'n1' }, { name: 'n2' }] })]);
  await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, lab.workloadImage)));
  kube = new Kube(cp);
  await installCrds(cp.kubeConfig());
  await kube.namespace(NS);
}, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await killAllTestProcesses();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

describe('controller killed between Docker writes and status writes', () => {
  it('ends with exactly one Docker object per resource and host, and status that matches', async () => {
    const first = controller();
    await registerLabHosts(kube, lab);
    await first.kill();
    const all = {
      hostSelector: { matchExpressions: [{ key: 'dockyard.io/test-node', operator: 'Exists' }] },
    };
    for (let i = 0; i < COUNT; i++) {
      await kube.create('DockerVolume', NS, `v${i}`, { ...all, deletionPolicy: 'Delete' });
      await kube.create('DockerNetwork', NS, `n${i}`, all);
      await kube.create('DockerContainer', NS, `c${i}`, {
        ...all,
        image: lab.workloadImage,
        command: ['sleep', '3600'],
        mounts: [{ type: 'volume', volume: `v${i}`, target: '/data' }],
        networks: [{ name: `n${i}` }],
      });
    }
    // Kill the controller at varied points of its work.
    for (let k = 0; k < KILLS; k++) {
      const proc = controller();
      await proc.waitForLog((l) => typeof l.msg === 'string' && /start/i.test(l.msg), 30_000, 'start');
      await new Promise((r) => setTimeout(r, 300 + ((k * 397) % 1400)));
      await proc.kill();
    }
    const last = controller();
    for (let i = 0; i < COUNT; i++) {
      for (const kind of ['DockerVolume', 'DockerNetwork', 'DockerContainer'] as const) {
        const name = `${kind === 'DockerVolume' ? 'v' : kind === 'DockerNetwork' ? 'n' : 'c'}${i}`;
        await kube.waitFor(
          kind,
          NS,
          name,
          (o) => isReady(o) && o.status?.hostsReady === '2/2',
          'Ready on both hosts',
          120_000,
        );
      }
    }
    for (const [nodeName, node] of lab.nodes) {
      const docker = node.client();
      for (let i = 0; i < COUNT; i++) {
        const byOwner = async (kind: 'DockerVolume' | 'DockerNetwork' | 'DockerContainer', name: string) => {
          const obj = await kube.get(kind, NS, name);
          const filters = { label: [`dockyard.io/uid=${obj?.metadata.uid}`] };
          const found =
            kind === 'DockerVolume'
              ? ((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name)
              : kind === 'DockerNetwork'
                ? (await docker.listNetworks({ filters })).map((n) => n.Id)
                : (await docker.listContainers({ all: true, filters })).map((c) => c.Id);
          return { found, entry: obj?.status?.hosts?.find((h) => h.name === nodeName) };
        };
        const volume = await byOwner('DockerVolume', `v${i}`);
        expect(volume.found, `volume v${i} on ${nodeName}`).toHaveLength(1);
        const network = await byOwner('DockerNetwork', `n${i}`);
        expect(network.found, `network n${i} on ${nodeName}`).toHaveLength(1);
        expect(network.entry?.id).toBe(network.found[0]);
        const container = await byOwner('DockerContainer', `c${i}`);
        expect(container.found, `container c${i} on ${nodeName}`).toHaveLength(1);
        expect(container.entry?.id).toBe(container.found[0]);
        expect(container.entry?.phase).toBe('Running');
      }
    }
    await last.kill();
  });
});
