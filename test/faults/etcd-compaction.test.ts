import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/localenv/process.js';
import { registerLabHosts } from '../support/kube.js';
import { sampleValue, scrape } from '../support/prometheus.js';
import { killAllTestProcesses, TestProcess } from '../support/test-process.js';
import {
  createWorkload,
  deleteWorkload,
  ENV_START_TIMEOUT_MS,
  invariantInput,
  PhaseClock,
  startFaultEnv,
  waitForDeleted,
  type FaultEnv,
  type Workload,
} from './support/env-scenario.js';
import { expectInvariants, waitForConvergence } from './support/invariants.js';

// etcd compaction forcing 410 Gone on the informers' watches while changes
// happen. The real `dockyard controller` process is frozen (SIGSTOP) for
// longer than a watch lasts (the informers ask for 25 s), so the API server
// ends every watch; meanwhile objects are created, changed and deleted (one
// even created and deleted entirely inside the gap), and etcd is compacted
// past every resourceVersion the informers hold. On SIGCONT each informer
// re-watches from its old resourceVersion, gets 410 Gone, and must relist to
// see what happened. The 410 is proven from the controller's own log lines and
// its relist metric, so this test fails if the gap was closed some other way.

const HOST = 'n1';
const NS = 'compaction';
/** The informers' watch timeoutSeconds (25 s, kube-list-watcher.ts) plus a margin. */
const WATCH_ENDED_MS = 33_000;
const CONVERGE_MS = 240_000;
const GONE_MSG = 'watch expired (410 Gone); relisting';

let env: FaultEnv;
let controller: TestProcess;
let metricsUrl: string;
let workload: Workload;
const clock = new PhaseClock('etcd-compaction');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  env = await startFaultEnv({ nodes: [HOST] });
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  controller = new TestProcess(
    'dockyard controller',
    'src/main.ts',
    [
      'controller',
      `--metrics-bind-address=127.0.0.1:${port}`,
      '--health-probe-bind-address=0',
      '--log-format=json',
      '--log-level=info',
      // The poll must not be what catches up after the gap.
      '--sync-period=10m',
    ],
    { KUBECONFIG: env.cp.kubeconfigPath, KUBERNETES_SERVICE_HOST: undefined },
  );
  await registerLabHosts(env.kube, env.lab);
  await env.kube.namespace(NS);
  clock.mark('environment');
}, ENV_START_TIMEOUT_MS);

afterAll(async () => {
  await killAllTestProcesses(); // SIGKILL also ends a stopped process
  await env?.stop();
  clock.total();
});

const relists = async () => {
  const text = await scrape(metricsUrl);
  let sum = 0;
  for (const resource of [
    'dockervolumes.dockyard.io',
    'dockercontainers.dockyard.io',
    'dockernetworks.dockyard.io',
  ])
    sum += sampleValue(text, 'dockyard_informer_relists_total', { resource }) ?? 0;
  return sum;
};

describe('etcd compacted while the controller cannot watch', () => {
  it('converges the workload first', async () => {
    workload = await createWorkload(env.kube, {
      namespace: NS,
      host: HOST,
      image: env.lab.workloadImage,
      count: 10,
      networks: 2,
    });
    await waitForConvergence(invariantInput(env, [NS]), CONVERGE_MS);
    clock.mark('workload converged (22 objects)');
  });

  it('relists after 410 Gone and catches up with creates, changes and deletes made in the gap', async () => {
    const relistsBefore = await relists();
    const goneBefore = controller.count((l) => l.msg === GONE_MSG);
    controller.signal('SIGSTOP');
    let late: Workload;
    let deleted: Workload;
    try {
      await sleep(WATCH_ENDED_MS); // every watch has been ended by the API server by now
      clock.mark('controller frozen past its watches');
      late = await createWorkload(env.kube, {
        namespace: NS,
        host: HOST,
        image: env.lab.workloadImage,
        count: 3,
        networks: 0,
        prefix: 'late-',
      });
      await env.kube.patch('DockerContainer', NS, 'ctr0', { spec: { command: ['sleep', '36001'] } });
      deleted = await deleteWorkload(env.kube, workload, (n) => /^(ctr|vol)(1|2)$/.test(n));
      // Created and deleted entirely inside the gap: no finalizer yet, so it is gone at once.
      await env.kube.create('DockerVolume', NS, 'ghost', { hostName: HOST, deletionPolicy: 'Delete' });
      await env.kube.delete('DockerVolume', NS, 'ghost');
      const revision = await env.cp.compactEtcd();
      clock.mark(`changes in the gap, etcd compacted at revision ${revision}`);
    } finally {
      controller.signal('SIGCONT');
    }

    // The proof that the informers met 410 Gone and relisted.
    await controller.waitForLog(
      (l) =>
        l.msg === GONE_MSG && typeof l.informer === 'string' && l.informer.startsWith('dockercontainers'),
      90_000,
      '410 Gone on the DockerContainer watch',
    );
    expect(controller.count((l) => l.msg === GONE_MSG)).toBeGreaterThan(goneBefore);
    await expect.poll(relists, { timeout: 60_000 }).toBeGreaterThan(relistsBefore);
    clock.mark('410 Gone seen, relisted');

    await waitForDeleted(env.kube, deleted, CONVERGE_MS);
    await waitForConvergence(invariantInput(env, [NS]), CONVERGE_MS);
    clock.mark('converged after the gap');
    expect(late.containers).toHaveLength(3);
    // The change made in the gap was applied (the invariant checks the hash; this names the field).
    const ctr0 = await env.lab.node(HOST).client().getContainer(`${NS}.ctr0`).inspect();
    expect(ctr0.Config.Entrypoint).toEqual(['sleep', '36001']); // spec.command is the entrypoint
    expect(controller.running).toBe(true);
    await expectInvariants(invariantInput(env, [NS]));
  });
});
