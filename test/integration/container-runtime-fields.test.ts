import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import { startSingleNodeWorld, WORLD_NODE, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// The process and runtime fields on a real Docker node, read back from
// `docker inspect`: sysctls, ulimits, shmSize, init, tty, stdinOpen,
// hostAliases (host-gateway too), dnsConfig and the healthcheck's shell form,
// which reaches healthy; `healthcheck.disable` turns off an image's failing
// HEALTHCHECK, so Ready means running. On the (baseline) host an unsafe
// sysctl, a privileged-only ulimit and a too large /dev/shm are refused
// (PolicyViolation naming each field); once the host is privileged the same
// container runs with them.

let world: World;
let kube: Kube;
let docker: Dockerode;
const NS = 'runtime';
/** An image whose own HEALTHCHECK always fails. */
const UNHEALTHY_IMAGE = 'dockyard-test/unhealthy:1';

beforeAll(async () => {
  world = await startSingleNodeWorld({ namespaces: [NS], dockyard: { syncPeriodMs: 3_000 } });
  ({ kube } = world);
  docker = world.lab.node(WORLD_NODE).client();
  // The container's config (its healthcheck) becomes the image's.
  const maker = await docker.createContainer({
    Image: world.image,
    Cmd: ['true'],
    Healthcheck: { Test: ['CMD', 'false'], Interval: 1e9, Retries: 1 },
  });
  await maker.commit({ repo: 'dockyard-test/unhealthy', tag: '1' });
  await maker.remove();
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

const inspect = (name: string) => docker.getContainer(`${NS}.${name}`).inspect();
const entry = (o: DockyardObject) => o.status?.hosts?.find((h) => h.name === WORLD_NODE);

/** Every field at once, all allowed on a baseline host; the healthcheck checks two of them from inside. */
const runtime = (image: string) => ({
  hostName: WORLD_NODE,
  image,
  // An interactive shell: it keeps running only because stdin stays open.
  command: ['sh'],
  tty: true,
  stdinOpen: true,
  init: true,
  sysctls: {
    'net.ipv4.tcp_keepalive_time': '600',
    'net.ipv4.ip_unprivileged_port_start': '80',
    'kernel.shm_rmid_forced': '1',
  },
  ulimits: [
    { name: 'nofile', soft: 1024, hard: 2048 },
    { name: 'core', soft: 0 },
    { name: 'stack', soft: 8388608, hard: 16777216 },
  ],
  resources: { shmSize: '128Mi' },
  hostAliases: [
    { ip: '10.0.0.5', hostnames: ['db', 'db.internal'] },
    { ip: 'fd00::5', hostnames: ['db6'] },
    { ip: 'host-gateway', hostnames: ['host.docker.internal'] },
  ],
  dnsConfig: {
    nameservers: ['10.0.0.53'],
    searches: ['svc.example.com'],
    options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }],
  },
  healthcheck: {
    // Shell form: a pipe, $(…) and [ ] need /bin/sh.
    shell:
      'grep db.internal /etc/hosts | grep -q 10.0.0.5 && ' +
      '[ "$(cat /proc/sys/net/ipv4/tcp_keepalive_time)" = 600 ]',
    interval: '1s',
    retries: 3,
  },
});

/** Baseline refuses all three; a privileged host allows them. */
const greedy = (image: string) => ({
  hostName: WORLD_NODE,
  image,
  command: ['sleep', '3600'],
  sysctls: { 'net.ipv4.tcp_syncookies': '1', 'net.core.somaxconn': '1024' },
  // Below the node's own limits: lowering needs no capability.
  ulimits: [{ name: 'memlock', soft: 65536, hard: 65536 }],
  resources: { shmSize: '2Gi' },
});

describe('DockerContainer process and runtime fields', () => {
  it('reaches Docker as the spec says; unsafe values are refused on a baseline host, then run on a privileged one', async () => {
    await Promise.all([
      kube.create('DockerContainer', NS, 'runtime', runtime(world.image)),
      kube.create('DockerContainer', NS, 'quiet', {
        hostName: WORLD_NODE,
        image: UNHEALTHY_IMAGE,
        command: ['sleep', '3600'],
        healthcheck: { disable: true },
      }),
      kube.create('DockerContainer', NS, 'greedy', greedy(world.image)),
    ]);

    const [ready, quiet, refused] = await Promise.all([
      kube.waitFor('DockerContainer', NS, 'runtime', isReady, 'Ready (healthy)', 60_000),
      kube.waitFor('DockerContainer', NS, 'quiet', isReady, 'Ready without a healthcheck', 60_000),
      kube.waitFor(
        'DockerContainer',
        NS,
        'greedy',
        (o) => condition(o, 'Ready')?.reason === 'PolicyViolation',
        'Ready=False PolicyViolation',
        60_000,
      ),
    ]);

    expect(entry(ready)).toMatchObject({ phase: 'Healthy', health: 'healthy' });
    const c = await inspect('runtime');
    expect(c.State.Health?.Status).toBe('healthy');
    expect(c.Config).toMatchObject({ Tty: true, OpenStdin: true });
    expect(c.Config.Healthcheck?.Test).toEqual(['CMD-SHELL', runtime(world.image).healthcheck.shell]);
    expect(c.HostConfig).toMatchObject({
      Init: true,
      Sysctls: runtime(world.image).sysctls,
      Ulimits: [
        { Name: 'nofile', Soft: 1024, Hard: 2048 },
        { Name: 'core', Soft: 0, Hard: 0 },
        { Name: 'stack', Soft: 8388608, Hard: 16777216 },
      ],
      ShmSize: 128 * 1024 * 1024,
      ExtraHosts: ['db:10.0.0.5', 'db.internal:10.0.0.5', 'db6:fd00::5', 'host.docker.internal:host-gateway'],
      Dns: ['10.0.0.53'],
      DnsSearch: ['svc.example.com'],
      DnsOptions: ['ndots:2', 'rotate'],
    });

    // The image's failing HEALTHCHECK is off: running is Ready, Docker tracks no health.
    expect(entry(quiet)).toMatchObject({ phase: 'Running' });
    const q = await inspect('quiet');
    expect(q.Config.Healthcheck?.Test).toEqual(['NONE']);
    expect(q.State.Health).toBeUndefined();

    const message = condition(refused, 'Ready')?.message ?? '';
    expect(condition(refused, 'Ready')?.status).toBe('False');
    for (const field of [
      'spec.sysctls[net.core.somaxconn]',
      'spec.ulimits[0].name',
      'spec.resources.shmSize',
    ]) {
      expect(message).toContain(field);
    }
    expect(message).not.toContain('tcp_syncookies');
    await expect(inspect('greedy')).rejects.toThrow();

    await kube.patch('DockerHost', undefined, WORLD_NODE, { spec: { securityPolicy: 'privileged' } });
    await kube.waitFor('DockerContainer', NS, 'greedy', isReady, 'Ready on a privileged host', 60_000);
    const g = await inspect('greedy');
    expect(g.HostConfig).toMatchObject({
      Sysctls: { 'net.ipv4.tcp_syncookies': '1', 'net.core.somaxconn': '1024' },
      Ulimits: [{ Name: 'memlock', Soft: 65536, Hard: 65536 }],
      ShmSize: 2 * 1024 ** 3,
    });
  });
});
