import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../src/crds/dockercontainer.js';
import { OWNER_LABELS } from '../../src/crds/kit.js';
import {
  containerClient,
  ContainerNameConflict,
  type ObservedContainer,
} from '../../src/docker/container-client.js';
import {
  needsRecreate,
  networkChanges,
  recreateHash,
  recreateReasons,
  removedLimits,
  toCreateOptions,
  updateNeeded,
  type ContainerInputs,
} from '../../src/docker/container-spec.js';
import { waitFor } from '../../src/localenv/process.js';
import { ownerLabels } from '../../src/managed/ownership.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';

// container-client + toCreateOptions against a real Engine 20.10 node: every
// spec field reaches Docker as translated, nothing differs right after create
// (no phantom diff against daemon defaults), and what is meant to change in
// place (limits, restart policy, networks) does, on the same container.

const MiB = 1024 * 1024;
let lab: Lab;
let docker: Dockerode;

const names = { front: 'cc-front', back: 'cc-back', volume: 'cc-data' };

const spec: DockerContainerSpec = {
  hostName: 'n1',
  image: 'dockyard.local/busybox:1.36',
  command: ['sh', '-c'],
  args: ['trap "exit 0" TERM; echo "$GREETING" > /data/greeting; while :; do sleep 1; done'],
  workingDir: '/data',
  hostname: 'web-1',
  ports: [
    { containerPort: 8080, hostPort: 18080, hostIP: '127.0.0.1' },
    { containerPort: 5353, protocol: 'UDP' },
  ],
  mounts: [
    { type: 'volume', volume: 'data', target: '/data' },
    { type: 'tmpfs', target: '/scratch', tmpfsSize: '16Mi' },
  ],
  networks: [
    { name: 'front', aliases: ['web', 'www'], ipv4Address: '10.91.0.10' },
    { name: 'back', aliases: ['api'] },
  ],
  restartPolicy: { name: 'on-failure', maximumRetryCount: 3 },
  resources: { memory: '64Mi', memoryReservation: '32Mi', cpus: '500m', pidsLimit: 64 },
  healthcheck: {
    command: ['sh', '-c', 'test "$(cat /data/greeting)" = hello'],
    interval: '1s',
    timeout: '2s',
    retries: 3,
    startPeriod: '5s',
  },
  security: { capDrop: ['NET_RAW'], noNewPrivileges: true, readOnlyRootFilesystem: true },
  labels: { team: 'a' },
  stopSignal: 'SIGTERM',
  stopGracePeriod: '5s',
  logging: { driver: 'json-file', options: { 'max-size': '1m' } },
};

function inputsFor(name: string, image: string): ContainerInputs {
  // No spec hash: toCreateOptions adds the recreate hash, as for the controller's inputs.
  const owner = ownerLabels(
    { kind: 'DockerContainer', namespace: 'team-a', name, uid: `uid-${name}` },
    { deletionPolicy: 'Delete' },
  );
  return {
    name: `team-a.${name}`,
    image,
    env: [
      { name: 'GREETING', value: 'hello' },
      { name: 'EMPTY', value: '' },
    ],
    volumeNames: { data: names.volume },
    networkNames: { front: names.front, back: names.back },
    ownerLabels: owner,
  };
}

async function observe(id: string): Promise<ObservedContainer> {
  const o = await containerClient.observe(docker, id);
  if (!o) throw new Error(`container ${id} not found`);
  return o;
}

/** What the controller does after create and on every reconcile: disconnect, then connect. */
async function applyNetworks(s: DockerContainerSpec, inputs: ContainerInputs, id: string): Promise<void> {
  const changes = networkChanges(s, inputs, await observe(id));
  for (const n of changes.disconnect) await containerClient.disconnect(docker, n, id);
  for (const c of changes.connect) await containerClient.connect(docker, c.network, id, c);
}

beforeAll(async () => {
  lab = await startLab({ nodes: [{ name: 'n1' }] });
  await lab.node('n1').loadImage(lab.hostDocker, lab.workloadImage);
  docker = lab.node('n1').client();
  await docker.createNetwork({
    Name: names.front,
    CheckDuplicate: true,
    IPAM: { Config: [{ Subnet: '10.91.0.0/24' }] },
  });
  await docker.createNetwork({ Name: names.back, CheckDuplicate: true });
  await docker.createVolume({ Name: names.volume });
}, LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await lab?.stop();
});

describe('a full spec', () => {
  let inputs: ContainerInputs;
  let id: string;

  beforeAll(async () => {
    inputs = inputsFor('web', lab.workloadImage);
    id = await containerClient.create(docker, toCreateOptions(spec, inputs, recreateHash(spec, inputs)));
    await applyNetworks(spec, inputs, id);
    await containerClient.start(docker, id);
  });

  it('creates a container whose inspect matches every field', async () => {
    const info = (await docker.getContainer(id).inspect()) as unknown as {
      Name: string;
      Config: Record<string, unknown> & { Env: string[] };
      HostConfig: Record<string, unknown>;
      Mounts: Array<{ Type: string; Name?: string; Destination: string; RW: boolean }>;
      NetworkSettings: { Networks: Record<string, { Aliases: string[]; IPAddress: string }> };
    };
    expect(info.Name).toBe('/team-a.web');
    expect(info.Config).toMatchObject({
      Image: lab.workloadImage,
      Entrypoint: ['sh', '-c'],
      Cmd: spec.args,
      WorkingDir: '/data',
      Hostname: 'web-1',
      ExposedPorts: { '8080/tcp': {}, '5353/udp': {} },
      StopSignal: 'SIGTERM',
      StopTimeout: 5,
      Healthcheck: {
        Test: ['CMD', 'sh', '-c', 'test "$(cat /data/greeting)" = hello'],
        Interval: 1e9,
        Timeout: 2e9,
        Retries: 3,
        StartPeriod: 5e9,
      },
      Labels: {
        team: 'a',
        ...inputs.ownerLabels,
        [OWNER_LABELS.specHash]: recreateHash(spec, inputs),
        'dockyard.io/spec-groups': expect.stringContaining('env=') as unknown,
      },
    });
    expect(info.Config.Env).toEqual(expect.arrayContaining(['GREETING=hello', 'EMPTY=']));
    expect(info.HostConfig).toMatchObject({
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] },
      Mounts: [
        { Type: 'volume', Source: names.volume, Target: '/data' },
        { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 16 * MiB } },
      ],
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      Memory: 64 * MiB,
      MemoryReservation: 32 * MiB,
      NanoCpus: 500_000_000,
      PidsLimit: 64,
      CapDrop: ['NET_RAW'],
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges:true'],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
      NetworkMode: names.front,
    });
    expect(info.Mounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Type: 'volume', Name: names.volume, Destination: '/data', RW: true }),
        expect.objectContaining({ Type: 'tmpfs', Destination: '/scratch', RW: true }),
      ]),
    );
    expect(Object.keys(info.NetworkSettings.Networks).sort()).toEqual([names.back, names.front]);
    expect(info.NetworkSettings.Networks[names.front]?.IPAddress).toBe('10.91.0.10');
    expect(info.NetworkSettings.Networks[names.front]?.Aliases).toEqual(
      expect.arrayContaining(['web', 'www']),
    );
    expect(info.NetworkSettings.Networks[names.back]?.Aliases).toEqual(expect.arrayContaining(['api']));
  });

  it('runs and turns healthy (env, volume and healthcheck work together)', async () => {
    await waitFor(async () => (await observe(id)).state.health === 'healthy', {
      timeoutMs: 30_000,
      what: 'container healthy',
    });
    const o = await observe(id);
    expect(o).toMatchObject({
      id,
      name: 'team-a.web',
      image: lab.workloadImage,
      state: { status: 'running', running: true, health: 'healthy', restartCount: 0, oomKilled: false },
      networks: {
        [names.front]: { aliases: ['web', 'www'], ipv4Address: '10.91.0.10', ipAddress: '10.91.0.10' },
        [names.back]: { aliases: ['api'] },
      },
    });
    expect(o.state.startedAt).toBeDefined();
    expect(o.imageId).toMatch(/^sha256:/);
  });

  it('shows no difference right after create', async () => {
    const o = await observe(id);
    expect(updateNeeded(spec, o)).toBeUndefined();
    expect(networkChanges(spec, inputs, o)).toEqual({ disconnect: [], connect: [] });
    expect(needsRecreate(spec, inputs, o)).toBe(false);
    expect(recreateReasons(spec, inputs, o)).toEqual([]);
  });

  it('refuses a second container of the same name with ContainerNameConflict', async () => {
    const err: unknown = await containerClient
      .create(docker, toCreateOptions(spec, inputs, recreateHash(spec, inputs)))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerNameConflict);
  });

  it('raises memory in place, on the same container', async () => {
    const bigger: DockerContainerSpec = { ...spec, resources: { ...spec.resources, memory: '256Mi' } };
    const body = updateNeeded(bigger, await observe(id));
    expect(body).toEqual({ Memory: 256 * MiB, MemorySwap: 512 * MiB });
    await containerClient.update(docker, id, body ?? {});
    const o = await observe(id);
    expect(o.id).toBe(id);
    expect(o.state.running).toBe(true);
    expect(o.hostConfig.memory).toBe(256 * MiB);
    expect(updateNeeded(bigger, o)).toBeUndefined();
    expect(needsRecreate(bigger, inputs, o)).toBe(false);
  });

  it('changes the restart policy and clears reservation and pids limit in place', async () => {
    const relaxed: DockerContainerSpec = {
      ...spec,
      restartPolicy: { name: 'always' },
      resources: { memory: '256Mi', cpus: '1' },
    };
    const body = updateNeeded(relaxed, await observe(id));
    expect(body).toEqual({
      RestartPolicy: { Name: 'always' },
      MemoryReservation: -1,
      NanoCpus: 1e9,
      PidsLimit: 0,
    });
    await containerClient.update(docker, id, body ?? {});
    const o = await observe(id);
    expect(o.hostConfig).toMatchObject({
      restartPolicy: { name: 'always' },
      memoryReservation: 0,
      nanoCpus: 1e9,
      pidsLimit: 0,
    });
    expect(updateNeeded(relaxed, o)).toBeUndefined();
    // A memory or CPU limit cannot be removed in place: that is a recreate.
    const { resources: _r, ...unlimited } = relaxed;
    expect(updateNeeded(unlimited, o)).toBeUndefined();
    expect(removedLimits(unlimited, o)).toEqual(['resources.memory', 'resources.cpus']);
    expect(needsRecreate(unlimited, inputs, o)).toBe(true);
  });

  it('reconnects a network whose aliases changed, and drops a removed one', async () => {
    const changed: DockerContainerSpec = {
      ...spec,
      networks: [{ name: 'back', aliases: ['api', 'api2'] }],
    };
    expect(networkChanges(changed, inputs, await observe(id))).toEqual({
      disconnect: [names.front, names.back],
      connect: [{ network: names.back, aliases: ['api', 'api2'] }],
    });
    await applyNetworks(changed, inputs, id);
    const o = await observe(id);
    expect(Object.keys(o.networks)).toEqual([names.back]);
    expect([...(o.networks[names.back]?.aliases ?? [])].sort()).toEqual(['api', 'api2']);
    expect(networkChanges(changed, inputs, o)).toEqual({ disconnect: [], connect: [] });
    // And back to the spec.
    await applyNetworks(spec, inputs, id);
    expect(networkChanges(spec, inputs, await observe(id))).toEqual({ disconnect: [], connect: [] });
  });

  it('connect and disconnect are idempotent', async () => {
    await containerClient.connect(docker, names.back, id, { aliases: ['api'] });
    await containerClient.disconnect(docker, 'bridge', id);
    await containerClient.disconnect(docker, 'no-such-network', id);
  });

  it('stop, start and remove are idempotent', async () => {
    await containerClient.stop(docker, id, { timeoutSeconds: 5, signal: 'SIGTERM', apiVersion: '1.41' });
    await containerClient.stop(docker, id, { timeoutSeconds: 5 });
    let o = await observe(id);
    expect(o.state).toMatchObject({ status: 'exited', running: false, exitCode: 0 });
    expect(o.state.finishedAt).toBeDefined();
    expect(o.networks[names.front]).toEqual({ aliases: ['web', 'www'], ipv4Address: '10.91.0.10' });

    await containerClient.start(docker, id);
    await containerClient.start(docker, id);
    o = await observe(id);
    expect(o.state.running).toBe(true);
    expect(o.id).toBe(id);

    await containerClient.remove(docker, id, { force: true });
    await containerClient.remove(docker, id, { force: true });
    expect(await containerClient.observe(docker, id)).toBeUndefined();
    expect(await containerClient.observe(docker, 'team-a.web')).toBeUndefined();
    await containerClient.stop(docker, id, { timeoutSeconds: 1 });
    // The named volume outlives the container.
    await expect(docker.getVolume(names.volume).inspect()).resolves.toMatchObject({ Name: names.volume });
  });
});

describe('a minimal spec', () => {
  it('creates with daemon defaults and shows no difference either', async () => {
    const minimal: DockerContainerSpec = { hostName: 'n1', image: 'x', args: ['sleep', '3600'] };
    const inputs = { ...inputsFor('min', lab.workloadImage), env: [] };
    const id = await containerClient.create(
      docker,
      toCreateOptions(minimal, inputs, recreateHash(minimal, inputs)),
    );
    await applyNetworks(minimal, inputs, id);
    await containerClient.start(docker, id);
    const o = await observe(id);
    expect(o.hostConfig).toEqual({
      restartPolicy: { name: 'unless-stopped', maximumRetryCount: 0 },
      memory: 0,
      memorySwap: 0,
      memoryReservation: 0,
      nanoCpus: 0,
      pidsLimit: 0,
    });
    expect(Object.keys(o.networks)).toEqual(['bridge']);
    expect(updateNeeded(minimal, o)).toBeUndefined();
    expect(networkChanges(minimal, inputs, o)).toEqual({ disconnect: [], connect: [] });
    expect(needsRecreate(minimal, inputs, o)).toBe(false);

    // Adding a memory limit to a container created without one works in place.
    const limited: DockerContainerSpec = { ...minimal, resources: { memory: '32Mi' } };
    await containerClient.update(docker, id, updateNeeded(limited, o) ?? {});
    expect(updateNeeded(limited, await observe(id))).toBeUndefined();

    await containerClient.remove(docker, id, { force: true });
  });
});
