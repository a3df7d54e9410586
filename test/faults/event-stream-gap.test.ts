import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEvent } from '../../src/docker/event-stream.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { registerLabHosts } from '../support/kube.js';
import {
  counterValue,
  eventsBetween,
  forceRemoveContainer,
  stopContainer,
  volumeEventNoise,
} from './support/env-docker.js';
import {
  createWorkload,
  dockerName,
  ENV_START_TIMEOUT_MS,
  invariantInput,
  controllerLogSink,
  PhaseClock,
  startFaultEnv,
  type FaultEnv,
  type Workload,
} from './support/env-scenario.js';
import {
  expectInvariants,
  waitForConvergence,
  writeDataMarker,
  type DataMarker,
} from './support/invariants.js';

// The Docker event stream of a node is cut while more than 256 changes happen
// on it: managed containers stopped and removed, a managed network and a
// managed volume removed, all out of band, then enough other events that the
// daemon's 256-event buffer no longer holds them. The resumed stream's `since`
// replay therefore misses them (checked below), and the drift poll is set to
// 10 minutes: the repair within REPAIR_BOUND_MS can only come from the host
// runtime resyncing every object on the host when its stream connects again.

const NS = 'gap';
const HOST = 'n1';
/** The drift poll: far beyond the repair bound, so the poll cannot be what repairs. */
const SYNC_PERIOD_MS = 10 * 60_000;
/** Generous for a loaded 2-core machine, and still a fifth of the poll interval. */
const REPAIR_BOUND_MS = 120_000;
const RESYNCS = 'dockyard_docker_event_stream_resyncs_total';

let env: FaultEnv;
let dockyard: RunningDockyard;
let workload: Workload;
const controllerLog = controllerLogSink();
const clock = new PhaseClock('event-stream-gap');

beforeAll(async () => {
  env = await startFaultEnv({ nodes: [HOST] });
  dockyard = await startDockyard(env.cp, {
    syncPeriodMs: SYNC_PERIOD_MS,
    log: { destination: controllerLog.destination },
  });
  await registerLabHosts(env.kube, env.lab);
  await env.kube.namespace(NS);
  clock.mark('environment');
}, ENV_START_TIMEOUT_MS);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(controllerLog.lines.slice(-80).join('\n'));
});

afterAll(async () => {
  await dockyard?.stop();
  await env?.stop();
  clock.total();
});

describe('Docker event stream cut while more than 256 changes happen', () => {
  it('converges the workload first', async () => {
    workload = await createWorkload(env.kube, {
      namespace: NS,
      host: HOST,
      image: env.lab.workloadImage,
      count: 16,
      networks: 4,
    });
    await waitForConvergence(invariantInput(env, [NS]), 300_000);
    clock.mark('workload converged (36 objects)');
  });

  it('resyncs the host when the same stream drops and reconnects by itself', async () => {
    const registry = dockyard.manager.metrics.registry;
    const before = await counterValue(registry, RESYNCS, { host: HOST, reason: 'reconnected' });
    dockyard.controllers.hostRuntime.cutEventStream(HOST);
    await expect
      .poll(() => counterValue(registry, RESYNCS, { host: HOST, reason: 'reconnected' }), { timeout: 30_000 })
      .toBeGreaterThan(before);
    clock.mark('cut and reconnect');
  });

  it('repairs out-of-band changes the truncated replay misses, well before the poll', async () => {
    const api = env.lab.node(HOST).client();
    const runtime = dockyard.controllers.hostRuntime;
    const registry = dockyard.manager.metrics.registry;
    const resyncsBefore = await counterValue(registry, RESYNCS, { host: HOST });
    const name = (n: string) => dockerName(NS, n);
    const c = workload.containers;

    // Data in volumes whose containers are about to be removed: a recreate must keep it.
    const markers: DataMarker[] = [];
    for (const i of [4, 5, 6, 7])
      markers.push(
        await writeDataMarker(api, env.lab.workloadImage, {
          host: HOST,
          volume: name(`vol${i}`),
          file: 'marker',
        }),
      );

    runtime.blockEventStream(HOST, true);
    expect(runtime.hasEventStream(HOST)).toBe(false);
    const gapStart = Date.now() / 1000 - 1;
    let replay: DockerEvent[];
    try {
      // Managed objects changed behind the controller's back.
      for (const i of [0, 1, 2]) await stopContainer(api, name(c[i] ?? ''));
      // Everything on net3 (ctr3, 7, 11, 15) must go before the network can.
      for (const i of [3, 4, 5, 6, 7, 11, 15, 12]) await forceRemoveContainer(api, name(c[i] ?? ''));
      await api.getNetwork(name('net3')).remove();
      await api.getVolume(name('vol12')).remove(); // the user's own removal: its data is theirs to lose
      // Then 320 unrelated events (160 volume creates and removals) push all of that out of the 256-event buffer.
      await volumeEventNoise(api, 160, 'gap-noise');
      // What a `since` replay over the gap returns (read while nothing else happens on the node).
      replay = await eventsBetween(api, gapStart, Date.now() / 1000);
    } finally {
      runtime.blockEventStream(HOST, false);
    }
    clock.mark('gap with out-of-band changes and noise');

    // The premise: the replay has lost every managed change.
    const noise = replay.filter((e) => e.type === 'volume' && e.id.startsWith('gap-noise-'));
    expect(noise.length, 'the replay holds the noise').toBeGreaterThan(200);
    expect(replay.length, 'Docker replays at most its last 256 events').toBeLessThanOrEqual(256);
    const managedInReplay = replay.filter(
      (e) =>
        e.attributes['dockyard.io/namespace'] === NS ||
        e.attributes.name?.startsWith(`${NS}.`) ||
        e.id.startsWith(`${NS}.`),
    );
    expect(managedInReplay.map((e) => `${e.type} ${e.action} ${e.attributes.name ?? e.id}`)).toEqual([]);

    // The repair: bounded far below the 10-minute poll.
    const started = performance.now();
    await waitForConvergence(invariantInput(env, [NS], { dataMarkers: markers }), REPAIR_BOUND_MS);
    const repairSeconds = (performance.now() - started) / 1000;
    clock.mark(`repaired after the stream came back (${repairSeconds.toFixed(1)} s)`);
    expect(await counterValue(registry, RESYNCS, { host: HOST })).toBeGreaterThan(resyncsBefore);
    expect(runtime.hasEventStream(HOST)).toBe(true);
    await expectInvariants(invariantInput(env, [NS], { dataMarkers: markers }));
  });
});
