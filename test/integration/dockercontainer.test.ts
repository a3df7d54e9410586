import { EventsV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { condition, isReady, Kube, registerLabHosts, type DockyardObject } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';
import { bothOrNeither } from '../support/both-or-neither.js';

// DockerContainer end to end on two real Docker nodes: dependencies, env from
// a Secret, ports, volumes, networks with aliases, in-place updates versus
// recreates, drift repair, health, crash loops, security policy, deletion.

let cp: ControlPlane;
let lab: Lab;
let dockyard: RunningDockyard;
let kube: Kube;
const NS = 'shop';
const POLL_MS = 3_000;
let image: string;

async function inspect(node: string, name: string) {
  try {
    return await lab.node(node).client().getContainer(name).inspect();
  } catch {
    return undefined;
  }
}

/** Docker write requests (anything but GET) Dockyard made, from its own metrics. */
async function dockerWrites(): Promise<number> {
  const address = dockyard.manager.metricsAddress();
  const text = await (await fetch(`http://127.0.0.1:${address?.port}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(
    /^dockyard_docker_requests_total\{host="[^"]+",operation="(\w+) [^"]*",outcome="\w+"\} (\d+)/gm,
  )) {
    if (m[1] !== 'GET' && m[1] !== 'HEAD') total += Number(m[2]);
  }
  return total;
}

async function events(name: string): Promise<string[]> {
  const list = await cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.regarding?.name === name).map((e) => `${e.reason}: ${e.note ?? ''}`);
}

const ready = (o: DockyardObject) => isReady(o);
const hostsReady = (n: number) => (o: DockyardObject) => isReady(o) && o.status?.hostsReady === `${n}/${n}`;
const readyReason = (reason: string) => (o: DockyardObject) => condition(o, 'Ready')?.reason === reason;
const stalledReason = (reason: string) => (o: DockyardObject) => condition(o, 'Stalled')?.reason === reason;

function entry(o: DockyardObject, host: string) {
  return o.status?.hosts?.find((h) => h.name === host);
}

beforeAll(async () => {
  [cp, lab] = await bothOrNeither(
    startControlPlane(),
    startLab({ nodes: [{ name: 'n1' }, { name: 'n2' }, { name: 'open' }] }),
  );
  image = lab.workloadImage;
  await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, image)));
  kube = new Kube(cp);
  dockyard = await startDockyard(cp, { syncPeriodMs: POLL_MS });
  await kube.namespace(NS);
  await registerLabHosts(kube, lab, { n1: { pool: 'web' }, n2: { pool: 'web' } });
  await kube.patch('DockerHost', undefined, 'open', { spec: { securityPolicy: 'privileged' } });
}, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await dockyard?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

const web = { matchLabels: { pool: 'web' } };

describe('DockerContainer', () => {
  it('runs with env from a Secret, a port, a volume and two networks on two nodes; a peer reaches it by alias', async () => {
    await kube.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'db' }, stringData: { password: 'hunter2' } },
    });
    await kube.create('DockerNetwork', NS, 'front', { hostSelector: web });
    await kube.create('DockerNetwork', NS, 'back', { hostSelector: web });
    await kube.create('DockerVolume', NS, 'data', { hostSelector: web, deletionPolicy: 'Delete' });
    // Created before its dependencies are ready: it waits, then runs.
    await kube.create('DockerContainer', NS, 'api', {
      hostSelector: web,
      image,
      command: [
        'sh',
        '-c',
        'echo "$GREETING $DB_PASSWORD" > /data/boot; while true; do echo pong | nc -l -p 8080; done',
      ],
      env: [
        { name: 'GREETING', value: 'hello' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      ],
      ports: [{ containerPort: 8080, hostPort: 18080, hostIP: '127.0.0.1' }],
      mounts: [{ type: 'volume', volume: 'data', target: '/data' }],
      networks: [
        { name: 'front', aliases: ['api-front'] },
        { name: 'back', aliases: ['api-back'] },
      ],
      resources: { memory: '64Mi' },
    });
    const api = await kube.waitFor('DockerContainer', NS, 'api', hostsReady(2), 'Ready on 2 hosts', 60_000);
    expect(api.status?.hosts?.map((h) => h.phase)).toEqual(['Running', 'Running']);
    await kube.create('DockerContainer', NS, 'client', {
      hostName: 'n1',
      image,
      command: ['sleep', '3600'],
      networks: [{ name: 'back' }],
    });
    await kube.waitFor('DockerContainer', NS, 'client', ready, 'Ready');

    for (const node of ['n1', 'n2']) {
      const c = await inspect(node, `${NS}.api`);
      expect(c?.Config.Env).toEqual(expect.arrayContaining(['GREETING=hello', 'DB_PASSWORD=hunter2']));
      expect(Object.keys(c?.NetworkSettings.Networks ?? {}).sort()).toEqual([`${NS}.back`, `${NS}.front`]);
      expect(c?.HostConfig.PortBindings?.['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '18080' }]);
      expect(c?.HostConfig.Memory).toBe(64 * 1024 * 1024);
      expect(entry(api, node)?.ipAddresses).toBeDefined();
    }
    const boot = await lab.node('n1').exec(['docker', 'exec', `${NS}.api`, 'cat', '/data/boot']);
    expect(boot.output.trim()).toBe('hello hunter2');
    const reply = await lab
      .node('n1')
      .exec(['docker', 'exec', `${NS}.client`, 'sh', '-c', 'echo ping | nc -w 3 api-back 8080']);
    expect(reply.output.trim()).toBe('pong');
  });

  it('updates memory and restart policy in place, recreates for a new command, and re-applying changes nothing', async () => {
    const before = (await inspect('n1', `${NS}.api`))?.Id;
    await kube.patch('DockerContainer', NS, 'api', {
      spec: { resources: { memory: '96Mi' }, restartPolicy: { name: 'always' } },
    });
    await waitFor(async () => (await inspect('n1', `${NS}.api`))?.HostConfig.Memory === 96 * 1024 * 1024, {
      timeoutMs: 15_000,
      what: 'memory updated',
    });
    const updated = await inspect('n1', `${NS}.api`);
    expect(updated?.Id).toBe(before);
    expect(updated?.HostConfig.RestartPolicy?.Name).toBe('always');
    await kube.waitFor('DockerContainer', NS, 'api', hostsReady(2), 'Ready after update');

    // Re-applying the same spec: no Docker writes at all over a few polls.
    const writes = await dockerWrites();
    await kube.patch('DockerContainer', NS, 'api', {
      metadata: { annotations: { 'dockyard.io/reconcile-requested-at': 'now' } },
    });
    await new Promise((r) => setTimeout(r, POLL_MS * 2));
    expect(await dockerWrites()).toBe(writes);
    expect((await inspect('n1', `${NS}.api`))?.Id).toBe(before);

    await kube.patch('DockerContainer', NS, 'api', {
      spec: {
        command: ['sh', '-c', 'echo v2 > /data/boot; while true; do echo pong2 | nc -l -p 8080; done'],
      },
    });
    await waitFor(
      async () => {
        const c = await inspect('n1', `${NS}.api`);
        return c !== undefined && c.Id !== before && c.State.Running;
      },
      { timeoutMs: 30_000, what: 'recreated with the new command' },
    );
    await kube.waitFor('DockerContainer', NS, 'api', hostsReady(2), 'Ready after recreate');
    const notes = await waitFor(
      async () => {
        const e = await events('api');
        return e.some((n) => n.startsWith('Recreated')) ? e : undefined;
      },
      { timeoutMs: 10_000, what: 'Recreated event' },
    );
    expect(notes.find((n) => n.startsWith('Recreated'))).toContain('command');
  });

  it('rolls the container when the referenced Secret changes', async () => {
    const before = (await inspect('n2', `${NS}.api`))?.Id;
    await kube.core.replaceNamespacedSecret({
      name: 'db',
      namespace: NS,
      body: { metadata: { name: 'db' }, stringData: { password: 'correct-horse' } },
    });
    await waitFor(
      async () => {
        const c = await inspect('n2', `${NS}.api`);
        return c?.Config.Env?.includes('DB_PASSWORD=correct-horse') && c.Id !== before;
      },
      // Its shell (PID 1) ignores SIGTERM: the roll first waits out the 10 s stop grace period.
      { timeoutMs: 10_000 + POLL_MS * 4, what: 'container rolled with the new Secret value' },
    );
  });

  it('undoes docker rm -f, docker stop, and docker start against spec.state within seconds', async () => {
    await lab.node('n1').exec(['docker', 'rm', '-f', `${NS}.client`]);
    await waitFor(async () => (await inspect('n1', `${NS}.client`))?.State.Running, {
      timeoutMs: 10_000,
      what: 'client recreated after rm -f',
    });
    await lab.node('n1').exec(['docker', 'stop', '-t', '1', `${NS}.client`]);
    await waitFor(async () => (await inspect('n1', `${NS}.client`))?.State.Running, {
      timeoutMs: 10_000,
      what: 'client started after docker stop',
    });
    // A short grace period: sleep (PID 1) ignores SIGTERM, so every stop waits it out.
    await kube.patch('DockerContainer', NS, 'client', { spec: { state: 'Stopped', stopGracePeriod: '1s' } });
    await waitFor(async () => (await inspect('n1', `${NS}.client`))?.State.Running === false, {
      timeoutMs: 20_000,
      what: 'client stopped per spec',
    });
    await kube.waitFor(
      'DockerContainer',
      NS,
      'client',
      (o) => isReady(o) && entry(o, 'n1')?.phase === 'Stopped',
      'Ready while Stopped',
    );
    await lab.node('n1').exec(['docker', 'start', `${NS}.client`]);
    await waitFor(async () => (await inspect('n1', `${NS}.client`))?.State.Running === false, {
      timeoutMs: 20_000,
      what: 'client stopped again after docker start',
    });
  });

  it('follows health: Ready turns False with reason Unhealthy when the healthcheck fails, and back', async () => {
    await kube.create('DockerContainer', NS, 'probe', {
      hostName: 'n2',
      image,
      command: ['sh', '-c', 'touch /tmp/healthy; sleep 3600'],
      healthcheck: {
        command: ['sh', '-c', 'test -f /tmp/healthy'],
        interval: '1s',
        // Generous: a loaded machine's exec can outlast 1 s, which would read as unhealthy.
        timeout: '5s',
        retries: 1,
      },
    });
    const healthy = await kube.waitFor('DockerContainer', NS, 'probe', ready, 'Ready (healthy)', 30_000);
    expect(entry(healthy, 'n2')?.phase).toBe('Healthy');
    await lab.node('n2').exec(['docker', 'exec', `${NS}.probe`, 'rm', '/tmp/healthy']);
    const sick = await kube.waitFor(
      'DockerContainer',
      NS,
      'probe',
      readyReason('Unhealthy'),
      'Unhealthy',
      30_000,
    );
    expect(condition(sick, 'Ready')?.status).toBe('False');
    await lab.node('n2').exec(['docker', 'exec', `${NS}.probe`, 'touch', '/tmp/healthy']);
    await kube.waitFor('DockerContainer', NS, 'probe', ready, 'Ready again', 30_000);
    const notes = await events('probe');
    expect(notes.some((n) => n.startsWith('Unhealthy'))).toBe(true);
  });

  it('shows CrashLoopBackOff for a container that keeps exiting, without hot-looping the API server', async () => {
    await kube.create('DockerContainer', NS, 'crash', {
      hostName: 'n2',
      image,
      command: ['sh', '-c', 'sleep 0.2; exit 3'],
    });
    const looping = await kube.waitFor(
      'DockerContainer',
      NS,
      'crash',
      readyReason('CrashLoopBackOff'),
      'CrashLoopBackOff',
      30_000,
    );
    expect(entry(looping, 'n2')?.phase).toBe('CrashLoopBackOff');
    // Count the writes to the object over 10 s with a real watch: they follow
    // Docker's own restart back-off (a die/start pair per crash), not a hot loop.
    const writes: string[] = [];
    const watch = await new Watch(cp.kubeConfig()).watch(
      `/apis/dockyard.io/v1alpha1/namespaces/${NS}/dockercontainers`,
      { fieldSelector: 'metadata.name=crash', resourceVersion: looping.metadata.resourceVersion ?? '0' },
      (type: string) => {
        if (type === 'MODIFIED') writes.push(type);
      },
      () => {},
    );
    const restartsBefore = (await inspect('n2', `${NS}.crash`))?.RestartCount ?? 0;
    await new Promise((r) => setTimeout(r, 10_000));
    watch.abort();
    const restarts = ((await inspect('n2', `${NS}.crash`))?.RestartCount ?? 0) - restartsBefore;
    expect(restarts).toBeGreaterThan(0);
    expect(writes.length).toBeLessThanOrEqual(2 * restarts + 4);
    expect((await events('crash')).filter((n) => n.startsWith('BackOff')).length).toBeLessThanOrEqual(1);
  });

  it('refuses privileged mode and the Docker socket on a baseline host, creating nothing; a privileged host runs them', async () => {
    await kube.create('DockerContainer', NS, 'root', {
      hostName: 'n1',
      image,
      command: ['sleep', '3600'],
      security: { privileged: true },
    });
    await kube.create('DockerContainer', NS, 'sock', {
      hostName: 'n1',
      image,
      command: ['sleep', '3600'],
      mounts: [{ type: 'bind', hostPath: '/var/run/docker.sock', target: '/var/run/docker.sock' }],
    });
    const root = await kube.waitFor(
      'DockerContainer',
      NS,
      'root',
      stalledReason('PolicyViolation'),
      'PolicyViolation',
    );
    expect(condition(root, 'Stalled')?.message).toContain('spec.security.privileged');
    const sock = await kube.waitFor(
      'DockerContainer',
      NS,
      'sock',
      stalledReason('PolicyViolation'),
      'PolicyViolation',
    );
    expect(condition(sock, 'Stalled')?.message).toContain('spec.mounts[0].hostPath');
    expect(await inspect('n1', `${NS}.root`)).toBeUndefined();
    expect(await inspect('n1', `${NS}.sock`)).toBeUndefined();

    await kube.patch('DockerContainer', NS, 'sock', { spec: { hostName: 'open' } });
    await kube.waitFor('DockerContainer', NS, 'sock', ready, 'Ready on the privileged host', 30_000);
    const ps = await lab
      .node('open')
      .exec(['docker', 'exec', `${NS}.sock`, 'ls', '-l', '/var/run/docker.sock']);
    expect(ps.output).toContain('docker.sock');
    await kube.patch('DockerContainer', NS, 'root', { spec: { hostName: 'open' } });
    // The privileged host's policy admits it: Dockyard creates it. (On these
    // test machines Docker itself then cannot start a privileged container:
    // the Docker-in-Docker node lacks CAP_SYS_RESOURCE, "unable to apply caps";
    // the daemon's error is what the status reports, not a policy violation.)
    const admitted = await kube.waitFor(
      'DockerContainer',
      NS,
      'root',
      (o) => condition(o, 'Stalled')?.reason !== 'PolicyViolation' && entry(o, 'open') !== undefined,
      'admitted on the privileged host',
      30_000,
    );
    expect(condition(admitted, 'Stalled')).toBeUndefined();
    const created = await waitFor(async () => inspect('open', `${NS}.root`), {
      timeoutMs: 15_000,
      what: 'privileged container created',
    });
    expect(created.HostConfig.Privileged).toBe(true);
    await kube.delete('DockerContainer', NS, 'root');
    await kube.waitForGone('DockerContainer', NS, 'root', 30_000);
  });

  it('removes the container from every host on delete; deletionPolicy Orphan keeps it', async () => {
    await kube.create('DockerContainer', NS, 'keep', {
      hostName: 'n2',
      image,
      command: ['sleep', '3600'],
      deletionPolicy: 'Orphan',
    });
    await kube.waitFor('DockerContainer', NS, 'keep', ready, 'Ready');
    await kube.delete('DockerContainer', NS, 'keep');
    await kube.waitForGone('DockerContainer', NS, 'keep');
    expect((await inspect('n2', `${NS}.keep`))?.State.Running).toBe(true);

    await kube.delete('DockerContainer', NS, 'api');
    await kube.waitForGone('DockerContainer', NS, 'api', 60_000);
    expect(await inspect('n1', `${NS}.api`)).toBeUndefined();
    expect(await inspect('n2', `${NS}.api`)).toBeUndefined();
  });
});
