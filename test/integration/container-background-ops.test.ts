import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { labRegistry } from '../support/registry.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// A long stopGracePeriod (or a pull) never holds a shared worker: with ONE
// DockerContainer worker, another tenant's container becomes Ready while a
// container that ignores SIGTERM waits out its 20 s grace period, on a stop
// (spec.state Stopped), on a delete and on a recreate (a spec change); the
// delete then finishes without a failure, the recreate goes on once the old
// container stopped. The same while a pull hangs on a frozen (paused) registry; once
// refused, the pull's own reason is reported.

let world: World;
let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
let image: string;
const SLOW = 'slow-tenant';
const OTHER = 'other-tenant';
const GRACE_S = 20;
/** Well before the grace period ends. */
const PROMPT_MS = 10_000;
/** Long enough for the single worker to have taken the stop. */
const STOP_UNDER_WAY_MS = 3_000;
/**
 * On a frozen registry a pull hangs at least for Docker's TLS handshake
 * timeout (10 s; it tries https first): the other tenant must be Ready well
 * within it, counted from the pull's start.
 */
const PULL_PROMPT_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inspect(name: string) {
  try {
    return await lab.node('n1').client().getContainer(name).inspect();
  } catch {
    return undefined;
  }
}

async function eventsOf(namespace: string, name: string) {
  const list = await cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
  return list.items.filter((e) => e.regarding?.name === name);
}

const entry = (o: DockyardObject) => o.status?.hosts?.find((h) => h.name === 'n1');

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'n1' }], registry: true },
    loadWorkloadImage: true,
    namespaces: [SLOW, OTHER],
    dockyard: { maxConcurrentReconciles: 1, syncPeriodMs: 5_000 },
  });
  ({ cp, lab, kube, image } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

/** Creates a plain container in the other tenant and returns how long it took to be Ready. */
async function otherBecomesReady(name: string, timeoutMs = PROMPT_MS): Promise<number> {
  const started = Date.now();
  await kube.create('DockerContainer', OTHER, name, { hostName: 'n1', image, command: ['sleep', '3600'] });
  await kube.waitFor('DockerContainer', OTHER, name, isReady, 'Ready', timeoutMs);
  return Date.now() - started;
}

describe('DockerContainer pulls and stops off the worker', () => {
  it('a stop waiting out a long grace period does not delay another tenant; it is reported as Stopping, then Stopped', async () => {
    await kube.create('DockerContainer', SLOW, 'stubborn', {
      hostName: 'n1',
      image,
      // Ignores SIGTERM: every stop waits out the whole grace period.
      command: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'],
      stopGracePeriod: `${GRACE_S}s`,
    });
    await kube.waitFor('DockerContainer', SLOW, 'stubborn', isReady, 'Ready', 30_000);
    const stopAsked = Date.now();
    await kube.patch('DockerContainer', SLOW, 'stubborn', { spec: { state: 'Stopped' } });
    // The stop is under way (the single worker took it), then the other tenant comes.
    await sleep(STOP_UNDER_WAY_MS);
    await otherBecomesReady('first');
    // Still within the grace period: the stop is still going on.
    expect(Date.now() - stopAsked).toBeLessThan((GRACE_S - 3) * 1000);
    expect((await inspect(`${SLOW}.stubborn`))?.State.Running).toBe(true);
    const stopping = await kube.waitFor(
      'DockerContainer',
      SLOW,
      'stubborn',
      (o) => entry(o)?.phase === 'Stopping',
      'Stopping',
      PROMPT_MS,
    );
    expect(entry(stopping)?.message).toBe(`stopping ${SLOW}.stubborn (grace period ${GRACE_S} s)`);
    // In progress, not failed: Ready is not True, Reconciling says Progressing.
    expect(condition(stopping, 'Ready')?.status).not.toBe('True');
    expect(condition(stopping, 'Reconciling')).toMatchObject({ status: 'True', reason: 'Progressing' });

    const stopped = await kube.waitFor(
      'DockerContainer',
      SLOW,
      'stubborn',
      (o) => isReady(o) && entry(o)?.phase === 'Stopped',
      'Ready and Stopped',
      (GRACE_S + 30) * 1000,
    );
    expect(entry(stopped)?.message).toBeUndefined();
    expect((await inspect(`${SLOW}.stubborn`))?.State.Running).toBe(false);
    await waitFor(async () => (await eventsOf(SLOW, 'stubborn')).some((e) => e.reason === 'Stopped'), {
      timeoutMs: 10_000,
      what: 'Stopped Event',
    });
    const events = await eventsOf(SLOW, 'stubborn');
    expect(events.filter((e) => e.type === 'Warning').map((e) => `${e.reason}: ${e.note}`)).toEqual([]);
  });

  it('a delete waits out the grace period without failing and without delaying another tenant', async () => {
    await kube.patch('DockerContainer', SLOW, 'stubborn', { spec: { state: 'Running' } });
    await kube.waitFor(
      'DockerContainer',
      SLOW,
      'stubborn',
      (o) => isReady(o) && entry(o)?.phase === 'Running',
      'Running again',
      30_000,
    );
    const deleted = Date.now();
    await kube.delete('DockerContainer', SLOW, 'stubborn');
    await sleep(STOP_UNDER_WAY_MS);
    await otherBecomesReady('second');
    expect(Date.now() - deleted).toBeLessThan((GRACE_S - 3) * 1000);
    expect(await kube.get('DockerContainer', SLOW, 'stubborn')).toBeDefined();
    const deleting = await kube.waitFor(
      'DockerContainer',
      SLOW,
      'stubborn',
      (o) => /^stopping /.test(String(entry(o)?.message ?? '')),
      'Deleting while stopping',
      PROMPT_MS,
    );
    expect(entry(deleting)).toMatchObject({
      phase: 'Deleting',
      message: `stopping ${SLOW}.stubborn (grace period ${GRACE_S} s)`,
    });

    await kube.waitForGone('DockerContainer', SLOW, 'stubborn', (GRACE_S + 30) * 1000);
    // The grace period was waited out, not cut short.
    expect(Date.now() - deleted).toBeGreaterThanOrEqual((GRACE_S - 2) * 1000);
    expect(await inspect(`${SLOW}.stubborn`)).toBeUndefined();
    const events = await eventsOf(SLOW, 'stubborn');
    expect(events.filter((e) => e.type === 'Warning').map((e) => `${e.reason}: ${e.note}`)).toEqual([]);
    expect(events.some((e) => e.reason === 'Deleted')).toBe(true);
  });

  it('a recreate waits out the old container’s grace period off the worker, then replaces it', async () => {
    const spec = {
      hostName: 'n1',
      image,
      command: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'],
      stopGracePeriod: `${GRACE_S}s`,
      restartPolicy: { name: 'always' },
      env: [{ name: 'VERSION', value: '1' }],
    };
    await kube.create('DockerContainer', SLOW, 'renewed', spec);
    const ready = await kube.waitFor('DockerContainer', SLOW, 'renewed', isReady, 'Ready', 30_000);
    const oldId = entry(ready)?.id;
    expect(oldId).toBeDefined();
    const changed = Date.now();
    await kube.patch('DockerContainer', SLOW, 'renewed', {
      spec: { env: [{ name: 'VERSION', value: '2' }] },
    });
    await sleep(STOP_UNDER_WAY_MS);
    await otherBecomesReady('fourth');
    // Still within the grace period: the old one is still stopping, not replaced yet.
    expect(Date.now() - changed).toBeLessThan((GRACE_S - 3) * 1000);
    const stillOld = await inspect(`${SLOW}.renewed`);
    expect(stillOld?.Id).toBe(oldId);
    expect(stillOld?.State.Running).toBe(true);
    const stopping = await kube.waitFor(
      'DockerContainer',
      SLOW,
      'renewed',
      (o) => entry(o)?.phase === 'Stopping',
      'Stopping',
      PROMPT_MS,
    );
    expect(entry(stopping)?.message).toBe(
      `stopping ${SLOW}.renewed to recreate it (grace period ${GRACE_S} s)`,
    );
    expect(condition(stopping, 'Ready')?.status).not.toBe('True');

    const renewed = await kube.waitFor(
      'DockerContainer',
      SLOW,
      'renewed',
      (o) => isReady(o) && entry(o)?.id !== undefined && entry(o)?.id !== oldId,
      'Ready, recreated',
      (GRACE_S + 30) * 1000,
    );
    // The grace period was waited out, not cut short.
    expect(Date.now() - changed).toBeGreaterThanOrEqual((GRACE_S - 2) * 1000);
    const now = await inspect(`${SLOW}.renewed`);
    expect(now?.Id).toBe(entry(renewed)?.id);
    expect(now?.State.Running).toBe(true);
    expect(now?.Config.Env).toContain('VERSION=2');
    // Its own policy, not the `no` the old one was kept down with.
    expect(now?.HostConfig.RestartPolicy?.Name).toBe('always');
    expect(await inspect(oldId as string)).toBeUndefined();
    await waitFor(async () => (await eventsOf(SLOW, 'renewed')).some((e) => e.reason === 'Recreated'), {
      timeoutMs: 10_000,
      what: 'Recreated Event',
    });
    const events = await eventsOf(SLOW, 'renewed');
    expect(events.filter((e) => e.type === 'Warning').map((e) => `${e.reason}: ${e.note}`)).toEqual([]);
    expect(events.some((e) => e.reason === 'Stopping')).toBe(true);
  });

  it("a pull hanging on a frozen registry does not delay another tenant; refused, it is Ready=False with the pull's reason", async () => {
    const { registry, seeded } = labRegistry(lab);
    const tag = Object.keys(seeded.tags)[0];
    const ref = `${registry.address}/${seeded.repository}:${tag}`;
    // Frozen, the registry accepts connections and never answers: the pull hangs.
    const frozen = lab.hostDocker.getContainer(registry.networkAlias);
    await frozen.pause();
    try {
      // A container presents no credentials: this registry wants some.
      await kube.create('DockerContainer', SLOW, 'anonymous', {
        hostName: 'n1',
        image: ref,
        command: ['sleep', '3600'],
      });
      // The pull is under way, then the other tenant comes.
      await sleep(STOP_UNDER_WAY_MS);
      await otherBecomesReady('third', PULL_PROMPT_MS);
      const pulling = await kube.waitFor(
        'DockerContainer',
        SLOW,
        'anonymous',
        (o) => entry(o)?.phase === 'Pulling',
        'Pulling',
        PROMPT_MS,
      );
      expect(entry(pulling)?.message).toBe(`pulling ${ref}`);
      // Still hanging: the registry has not answered anything yet.
      expect(condition(pulling, 'Ready')?.reason).toBe('Progressing');
    } finally {
      await frozen.unpause();
    }
    const refused = await kube.waitFor(
      'DockerContainer',
      SLOW,
      'anonymous',
      (o) => condition(o, 'Ready')?.reason === 'Unauthorized',
      'Ready=False Unauthorized',
      60_000,
    );
    expect(entry(refused)?.phase).toBe('Pulling');
    expect(entry(refused)?.message).toMatch(/attempt \d+, retrying in \d+ s/);
    await waitFor(async () => (await eventsOf(SLOW, 'anonymous')).some((e) => e.reason === 'PullFailed'), {
      timeoutMs: 10_000,
      what: 'PullFailed Event',
    });
  });
});
