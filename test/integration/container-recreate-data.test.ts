import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { condition, isReady, Kube, registerLabHosts, type DockyardObject } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';

// Issue #12 items 2 and 13 on a real Docker node: a recreated container keeps
// its anonymous volumes (an image VOLUME), a new container that cannot start
// gives way to the old one, what a crash mid-recreate leaves is settled, and
// container states are read as kubelet reads them (created-never-started,
// stopped by Dockyard, OOM-killed).

let cp: ControlPlane;
let lab: Lab;
let dockyard: RunningDockyard;
let kube: Kube;
const NS = 'data';
const NODE = 'n1';
const POLL_MS = 3_000;
let image: string;
/** The workload image plus `VOLUME /data`, as a database image declares its data directory. */
const VOLUME_IMAGE = 'dockyard-volume-workload:1';

async function inspect(name: string) {
  try {
    return await lab.node(NODE).client().getContainer(name).inspect();
  } catch {
    return undefined;
  }
}

async function sh(script: string): Promise<string> {
  const r = await lab.node(NODE).exec(['sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`${script}: exit ${r.exitCode}: ${r.output}`);
  return r.output.trim();
}

/** Names of every container on the node (running or not). */
/** `cat` in the container, retried: a failed recreate's retry may have it stopped for a moment. */
async function readRow(name: string): Promise<string> {
  return waitFor(
    async () => {
      const r = await lab.node(NODE).exec(['docker', 'exec', name, 'cat', '/data/row']);
      return r.exitCode === 0 ? r.output.trim() : undefined;
    },
    { timeoutMs: 20_000, what: `/data/row in ${name}` },
  );
}

async function containerNames(): Promise<string[]> {
  const list = await lab.node(NODE).client().listContainers({ all: true });
  return list.map((c) => (c.Names?.[0] ?? '').replace(/^\//, ''));
}

async function events(name: string): Promise<string[]> {
  const list = await cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.regarding?.name === name).map((e) => `${e.reason}: ${e.note ?? ''}`);
}

async function waitForEvent(name: string, reason: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(async () => (await events(name)).find((n) => n.startsWith(`${reason}:`)), {
    timeoutMs,
    what: `${reason} event for ${name}`,
  });
}

function entry(o: DockyardObject) {
  return o.status?.hosts?.find((h) => h.name === NODE);
}

const phase = (p: string) => (o: DockyardObject) => entry(o)?.phase === p;

beforeAll(async () => {
  [cp, lab] = await Promise.all([startControlPlane(), startLab({ nodes: [{ name: NODE }] })]);
  image = lab.workloadImage;
  await lab.node(NODE).loadImage(lab.hostDocker, image);
  // docker commit --change: the image a database ships, with its data directory as a VOLUME.
  await sh(
    `docker rm -f volume-base >/dev/null 2>&1; docker create --name volume-base ${image} true >/dev/null && ` +
      `docker commit --change 'VOLUME /data' volume-base ${VOLUME_IMAGE} >/dev/null && docker rm volume-base >/dev/null`,
  );
  kube = new Kube(cp);
  dockyard = await startDockyard(cp, { syncPeriodMs: POLL_MS });
  await kube.namespace(NS);
  await registerLabHosts(kube, lab, {});
  // Host ports and memory limits without a host policy in the way: not what this file is about.
  await kube.patch('DockerHost', undefined, NODE, { spec: { securityPolicy: 'privileged' } });
}, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await dockyard?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

describe('a recreated container keeps its data', () => {
  const name = `${NS}.db`;

  it('mounts the old container’s anonymous volume (image VOLUME) on the new one, and removes the old one', async () => {
    await kube.create('DockerContainer', NS, 'db', {
      hostName: NODE,
      image: VOLUME_IMAGE,
      command: ['sleep', '3600'],
      stopGracePeriod: '1s',
      env: [{ name: 'VERSION', value: '1' }],
    });
    await kube.waitFor('DockerContainer', NS, 'db', isReady, 'db Ready', 60_000);
    const before = await inspect(name);
    const volume = before?.Mounts.find((m) => m.Destination === '/data');
    expect(volume?.Type).toBe('volume');
    await sh(`docker exec ${name} sh -c 'echo precious > /data/row'`);

    // env cannot change in place: a recreate.
    await kube.patch('DockerContainer', NS, 'db', { spec: { env: [{ name: 'VERSION', value: '2' }] } });
    const after = await waitFor(
      async () => {
        const c = await inspect(name);
        return c && c.Id !== before?.Id && c.State.Running ? c : undefined;
      },
      { timeoutMs: 30_000, what: 'db recreated and running' },
    );
    expect(after.Config.Env).toContain('VERSION=2');
    expect(after.Mounts.find((m) => m.Destination === '/data')?.Name).toBe(volume?.Name);
    expect(await readRow(name)).toBe('precious');
    // The old container is gone (its volume stays, in use by the new one), nothing left aside.
    expect(await inspect(before?.Id ?? '')).toBeUndefined();
    expect((await containerNames()).filter((n) => n.endsWith(name))).toEqual([name]);
    await waitForEvent('db', 'Recreated');
  });

  it('a new container that cannot start gives way: the old one is put back and runs, with its data', async () => {
    const before = await inspect(name);
    expect(before?.State.Running).toBe(true);
    await kube.patch('DockerContainer', NS, 'db', { spec: { command: ['/no/such/binary'] } });
    const note = await waitForEvent('db', 'RecreateFailed');
    expect(note).toContain('kept the previous container and started it again');
    const failed = await kube.waitFor(
      'DockerContainer',
      NS,
      'db',
      (o) => condition(o, 'Ready')?.status === 'False',
      'Ready=False after the failed recreate',
    );
    expect(entry(failed)?.message).toContain('could not replace');
    const current = await waitFor(
      async () => {
        const c = await inspect(name);
        return c?.State.Running ? c : undefined;
      },
      { timeoutMs: 15_000, what: 'the old container running again' },
    );
    expect(current.Id).toBe(before?.Id);
    expect(await readRow(name)).toBe('precious');

    // A fix rolls forward, still with the data, and nothing is left aside.
    await kube.patch('DockerContainer', NS, 'db', { spec: { command: ['sleep', '3601'] } });
    await waitFor(
      async () => {
        const c = await inspect(name);
        return c && c.Id !== before?.Id && c.State.Running ? c : undefined;
      },
      { timeoutMs: 30_000, what: 'db recreated with the fixed command' },
    );
    await kube.waitFor('DockerContainer', NS, 'db', isReady, 'db Ready again', 30_000);
    expect(await readRow(name)).toBe('precious');
    expect((await containerNames()).filter((n) => n.endsWith(name))).toEqual([name]);
  });

  it('a crash after the old container was renamed aside: the next reconcile puts it back (same container, same data)', async () => {
    const before = await inspect(name);
    const aside = `${before?.Id.slice(0, 12)}_${name}`;
    // What a controller crash right after the rename step leaves.
    await sh(`docker stop -t 1 ${name} >/dev/null && docker rename ${name} ${aside}`);
    const back = await waitFor(
      async () => {
        const c = await inspect(name);
        return c?.State.Running ? c : undefined;
      },
      { timeoutMs: 20_000, what: 'db back at its name' },
    );
    expect(back.Id).toBe(before?.Id);
    expect(await inspect(aside)).toBeUndefined();
    expect(await readRow(name)).toBe('precious');
  });

  it('a crash after the new container started: the next reconcile removes the old one left aside, keeping its volumes', async () => {
    const db = await kube.get('DockerContainer', NS, 'db');
    const uid = db?.metadata.uid ?? '';
    const aside = `0123456789ab_${name}`;
    // The controller dies right before the last step: its successor (a new
    // process, which has settled nothing yet) finds an old container of ours,
    // stopped and aside.
    await dockyard.stop();
    await sh(
      `docker create --name ${aside} --label dockyard.io/uid=${uid} --label dockyard.io/kind=DockerContainer ` +
        `-v /left ${VOLUME_IMAGE} true >/dev/null`,
    );
    const leftVolume = (await inspect(aside))?.Mounts.find((m) => m.Destination === '/left')?.Name ?? '';
    const current = (await inspect(name))?.Id;
    dockyard = await startDockyard(cp, { syncPeriodMs: POLL_MS });
    await waitFor(async () => (await inspect(aside)) === undefined, {
      timeoutMs: 20_000,
      what: 'the old container aside removed',
    });
    expect((await inspect(name))?.Id).toBe(current);
    expect(await sh(`docker volume inspect -f '{{.Name}}' ${leftVolume}`)).toBe(leftVolume);
  });
});

describe('container states are read as kubelet reads them', () => {
  it('a container created but never started (its start failed: port taken) is started once it can be', async () => {
    await sh(`docker run -d --name blocker -p 127.0.0.1:18090:8080 ${image} sleep 3600 >/dev/null`);
    await kube.create('DockerContainer', NS, 'late', {
      hostName: NODE,
      image,
      command: ['sleep', '3600'],
      restartPolicy: { name: 'no' },
      ports: [{ containerPort: 8080, hostPort: 18090, hostIP: '127.0.0.1' }],
    });
    const created = await waitFor(
      async () => {
        const c = await inspect(`${NS}.late`);
        return c?.State.Status === 'created' ? c : undefined;
      },
      { timeoutMs: 30_000, what: 'late created, its start refused' },
    );
    expect(created.State.Running).toBe(false);
    await sh('docker rm -f blocker >/dev/null');
    await waitFor(async () => (await inspect(`${NS}.late`))?.State.Running, {
      timeoutMs: 40_000,
      what: 'late started once the port is free',
    });
    const late = await kube.waitFor('DockerContainer', NS, 'late', isReady, 'late Ready', 30_000);
    expect(entry(late)?.phase).toBe('Running');
  });

  it('a container Dockyard stopped, which exited 0, is started when Running is wanted again (restart policy no)', async () => {
    await kube.create('DockerContainer', NS, 'graceful', {
      hostName: NODE,
      image,
      // Exits 0 on SIGTERM, as a well-behaved server does.
      command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'],
      restartPolicy: { name: 'no' },
    });
    await kube.waitFor('DockerContainer', NS, 'graceful', isReady, 'graceful Ready', 30_000);
    await kube.patch('DockerContainer', NS, 'graceful', { spec: { state: 'Stopped' } });
    await kube.waitFor(
      'DockerContainer',
      NS,
      'graceful',
      (o) => isReady(o) && phase('Stopped')(o),
      'graceful Stopped',
      30_000,
    );
    const stopped = await inspect(`${NS}.graceful`);
    expect(stopped?.State.ExitCode).toBe(0);
    await kube.patch('DockerContainer', NS, 'graceful', { spec: { state: 'Running' } });
    await waitFor(async () => (await inspect(`${NS}.graceful`))?.State.Running, {
      timeoutMs: 20_000,
      what: 'graceful started again',
    });
    const running = await kube.waitFor(
      'DockerContainer',
      NS,
      'graceful',
      (o) => isReady(o) && phase('Running')(o),
      'graceful Running',
      20_000,
    );
    expect(condition(running, 'Stalled')).toBeUndefined();
    expect((await inspect(`${NS}.graceful`))?.Id).toBe(stopped?.Id);
  });

  it('an OOM kill is a failure under on-failure and its retry count: Failed after Docker’s one retry, not started again', async () => {
    await kube.create('DockerContainer', NS, 'hog', {
      hostName: NODE,
      image,
      // The shell holds 200 MB read from /dev/zero: far above the limit.
      command: ['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); sleep 3600'],
      resources: { memory: '16Mi' },
      restartPolicy: { name: 'on-failure', maximumRetryCount: 1 },
    });
    const failed = await kube.waitFor(
      'DockerContainer',
      NS,
      'hog',
      (o) => condition(o, 'Stalled')?.reason === 'Failed',
      'hog Failed',
      60_000,
    );
    expect(condition(failed, 'Ready')?.status).toBe('False');
    expect(entry(failed)?.message).toContain('OOMKilled');
    const dead = await inspect(`${NS}.hog`);
    expect(dead?.State.OOMKilled).toBe(true);
    expect(dead?.State.Running).toBe(false);
    expect(dead?.RestartCount).toBe(1);
    // Left down over a few polls: Dockyard does not restart what the policy gave up on.
    await new Promise((r) => setTimeout(r, POLL_MS * 2));
    const later = await inspect(`${NS}.hog`);
    expect(later?.State.StartedAt).toBe(dead?.State.StartedAt);
    expect(later?.State.Running).toBe(false);
    expect((await events('hog')).some((n) => n.startsWith('Failed:') && n.includes('OOMKilled'))).toBe(true);
  });
});
