import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { registerLabHosts } from '../support/kube.js';
import { counterValue } from './support/env-docker.js';
import {
  createWorkload,
  deleteWorkload,
  ENV_START_TIMEOUT_MS,
  invariantInput,
  controllerLogSink,
  PhaseClock,
  startFaultEnv,
  waitForDeleted,
  type FaultEnv,
  type Workload,
} from './support/env-scenario.js';
import { expectInvariants, waitForConvergence } from './support/invariants.js';

// kube-apiserver disappears while the controllers are in the middle of
// reconciling a batch of objects: first stopped and started again (connection
// refused, every watch broken, status and finalizer writes failing), then
// frozen with SIGSTOP (connections open, nothing answers: the hung-server
// case). Afterwards everything converges: exactly one Docker object per
// resource with the right hash, status that says what Docker says, deletes
// that were in flight completed, nothing orphaned.

const HOST = 'n1';
const NS_RESTART = 'api-restart';
const NS_PAUSE = 'api-pause';
/** How long the API server stays away: several heartbeats, watch restarts and workqueue retries. */
const OUTAGE_MS = 12_000;
const CONVERGE_MS = 300_000;

let env: FaultEnv;
let dockyard: RunningDockyard;
let first: Workload;
const controllerLog = controllerLogSink();
const clock = new PhaseClock('apiserver-restart');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  env = await startFaultEnv({ nodes: [HOST] });
  dockyard = await startDockyard(env.cp, { log: { destination: controllerLog.destination } });
  await registerLabHosts(env.kube, env.lab);
  await env.kube.namespace(NS_RESTART);
  await env.kube.namespace(NS_PAUSE);
  clock.mark('environment');
}, ENV_START_TIMEOUT_MS);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(controllerLog.lines.slice(-80).join('\n'));
});

afterAll(async () => {
  // A failed test may leave the API server frozen; the controllers' shutdown needs it.
  try {
    env?.cp.resumeApiServer();
  } catch {
    // not running: nothing to resume
  }
  await dockyard?.stop();
  await env?.stop();
  clock.total();
});

const restartsOf = () =>
  counterValue(dockyard.manager.metrics.registry, 'dockyard_informer_restarts_total').then(
    async (r) =>
      r + (await counterValue(dockyard.manager.metrics.registry, 'dockyard_informer_relists_total')),
  );

describe('kube-apiserver restarted and paused during reconcile', () => {
  it('converges 52 objects after the API server was stopped and started mid-apply', async () => {
    const watchRestartsBefore = await restartsOf();
    first = await createWorkload(env.kube, {
      namespace: NS_RESTART,
      host: HOST,
      image: env.lab.workloadImage,
      count: 24,
      networks: 4,
    });
    // The apply is in: the controllers are now creating Docker objects and writing status.
    await env.cp.stopApiServer();
    clock.mark('applied 52 objects, API server stopped');
    await sleep(OUTAGE_MS);
    await env.cp.startApiServer();
    clock.mark('API server back');
    await waitForConvergence(invariantInput(env, [NS_RESTART]), CONVERGE_MS);
    clock.mark('converged after restart');
    // The outage was real for the controllers: their watches broke and were rebuilt.
    expect(await restartsOf()).toBeGreaterThan(watchRestartsBefore);
    await expectInvariants(invariantInput(env, [NS_RESTART]));
  });

  it('converges creates and in-flight deletes after the API server was frozen (SIGSTOP)', async () => {
    await createWorkload(env.kube, {
      namespace: NS_PAUSE,
      host: HOST,
      image: env.lab.workloadImage,
      count: 12,
      networks: 2,
    });
    const deleted = await deleteWorkload(env.kube, first, (n) => /^(ctr|vol)(0|1|2|3)$/.test(n));
    env.cp.pauseApiServer();
    clock.mark('applied 26 objects and 8 deletes, API server frozen');
    try {
      await sleep(OUTAGE_MS);
    } finally {
      env.cp.resumeApiServer();
    }
    clock.mark('API server resumed');
    await waitForDeleted(env.kube, deleted, CONVERGE_MS);
    await waitForConvergence(invariantInput(env, [NS_RESTART, NS_PAUSE]), CONVERGE_MS);
    clock.mark('converged after pause');
    // Deletes really removed the Docker objects (deletionPolicy Delete), not just the API objects.
    const api = env.lab.node(HOST).client();
    const names = (await api.listContainers({ all: true })).flatMap((c) => c.Names);
    for (const c of deleted.containers) expect(names).not.toContain(`/${NS_RESTART}.${c}`);
    const volumes = ((await api.listVolumes()).Volumes ?? []).map((v) => v.Name);
    for (const v of deleted.volumes) expect(volumes).not.toContain(`${NS_RESTART}.${v}`);
    await expectInvariants(invariantInput(env, [NS_RESTART, NS_PAUSE]));
  });
});
