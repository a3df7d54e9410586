import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReady } from '../support/kube.js';
import type { TestProcess } from '../support/test-process.js';
import {
  CONTROLLER_START_TIMEOUT_MS,
  startControllerProcess,
  workersStarted,
} from './support/controller-process.js';
import {
  FAULT_ENV_START_TIMEOUT_MS,
  startFaultEnvironment,
  type FaultEnvironment,
} from './support/environment.js';
import { applyFleet, fleetObjects, groupPlacement } from './support/fleet.js';
import {
  checkInvariants,
  expectInvariants,
  ownedDockerObjects,
  waitForConvergence,
  writeDataMarker,
  type DataMarker,
  type InvariantInput,
} from './support/invariants.js';
import { recordRelease } from '../../src/managed/released-owners.js';
import { scenarioPrng } from './support/prng.js';
import { scenarioClock } from './support/timing.js';

// The real `dockyard controller` process is SIGKILLed 20 times at seeded
// random points while a 100-object manifest (volumes, networks, containers
// over two nodes) is applied, changed and partly deleted. Whatever a killed
// process left between a Docker write and its status write, the next one must
// adopt it: afterwards exactly one Docker object per (resource, host), no
// orphans, the marker files written into volumes still there, and status that
// matches Docker. (Supersedes test/integration/crash-recovery.test.ts at scale.)

const NS = 'sigkill';
const GROUPS = 25; // 4 objects each: 100 objects
const KILLS = 20;
/** Groups whose volumes get a marker file before the kills start. */
const MARKER_GROUPS = [0, 3, 4, 5];
/** Groups whose containers change spec mid-series (a recreate over a volume with data). */
const CHANGED_GROUPS = [3, 4, 5, 9];
/** Groups deleted mid-series: 1 keeps its volume (Orphan), 2 removes it (Delete). */
const DELETED_GROUPS = [1, 2];

let env: FaultEnvironment;
/** Written by the first test, read back by both. */
const markers: DataMarker[] = [];

beforeAll(async () => {
  env = await startFaultEnvironment([NS]);
}, FAULT_ENV_START_TIMEOUT_MS);

afterAll(async () => {
  await env?.stop();
});

describe('controller SIGKILLed at random points during a 100-object apply', () => {
  it('ends with one Docker object per resource and host, no orphans, no data lost, honest status', async () => {
    const rng = scenarioPrng('controller-sigkill');
    const clock = scenarioClock('controller-sigkill');
    const { cp, kube, nodes, lab } = env;
    const objects = fleetObjects(GROUPS, lab.workloadImage);
    expect(objects).toHaveLength(100);
    const input: InvariantInput = { kube, nodes, namespaces: [NS], markerImage: lab.workloadImage };

    // The first controller runs while the manifest is applied, until the marker volumes exist.
    let proc: TestProcess = startControllerProcess(cp, { name: 'controller #0' });
    const applying = applyFleet(kube, NS, objects);
    await proc.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
    await applying;
    clock.lap('applied 100 objects');
    for (const g of MARKER_GROUPS) {
      await kube.waitFor('DockerVolume', NS, `v${g}`, isReady, 'Ready', 120_000);
      for (const host of groupPlacement(g).hosts) {
        markers.push(
          await writeDataMarker(nodes.get(host)!, lab.workloadImage, {
            host,
            volume: `${NS}.v${g}`,
            file: 'marker',
            content: `seeded-${g}-${host}`,
          }),
        );
      }
    }
    clock.lap(`wrote ${markers.length} markers`);

    const delays: number[] = [];
    /** Docker objects after each kill: shows the kills landed while the work was still going on. */
    const progress: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      if (k > 0) {
        proc = startControllerProcess(cp, { name: `controller #${k}` });
        await proc.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
      }
      // Mid-series changes while controller #k works, so the killed ones leave them half-applied.
      if (k === 6) {
        for (const g of CHANGED_GROUPS)
          await kube.patch('DockerContainer', NS, `c${g}a`, {
            spec: { env: [{ name: 'GROUP', value: `${g}-changed` }] },
          });
      }
      if (k === 10) {
        for (const g of DELETED_GROUPS)
          for (const name of [`c${g}a`, `c${g}b`, `n${g}`, `v${g}`]) {
            const kind = name.startsWith('c')
              ? 'DockerContainer'
              : name.startsWith('n')
                ? 'DockerNetwork'
                : 'DockerVolume';
            await kube.delete(kind, NS, name);
          }
      }
      const delay = rng.int(0, 2_500);
      delays.push(delay);
      await new Promise((r) => setTimeout(r, delay));
      expect(proc.running, `${proc.name} died on its own before its kill\n${proc.describe()}`).toBe(true);
      await proc.kill();
      progress.push((await ownedDockerObjects(nodes, [NS])).length);
    }
    clock.lap(
      `${KILLS} SIGKILLs; delays after workers started (ms): ${delays.join(' ')}; Docker objects after each: ${progress.join(' ')}`,
    );

    const last = startControllerProcess(cp, { name: 'controller (survivor)' });
    for (const g of DELETED_GROUPS) await kube.waitForGone('DockerVolume', NS, `v${g}`, 180_000);
    await waitForConvergence({ ...input, dataMarkers: markers }, 300_000);
    clock.lap('converged');
    await expectInvariants({ ...input, dataMarkers: markers });
    expect(last.running, last.describe()).toBe(true);
    await last.kill();
    clock.done();
  });
  // Without this, a check that silently passed everything would look like a product that never fails.
  it('the invariant check itself catches a duplicate, an orphan, lost data, a status lie and a stale hash', async () => {
    const { kube, nodes, lab } = env;
    expect(markers.length, 'needs the state the first test left').toBeGreaterThan(0);
    // No controller runs now, so nothing repairs what follows.
    const n1 = nodes.get('n1')!;
    const n2 = nodes.get('n2')!;
    const original = await n1.getContainer(`${NS}.c0a`).inspect();
    await n1.createContainer({
      name: 'duplicate-of-c0a',
      Image: lab.workloadImage,
      Cmd: ['sleep', '3600'],
      Labels: original.Config.Labels,
    });
    await n1.createVolume({
      Name: 'orphan-probe',
      Labels: {
        'dockyard.io/uid': 'no-such-uid',
        'dockyard.io/namespace': NS,
        'dockyard.io/name': 'ghost',
        'dockyard.io/kind': 'DockerVolume',
        'dockyard.io/deletion-policy': 'Delete',
      },
    });
    // Created with Delete, switched to Orphan before the delete: n1 recorded the
    // release, so its object stays legitimately there; n2 recorded nothing.
    const releasedLabels = {
      'dockyard.io/uid': 'released-uid',
      'dockyard.io/namespace': NS,
      'dockyard.io/name': 'kept',
      'dockyard.io/kind': 'DockerVolume',
      'dockyard.io/deletion-policy': 'Delete',
    };
    for (const node of [n1, n2]) await node.createVolume({ Name: 'released-probe', Labels: releasedLabels });
    await recordRelease(
      kube.api,
      'n1',
      { uid: 'released-uid', kind: 'DockerVolume', namespace: NS, name: 'kept' },
      { now: new Date(), fieldManager: 'fault-test' },
    );
    const overwritten = markers.find((m) => m.host === 'n1')!;
    await writeDataMarker(n1, lab.workloadImage, { ...overwritten, content: 'overwritten' });
    await n2.getContainer(`${NS}.c3b`).stop({ t: 0 });
    await kube.patch('DockerContainer', NS, 'c5b', { spec: { command: ['sleep', '7200'] } });

    const violations = await checkInvariants({
      kube,
      nodes,
      namespaces: [NS],
      dataMarkers: markers,
      markerImage: lab.workloadImage,
    });
    const found = (rule: string, subject: string) =>
      violations.some((v) => v.rule === rule && v.subject.includes(subject));
    expect(found('one-object', 'DockerContainer sigkill/c0a@n1'), JSON.stringify(violations, null, 1)).toBe(
      true,
    );
    expect(found('orphan', 'n1:volume orphan-probe')).toBe(true);
    expect(found('orphan', 'n1:volume released-probe')).toBe(false);
    expect(found('orphan', 'n2:volume released-probe')).toBe(true);
    expect(found('data', `n1:volume ${overwritten.volume}`)).toBe(true);
    expect(found('status', 'DockerContainer sigkill/c3b@n2')).toBe(true);
    expect(found('spec-hash', 'DockerContainer sigkill/c5b@n2')).toBe(true);
    expect(found('ready', 'DockerContainer sigkill/c5b')).toBe(true);
  });
});
