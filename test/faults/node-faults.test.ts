import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { condition, registerLabHosts } from '../support/kube.js';
import {
  createWorkload,
  deleteWorkload,
  dockerName,
  ENV_START_TIMEOUT_MS,
  invariantInput,
  controllerLogSink,
  PhaseClock,
  startFaultEnv,
  waitForDeleted,
  type FaultEnv,
  type Workload,
} from './support/env-scenario.js';
import {
  expectInvariants,
  waitForConvergence,
  writeDataMarker,
  type DataMarker,
} from './support/invariants.js';

// A Docker node is restarted, paused (a partition: connections hang) and
// killed (SIGKILL, no clean shutdown) while objects are created on it and
// deleted from it. Afterwards, with the node back: exactly one Docker object
// per (resource, host) with the right hash, deletes completed — and while the
// node could not confirm a removal, the resource kept its finalizer (never
// released on hope) — and the data written into volumes survived every fault.

const HOST = 'n1';
const NS = 'node-faults';
const CONVERGE_MS = 240_000;
/** Heartbeats every 2 s (registerLabHosts); NotReady after a few failed ones. */
const NOT_READY_MS = 90_000;

let env: FaultEnv;
let dockyard: RunningDockyard;
let base: Workload;
const markers: DataMarker[] = [];
const controllerLog = controllerLogSink();
const clock = new PhaseClock('node-faults');

beforeAll(async () => {
  env = await startFaultEnv({ nodes: [HOST] });
  dockyard = await startDockyard(env.cp, { log: { destination: controllerLog.destination } });
  await registerLabHosts(env.kube, env.lab);
  await env.kube.namespace(NS);
  clock.mark('environment');
}, ENV_START_TIMEOUT_MS);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(controllerLog.lines.slice(-80).join('\n'));
});

afterAll(async () => {
  // A failed test may leave the node paused or stopped; bring it back so it can be removed cleanly.
  await env?.lab
    .node(HOST)
    .unpause()
    .catch(() => {});
  await dockyard?.stop();
  await env?.stop();
  clock.total();
});

const node = () => env.lab.node(HOST);
const input = () => invariantInput(env, [NS], { dataMarkers: markers });

const hostReady = (want: boolean, what: string) =>
  env.kube.waitFor(
    'DockerHost',
    undefined,
    HOST,
    (h) => (condition(h, 'Ready')?.status === 'True') === want,
    what,
    NOT_READY_MS,
  );

/** While the node cannot answer, a delete must not complete: the finalizer waits for Docker's confirmation. */
async function expectStillDeleting(deleted: Workload): Promise<void> {
  for (const [kind, names] of [
    ['DockerContainer', deleted.containers],
    ['DockerVolume', deleted.volumes],
  ] as const) {
    for (const name of names) {
      const obj = await env.kube.get(kind, NS, name);
      expect(obj, `${kind} ${name} released while its node was down`).toBeDefined();
      expect(obj?.metadata.finalizers).toContain('dockyard.io/cleanup');
    }
  }
}

describe('a Docker node restarted, partitioned and killed under load', () => {
  it('converges the workload and writes data into its volumes', async () => {
    base = await createWorkload(env.kube, {
      namespace: NS,
      host: HOST,
      image: env.lab.workloadImage,
      count: 8,
      networks: 2,
    });
    await waitForConvergence(invariantInput(env, [NS]), CONVERGE_MS);
    for (const i of [0, 1, 2, 3])
      markers.push(
        await writeDataMarker(node().client(), env.lab.workloadImage, {
          host: HOST,
          volume: dockerName(NS, `vol${i}`),
          file: 'marker',
        }),
      );
    clock.mark('18 objects converged, data written');
  });

  it('restart: creates and deletes in flight complete, data survives', async () => {
    await createWorkload(env.kube, {
      namespace: NS,
      host: HOST,
      image: env.lab.workloadImage,
      count: 4,
      networks: 1,
      prefix: 'r-',
    });
    const deleted = await deleteWorkload(env.kube, base, (n) => /^(ctr|vol)(4|5)$/.test(n));
    await node().restart(); // graceful: the inner dockerd stops its containers
    clock.mark('node restarted with 9 creates and 4 deletes in flight');
    await waitForDeleted(env.kube, deleted, CONVERGE_MS);
    await waitForConvergence(input(), CONVERGE_MS);
    await expectInvariants(input());
    clock.mark('converged after restart');
  });

  it('pause (partition): deletes wait for the node, then complete; creates land once', async () => {
    await node().pause();
    try {
      await createWorkload(env.kube, {
        namespace: NS,
        host: HOST,
        image: env.lab.workloadImage,
        count: 3,
        networks: 0,
        prefix: 'p-',
      });
      const deleted = await deleteWorkload(env.kube, base, (n) => /^(ctr|vol)(6)$/.test(n));
      await hostReady(false, 'NotReady while paused');
      await expectStillDeleting(deleted);
      clock.mark('partitioned: NotReady, deletes held');
      await node().unpause();
      await hostReady(true, 'Ready again after unpause');
      await waitForDeleted(env.kube, deleted, CONVERGE_MS);
    } finally {
      await node()
        .unpause()
        .catch(() => {}); // already unpaused on the happy path
    }
    await waitForConvergence(input(), CONVERGE_MS);
    await expectInvariants(input());
    clock.mark('converged after partition');
  });

  it('kill (no clean shutdown): deletes wait for the node, then complete; data survives', async () => {
    await node().kill();
    const deleted = await deleteWorkload(env.kube, base, (n) => /^(ctr|vol)(7)$/.test(n));
    await createWorkload(env.kube, {
      namespace: NS,
      host: HOST,
      image: env.lab.workloadImage,
      count: 3,
      networks: 0,
      prefix: 'k-',
    });
    await hostReady(false, 'NotReady while killed');
    await expectStillDeleting(deleted);
    clock.mark('killed: NotReady, deletes held');
    await node().resume();
    await hostReady(true, 'Ready again after the node came back');
    await waitForDeleted(env.kube, deleted, CONVERGE_MS);
    await waitForConvergence(input(), CONVERGE_MS);
    await expectInvariants(input());
    clock.mark('converged after kill');
  });
});
