import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// The mount options, network attachment fields, networkMode container and
// external volumes/networks of issue #14 on real Docker nodes (Engine 20.10,
// API 1.41): `open` (securityPolicy privileged) runs them and `docker inspect`
// shows each where the Engine keeps it; subPath needs API 1.45 and is refused
// there (UnsupportedByEngine); `base` (baseline) refuses shared propagation
// and SELinux relabelling with PolicyViolation and creates nothing.

let world: World;
let lab: Lab;
let kube: Kube;
const NS = 'mnt';

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'open' }, { name: 'base' }] },
    loadWorkloadImage: true,
    namespaces: [NS],
    dockyard: { syncPeriodMs: 3_000 },
  });
  ({ lab, kube } = world);
  await kube.patch('DockerHost', undefined, 'open', { spec: { securityPolicy: 'privileged' } });
  await kube.waitFor('DockerHost', undefined, 'open', isReady, 'Ready as privileged', 60_000);
}, WORLD_START_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await world?.stop();
});

const sleeper = (host = 'open') => ({ hostName: host, image: world.image, command: ['sleep', '3600'] });
const docker = (host = 'open') => lab.node(host).client();
const inspect = (name: string, host = 'open') => docker(host).getContainer(`${NS}.${name}`).inspect();
const ready = (kind: string, name: string) => kube.waitFor(kind, NS, name, isReady, 'Ready', 90_000);
const readyReason = (kind: string, name: string, reason: string) =>
  kube.waitFor(
    kind,
    NS,
    name,
    (o: DockyardObject) => condition(o, 'Ready')?.reason === reason,
    reason,
    60_000,
  );

async function warnings(name: string): Promise<string[]> {
  const list = await world.cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items
    .filter((e) => e.regarding?.name === name && e.type === 'Warning')
    .map((e) => `${e.reason}: ${e.note ?? ''}`);
}

describe('mount options, network attachments, shared network namespaces and external objects', () => {
  it('reads every field back from docker inspect, refuses what the engine or the policy cannot allow', async () => {
    // Objects that exist on the host before Dockyard: only looked at, never changed.
    await docker().createVolume({ Name: 'admin-shared', Labels: { owner: 'admin' } });
    await docker().createNetwork({ Name: 'admin-net', Labels: { owner: 'admin' } });
    const mac = '02:42:0a:e7:05:0a';
    await Promise.all([
      kube.create('DockerVolume', NS, 'data', { hostName: 'open' }),
      kube.create('DockerNetwork', NS, 'net6', {
        hostName: 'open',
        enableIPv6: true,
        ipam: { config: [{ subnet: '10.231.5.0/24' }, { subnet: 'fd00:231:5::/64' }] },
      }),
      kube.create('DockerVolume', NS, 'ext-vol', {
        hostName: 'open',
        external: true,
        volumeName: 'admin-shared',
      }),
      kube.create('DockerNetwork', NS, 'ext-net', {
        hostName: 'open',
        external: true,
        networkName: 'admin-net',
      }),
      kube.create('DockerVolume', NS, 'ext-missing', {
        hostName: 'open',
        external: true,
        volumeName: 'nowhere',
      }),
      kube.create('DockerContainer', NS, 'mounts', {
        ...sleeper(),
        mounts: [
          { type: 'volume', volume: 'data', target: '/d', noCopy: true },
          { type: 'tmpfs', target: '/t', tmpfsSize: '1Mi', tmpfsMode: '1777' },
          { type: 'bind', hostPath: '/tmp', target: '/host-tmp', propagation: 'rprivate' },
          { type: 'bind', hostPath: '/srv/relabelled', target: '/rel', selinuxRelabel: 'shared' },
        ],
      }),
      kube.create('DockerContainer', NS, 'addressed', {
        ...sleeper(),
        networks: [
          { name: 'net6', ipv4Address: '10.231.5.10', ipv6Address: 'fd00:231:5::10', macAddress: mac },
        ],
      }),
      kube.create('DockerContainer', NS, 'subpath', {
        ...sleeper(),
        mounts: [{ type: 'volume', volume: 'data', target: '/d', subPath: 'conf' }],
      }),
      kube.create('DockerContainer', NS, 'vpn', sleeper()),
      kube.create('DockerContainer', NS, 'app', {
        ...sleeper(),
        security: { networkMode: 'container', networkContainer: 'vpn' },
      }),
      kube.create('DockerContainer', NS, 'ext-user', {
        ...sleeper(),
        mounts: [{ type: 'volume', volume: 'ext-vol', target: '/shared' }],
        networks: [{ name: 'ext-net' }],
      }),
      kube.create('DockerContainer', NS, 'leaky', {
        ...sleeper('base'),
        mounts: [
          { type: 'bind', hostPath: '/', target: '/host', propagation: 'rshared' },
          { type: 'bind', hostPath: '/etc', target: '/e', selinuxRelabel: 'private' },
        ],
      }),
    ]);

    // Mount options.
    await ready('DockerContainer', 'mounts');
    const mounts = await inspect('mounts');
    const byTarget = new Map(mounts.HostConfig.Mounts?.map((m) => [m.Target, m]));
    expect(byTarget.get('/d')?.VolumeOptions).toMatchObject({ NoCopy: true });
    expect(byTarget.get('/t')?.TmpfsOptions).toEqual({ SizeBytes: 1_048_576, Mode: 0o1777 });
    expect(byTarget.get('/host-tmp')?.BindOptions).toEqual({ Propagation: 'rprivate' });
    expect(mounts.HostConfig.Binds).toEqual(['/srv/relabelled:/rel:z']);
    expect(mounts.Mounts.find((m) => m.Destination === '/rel')).toMatchObject({ Type: 'bind', Mode: 'z' });
    const mode = await lab.node('open').exec(['docker', 'exec', `${NS}.mounts`, 'stat', '-c', '%a', '/t']);
    expect(mode.output.trim()).toBe('1777');

    // Static IPv4 + IPv6 and the MAC on the first network.
    await ready('DockerContainer', 'addressed');
    const addressed = await inspect('addressed');
    const endpoint = addressed.NetworkSettings.Networks[`${NS}.net6`];
    expect(endpoint?.IPAMConfig).toEqual({ IPv4Address: '10.231.5.10', IPv6Address: 'fd00:231:5::10' });
    expect(endpoint?.GlobalIPv6Address).toBe('fd00:231:5::10');
    expect(endpoint?.MacAddress).toBe(mac);

    // subPath needs Engine API 1.45: refused on this 20.10 host, naming field and version; nothing created.
    const subpath = await readyReason('DockerContainer', 'subpath', 'UnsupportedByEngine');
    expect(condition(subpath, 'Stalled')?.status).toBe('True');
    expect(condition(subpath, 'Ready')?.message).toContain('spec.mounts[0].subPath');
    expect(await warnings('subpath')).toContainEqual(
      expect.stringMatching(/^UnsupportedByEngine: .*subPath.*API 1\.45/),
    );
    await expect(inspect('subpath')).rejects.toThrow();

    // The sidecar pattern: app lives in vpn's network namespace, and is recreated with it.
    await Promise.all([ready('DockerContainer', 'vpn'), ready('DockerContainer', 'app')]);
    const vpn1 = await inspect('vpn');
    const app1 = await inspect('app');
    expect(app1.HostConfig.NetworkMode).toBe(`container:${vpn1.Id}`);
    await kube.patch('DockerContainer', NS, 'vpn', { spec: { labels: { rev: '2' } } });
    const app2 = await waitFor(
      async () => {
        const [v, a] = await Promise.all(
          [inspect('vpn'), inspect('app')].map((p) => p.catch(() => undefined)),
        );
        return v &&
          a &&
          v.Id !== vpn1.Id &&
          a.State.Running &&
          a.HostConfig.NetworkMode === `container:${v.Id}`
          ? a
          : undefined;
      },
      { timeoutMs: 90_000, what: 'app recreated in the recreated vpn namespace' },
    );
    expect(app2.Id).not.toBe(app1.Id);
    await ready('DockerContainer', 'app');

    // External volume and network: used as usual, untouched by deleting their resources.
    await Promise.all([ready('DockerVolume', 'ext-vol'), ready('DockerNetwork', 'ext-net')]);
    await ready('DockerContainer', 'ext-user');
    const user = await inspect('ext-user');
    expect(user.Mounts.find((m) => m.Destination === '/shared')?.Name).toBe('admin-shared');
    expect(Object.keys(user.NetworkSettings.Networks)).toEqual(['admin-net']);
    const missing = await readyReason('DockerVolume', 'ext-missing', 'ExternalNotFound');
    expect(condition(missing, 'Ready')?.message).toContain('nowhere');
    await kube.delete('DockerContainer', NS, 'ext-user');
    await kube.waitForGone('DockerContainer', NS, 'ext-user', 60_000);
    await Promise.all(
      [
        ['DockerVolume', 'ext-vol'],
        ['DockerNetwork', 'ext-net'],
        ['DockerVolume', 'ext-missing'],
      ].map(async ([kind = '', name = '']) => {
        await kube.delete(kind, NS, name);
        await kube.waitForGone(kind, NS, name, 60_000);
      }),
    );
    expect((await docker().getVolume('admin-shared').inspect()).Labels).toEqual({ owner: 'admin' });
    expect((await docker().getNetwork('admin-net').inspect()).Labels).toEqual({ owner: 'admin' });
    await expect(docker().getVolume('nowhere').inspect()).rejects.toThrow();

    // Baseline: shared propagation and SELinux relabelling change the host, named on their own.
    const leaky = await readyReason('DockerContainer', 'leaky', 'PolicyViolation');
    const message = condition(leaky, 'Ready')?.message ?? '';
    expect(message).toContain('spec.mounts[0].propagation');
    expect(message).toContain('spec.mounts[1].selinuxRelabel');
    await expect(inspect('leaky', 'base')).rejects.toThrow();
  });
});
