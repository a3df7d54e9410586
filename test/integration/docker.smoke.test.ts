import Dockerode from 'dockerode';
import { Network, type StartedNetwork } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerNode } from '../../src/localenv/docker-node.js';
import { HostDocker } from '../../src/localenv/host-docker.js';
import { ensureNodeImage, ensureWorkloadImage } from '../../src/localenv/images.js';
import { Registry, pullImage, type SeededRepository } from '../../src/localenv/registry.js';

// Builds the whole local Docker environment itself (no global setup): host
// daemon, images, registry, one plain-TCP node and one mutual-TLS node.

const log = (m: string): void => console.log(`[docker-smoke] ${m}`);

let host: HostDocker | undefined;
let network: StartedNetwork | undefined;
let registry: Registry | undefined;
let seeded: SeededRepository;
let workloadImage: string;
const nodes: Record<'plain' | 'tls', DockerNode | undefined> = { plain: undefined, tls: undefined };

function node(kind: 'plain' | 'tls'): DockerNode {
  const n = nodes[kind];
  if (!n) throw new Error(`${kind} node did not start`);
  return n;
}

function reg(): Registry {
  if (!registry) throw new Error('registry did not start');
  return registry;
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

beforeAll(async () => {
  const t0 = Date.now();
  host = await HostDocker.ensure({ log });
  const docker = host.client();
  workloadImage = await ensureWorkloadImage(docker, log);
  const nodeImage = await ensureNodeImage(docker, log);
  log(`images ready after ${Date.now() - t0} ms`);
  network = await new Network().start();
  registry = await new Registry({ network, image: nodeImage, log }).start();
  seeded = await registry.seedWorkloadImage(docker, workloadImage);
  const t1 = Date.now();
  nodes.plain = new DockerNode({ name: 'smoke-plain', network, registry, image: nodeImage, log });
  nodes.tls = new DockerNode({ name: 'smoke-tls', tls: true, network, registry, image: nodeImage, log });
  await Promise.all([nodes.plain.start(), nodes.tls.start()]);
  log(`two nodes started in ${Date.now() - t1} ms; environment ready after ${Date.now() - t0} ms`);
});

afterAll(async () => {
  const t0 = Date.now();
  await Promise.all([nodes.plain?.stop(), nodes.tls?.stop()]);
  await registry?.stop();
  await network?.stop();
  await host?.stop();
  log(`environment stopped in ${Date.now() - t0} ms`);
});

describe.each(['plain', 'tls'] as const)('%s node', (kind) => {
  const ref = (tag: string): string => `${reg().address}/${seeded.repository}:${tag}`;

  it('refuses to pull from the registry without credentials', async () => {
    const err: unknown = await pullImage(node(kind).client(), ref('1.36')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    log(`${kind} node, pull without credentials: ${(err as Error).message}`);
    expect((err as Error).message).toMatch(/401|unauthorized|no basic auth credentials/i);
  });

  it('refuses to pull with a wrong password', async () => {
    const wrong = { ...reg().auth, password: `${reg().password}-wrong` };
    await expect(pullImage(node(kind).client(), ref('1.36'), wrong)).rejects.toThrow(/401|unauthorized/i);
  });

  it('pulls with credentials and gets the digest the registry reported', async () => {
    const client = node(kind).client();
    for (const tag of ['1.36', '1.36-alt']) {
      await pullImage(client, ref(tag), reg().auth);
      const info = await client.getImage(ref(tag)).inspect();
      expect(info.RepoDigests).toContain(`${reg().address}/${seeded.repository}@${seeded.tags[tag]}`);
    }
  });

  it('runs a container attached to a network with a volume, then removes them all', async () => {
    const client = node(kind).client();
    const suffix = `${kind}-${Date.now()}`;
    const volume = await client.createVolume({ Name: `smoke-vol-${suffix}` });
    const net = await client.createNetwork({ Name: `smoke-net-${suffix}` });
    const container = await client.createContainer({
      name: `smoke-ctr-${suffix}`,
      Image: ref('1.36'),
      Cmd: ['sleep', '300'],
      HostConfig: { Binds: [`${volume.name}:/data`] },
    });
    await container.start();
    await net.connect({ Container: container.id });

    const info = await container.inspect();
    expect(info.State.Running).toBe(true);
    expect(Object.keys(info.NetworkSettings.Networks)).toContain(`smoke-net-${suffix}`);
    expect(info.Mounts.map((m) => m.Name)).toContain(volume.name);
    expect((await client.getVolume(volume.name).inspect()).Name).toBe(volume.name);

    await container.remove({ force: true });
    await net.remove();
    await client.getVolume(volume.name).remove();
    for (const probe of [
      () => container.inspect(),
      () => client.getNetwork(net.id).inspect(),
      () => client.getVolume(volume.name).inspect(),
    ]) {
      const err: unknown = await probe().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(statusOf(err)).toBe(404);
    }
  });
});

describe('TLS node', () => {
  it('refuses a client without a client certificate', async () => {
    const n = node('tls');
    const tls = n.tls;
    expect(tls).toBeDefined();
    const anonymous = new Dockerode({
      host: '127.0.0.1',
      port: n.port,
      protocol: 'https',
      ca: tls?.ca,
      timeout: 5_000,
    });
    await expect(anonymous.ping()).rejects.toThrow();
    const plainHttp = new Dockerode({ host: '127.0.0.1', port: n.port, protocol: 'http', timeout: 5_000 });
    await expect(plainHttp.ping()).rejects.toThrow();
    await expect(n.client().ping()).resolves.toBeDefined();
  });
});

describe('node lifecycle', () => {
  it('keeps its endpoint and images across halt() and resume()', async () => {
    const n = node('plain');
    const endpoint = n.endpoint;
    await pullImage(n.client(), `${reg().address}/${seeded.repository}:1.36`, reg().auth);
    await n.halt();
    await expect(n.ping(2_000)).rejects.toThrow();
    await n.resume();
    expect(n.endpoint).toBe(endpoint);
    await expect(n.ping()).resolves.toBeUndefined();
    const images = await n.client().listImages();
    expect(images.flatMap((i) => i.RepoTags ?? [])).toContain(`${reg().address}/${seeded.repository}:1.36`);
    // The registry forward comes back with the node.
    await pullImage(n.client(), `${reg().address}/${seeded.repository}:1.36-alt`, reg().auth);
  });

  it('stops answering _ping while paused and answers again after unpause()', async () => {
    const n = node('plain');
    await n.pause();
    try {
      const started = Date.now();
      await expect(n.ping(2_000)).rejects.toThrow(/timeout|timed out/i);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    } finally {
      await n.unpause();
    }
    await expect(n.ping()).resolves.toBeUndefined();
  });

  it('loads an image from the host daemon (docker save | docker load)', async () => {
    if (!host) throw new Error('host daemon did not start');
    const n = node('tls');
    await n.loadImage(host.client(), workloadImage);
    const images = await n.client().listImages();
    expect(images.flatMap((i) => i.RepoTags ?? [])).toContain(workloadImage);
  });

  it('runs commands inside the node', async () => {
    const { exitCode, output } = await node('tls').exec(['docker', 'info', '--format', '{{.Driver}}']);
    expect(exitCode).toBe(0);
    expect(output.trim()).toBe('overlay2');
  });
});
