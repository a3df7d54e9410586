import type Dockerode from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import {
  apiAtLeast,
  containerClient,
  ContainerNameConflict,
  toObserved,
  type ContainerInspectJson,
  type ConnectOptions,
} from './container-client.js';

const ID = '9feaad8db850603c78ae885747dd43011b8031e03f2065cb7ca1b824c70364c4';

/** Trimmed from a real Engine 20.10 inspect of a running container on two user networks. */
const running: ContainerInspectJson = {
  Id: ID,
  Created: '2026-05-07T21:10:01.123456789Z',
  Name: '/team-a.web',
  Image: 'sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741',
  RestartCount: 2,
  State: {
    Status: 'running',
    Running: true,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    ExitCode: 0,
    StartedAt: '2026-05-07T21:10:02.5Z',
    FinishedAt: '0001-01-01T00:00:00Z',
    Health: { Status: 'healthy' },
  },
  Config: {
    Image: 'dockyard-workload:1',
    Hostname: 'web-1',
    Labels: { 'dockyard.io/uid': 'u1', 'dockyard.io/spec-hash': 'abc' },
  },
  HostConfig: {
    RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
    Memory: 67108864,
    MemorySwap: 134217728,
    MemoryReservation: 33554432,
    NanoCpus: 500000000,
    PidsLimit: 50,
  },
  NetworkSettings: {
    Networks: {
      'team-a.front': {
        IPAMConfig: { IPv4Address: '10.77.0.50' },
        // As Engine 20.10 reports them: the user's, then the short ID and the hostname it adds.
        Aliases: ['web', '9feaad8db850', 'web-1'],
        IPAddress: '10.77.0.50',
      },
      'team-a.back': { IPAMConfig: null, Aliases: ['api', '9feaad8db850', 'web-1'], IPAddress: '172.18.0.3' },
    },
  },
};

describe('toObserved', () => {
  it('maps a running container on two networks', () => {
    expect(toObserved(running)).toEqual({
      id: ID,
      name: 'team-a.web',
      labels: { 'dockyard.io/uid': 'u1', 'dockyard.io/spec-hash': 'abc' },
      image: 'dockyard-workload:1',
      imageId: 'sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741',
      created: '2026-05-07T21:10:01.123456789Z',
      state: {
        status: 'running',
        running: true,
        paused: false,
        restarting: false,
        exitCode: 0,
        startedAt: '2026-05-07T21:10:02.5Z',
        restartCount: 2,
        health: 'healthy',
        oomKilled: false,
      },
      hostConfig: {
        restartPolicy: { name: 'unless-stopped', maximumRetryCount: 0 },
        memory: 67108864,
        memorySwap: 134217728,
        memoryReservation: 33554432,
        nanoCpus: 500000000,
        pidsLimit: 50,
      },
      networks: {
        'team-a.front': { aliases: ['web'], ipv4Address: '10.77.0.50', ipAddress: '10.77.0.50' },
        'team-a.back': { aliases: ['api'], ipAddress: '172.18.0.3' },
      },
      mounts: [],
      declaredVolumes: [],
    });
  });

  it('maps mounts and the volume paths the image declared', () => {
    const anon = 'a'.repeat(64);
    const o = toObserved({
      ...running,
      Config: { ...running.Config, Volumes: { '/var/lib/db': {}, '/cache': {} } },
      Mounts: [
        { Type: 'volume', Name: anon, Destination: '/var/lib/db', RW: true },
        { Type: 'volume', Name: 'team-a.data', Destination: '/data', RW: false },
        { Type: 'bind', Destination: '/etc/app', RW: true },
      ],
    });
    expect(o.mounts).toEqual([
      { type: 'volume', name: anon, destination: '/var/lib/db', readOnly: false },
      { type: 'volume', name: 'team-a.data', destination: '/data', readOnly: true },
      { type: 'bind', destination: '/etc/app', readOnly: false },
    ]);
    expect(o.declaredVolumes).toEqual(['/cache', '/var/lib/db']);
  });

  it('maps a stopped, never-limited container on the default bridge', () => {
    const o = toObserved({
      Id: ID,
      Created: '2026-05-07T21:10:01Z',
      Name: '/plain',
      Image: 'sha256:1',
      RestartCount: 0,
      State: {
        Status: 'exited',
        Running: false,
        Paused: false,
        Restarting: false,
        OOMKilled: true,
        ExitCode: 137,
        StartedAt: '2026-05-07T21:10:02Z',
        FinishedAt: '2026-05-07T21:11:00Z',
      },
      Config: { Image: 'busybox', Labels: null },
      HostConfig: {
        RestartPolicy: { Name: '', MaximumRetryCount: 0 },
        Memory: 0,
        MemorySwap: 0,
        MemoryReservation: 0,
        NanoCpus: 0,
        PidsLimit: null,
      },
      NetworkSettings: { Networks: { bridge: { IPAMConfig: null, Aliases: null, IPAddress: '' } } },
    });
    expect(o.state).toEqual({
      status: 'exited',
      running: false,
      paused: false,
      restarting: false,
      exitCode: 137,
      startedAt: '2026-05-07T21:10:02Z',
      finishedAt: '2026-05-07T21:11:00Z',
      restartCount: 0,
      oomKilled: true,
    });
    expect(o.labels).toEqual({});
    expect(o.hostConfig).toEqual({
      restartPolicy: { name: 'no', maximumRetryCount: 0 },
      memory: 0,
      memorySwap: 0,
      memoryReservation: 0,
      nanoCpus: 0,
      pidsLimit: 0,
    });
    expect(o.networks).toEqual({ bridge: { aliases: [] } });
  });

  it.each<[string, Partial<NonNullable<ContainerInspectJson['HostConfig']>>, number, number]>([
    ['PidsLimit null', { PidsLimit: null }, 0, 33554432],
    ['PidsLimit -1', { PidsLimit: -1 }, 0, 33554432],
    ['PidsLimit 0', { PidsLimit: 0 }, 0, 33554432],
    ['MemoryReservation -1 (cleared by update)', { MemoryReservation: -1 }, 50, 0],
  ])('normalises unlimited: %s', (_title, host, pidsLimit, memoryReservation) => {
    const o = toObserved({ ...running, HostConfig: { ...running.HostConfig, ...host } });
    expect(o.hostConfig).toMatchObject({ pidsLimit, memoryReservation });
  });

  it.each([
    ['starting', 'starting'],
    ['healthy', 'healthy'],
    ['unhealthy', 'unhealthy'],
    ['none', undefined],
  ])('health %s → %s', (status, health) => {
    const o = toObserved({ ...running, State: { ...running.State, Health: { Status: status } } });
    expect(o.state.health).toBe(health);
  });

  it('reports no health without a healthcheck', () => {
    const { Health: _h, ...state } = running.State ?? {};
    expect(toObserved({ ...running, State: state }).state).not.toHaveProperty('health');
  });

  it('keeps the user aliases of a created, never-started container', () => {
    const o = toObserved({
      ...running,
      NetworkSettings: {
        Networks: { n: { Aliases: ['m1'], IPAMConfig: { IPv4Address: '10.0.0.5' }, IPAddress: '' } },
      },
    });
    expect(o.networks).toEqual({ n: { aliases: ['m1'], ipv4Address: '10.0.0.5' } });
  });

  it('maps a static IPv6 address and the MAC in use (an empty MAC is none)', () => {
    const o = toObserved({
      ...running,
      NetworkSettings: {
        Networks: {
          n: { IPAMConfig: { IPv6Address: 'fd00::5' }, MacAddress: '02:00:00:00:00:05' },
          m: { IPAMConfig: null, MacAddress: '' },
        },
      },
    });
    expect(o.networks).toEqual({
      n: { aliases: [], ipv6Address: 'fd00::5', macAddress: '02:00:00:00:00:05' },
      m: { aliases: [] },
    });
  });

  it('maps a host-network container', () => {
    const o = toObserved({
      ...running,
      NetworkSettings: { Networks: { host: { Aliases: null, IPAddress: '' } } },
    });
    expect(o.networks).toEqual({ host: { aliases: [] } });
  });

  it('tolerates missing sections', () => {
    const o = toObserved({ Id: ID, Name: 'x', Created: 'c', Image: 'sha256:1' });
    expect(o).toMatchObject({ name: 'x', image: '', labels: {}, networks: {}, state: { status: 'unknown' } });
  });
});

describe('apiAtLeast', () => {
  it.each<[string | undefined, boolean]>([
    ['1.41', false],
    ['1.42', true],
    ['1.43', true],
    ['1.9', false],
    ['2.0', true],
    [undefined, false],
    ['', false],
    ['v1.44', false],
  ])('%s ≥ 1.42 is %s', (version, ok) => {
    expect(apiAtLeast(version, 1, 42)).toBe(ok);
  });
});

/** An error shaped like dockerode's. */
function dockerError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message },
  });
}

function fakeApi(calls: {
  container?: Partial<
    Record<
      'inspect' | 'start' | 'stop' | 'remove' | 'update' | 'rename',
      (opts?: unknown) => Promise<unknown>
    >
  >;
  network?: Partial<Record<'connect' | 'disconnect', (opts?: unknown) => Promise<unknown>>>;
  createContainer?: (opts: unknown) => Promise<unknown>;
  listContainers?: (opts: unknown) => Promise<unknown>;
}) {
  const container = { ...calls.container };
  const network = { ...calls.network };
  return {
    api: {
      getContainer: vi.fn(() => container),
      getNetwork: vi.fn(() => network),
      createContainer: calls.createContainer,
      listContainers: calls.listContainers,
    } as unknown as Dockerode,
    container,
    network,
  };
}

const ok = () => Promise.resolve(Buffer.alloc(0));
const fail = (code: number, message: string) => () => Promise.reject(dockerError(code, message));

describe('containerClient tolerance', () => {
  it('observe: 404 → undefined, other errors thrown', async () => {
    const gone = fakeApi({ container: { inspect: fail(404, 'No such container: x') } });
    expect(await containerClient.observe(gone.api, 'x')).toBeUndefined();
    const broken = fakeApi({ container: { inspect: fail(500, 'boom') } });
    await expect(containerClient.observe(broken.api, 'x')).rejects.toThrow(/boom/);
    const there = fakeApi({ container: { inspect: () => Promise.resolve(running) } });
    expect((await containerClient.observe(there.api, 'x'))?.id).toBe(ID);
  });

  it('create: name in the query, the rest in the body; 409 → ContainerNameConflict', async () => {
    const createContainer = vi.fn((_opts: unknown) => Promise.resolve({ id: ID }));
    const { api } = fakeApi({ createContainer });
    expect(await containerClient.create(api, { name: 'team-a.web', Image: 'i', Env: ['SECRET=x'] })).toBe(ID);
    expect(createContainer).toHaveBeenCalledWith({
      _query: { name: 'team-a.web' },
      _body: { Image: 'i', Env: ['SECRET=x'] },
    });

    const taken = fakeApi({
      createContainer: fail(409, 'Conflict. The container name "/team-a.web" is already in use'),
    });
    const err: unknown = await containerClient
      .create(taken.api, { name: 'team-a.web', Image: 'i' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerNameConflict);
    expect((err as ContainerNameConflict).containerName).toBe('team-a.web');

    const bad = fakeApi({ createContainer: fail(400, 'invalid mount config') });
    await expect(containerClient.create(bad.api, { name: 'x' })).rejects.toThrow(/invalid mount config/);
  });

  it.each<[string, () => Promise<unknown>, boolean]>([
    ['ok', ok, true],
    ['304 already started', fail(304, 'container already started'), true],
    ['404', fail(404, 'No such container'), false],
  ])('start: %s', async (_title, start, resolves) => {
    const { api } = fakeApi({ container: { start } });
    const p = containerClient.start(api, ID);
    await (resolves ? expect(p).resolves.toBeUndefined() : expect(p).rejects.toThrow());
  });

  it.each<[string, () => Promise<unknown>, boolean]>([
    ['ok', ok, true],
    ['304 already stopped', fail(304, 'container already stopped'), true],
    ['404 gone', fail(404, 'No such container'), true],
    ['500', fail(500, 'cannot stop'), false],
  ])('stop: %s', async (_title, stop, resolves) => {
    const { api } = fakeApi({ container: { stop } });
    const p = containerClient.stop(api, ID, { timeoutSeconds: 10 });
    await (resolves ? expect(p).resolves.toBeUndefined() : expect(p).rejects.toThrow());
  });

  it.each<[string, { signal?: string; apiVersion?: string; timeoutSeconds: number }, unknown]>([
    ['timeout only', { timeoutSeconds: 30 }, { t: 30 }],
    ['fractional timeout rounds up', { timeoutSeconds: 1.2 }, { t: 2 }],
    [
      'signal on API 1.41 is left to the container StopSignal',
      { timeoutSeconds: 5, signal: 'SIGQUIT', apiVersion: '1.41' },
      { t: 5 },
    ],
    ['signal with unknown API version', { timeoutSeconds: 5, signal: 'SIGQUIT' }, { t: 5 }],
    [
      'signal on API 1.42',
      { timeoutSeconds: 5, signal: 'SIGQUIT', apiVersion: '1.42' },
      { t: 5, signal: 'SIGQUIT' },
    ],
  ])('stop query: %s', async (_title, opts, query) => {
    const stop = vi.fn(ok);
    const { api } = fakeApi({ container: { stop } });
    await containerClient.stop(api, ID, opts);
    expect(stop).toHaveBeenCalledWith(query);
  });

  it.each<[string, () => Promise<unknown>, boolean]>([
    ['ok', ok, true],
    ['404 gone', fail(404, 'No such container'), true],
    ['409 removal in progress', fail(409, 'removal of container x is already in progress'), true],
    ['409 other', fail(409, 'You cannot remove a running container'), false],
  ])('remove: %s', async (_title, remove, resolves) => {
    const { api } = fakeApi({ container: { remove } });
    const p = containerClient.remove(api, ID, { force: true });
    await (resolves ? expect(p).resolves.toBeUndefined() : expect(p).rejects.toThrow());
  });

  it('remove: force as asked, anonymous volumes with it', async () => {
    const remove = vi.fn(ok);
    const { api } = fakeApi({ container: { remove } });
    await containerClient.remove(api, ID, { force: false });
    expect(remove).toHaveBeenCalledWith({ force: false, v: false });
  });

  it('rename: sends the new name; 409 → ContainerNameConflict', async () => {
    const rename = vi.fn(ok);
    const { api } = fakeApi({ container: { rename } });
    await containerClient.rename(api, ID, 'abc_team-a.web');
    expect(rename).toHaveBeenCalledWith({ name: 'abc_team-a.web' });
    const taken = fakeApi({ container: { rename: fail(409, 'name is already in use') } });
    await expect(containerClient.rename(taken.api, ID, 'x')).rejects.toBeInstanceOf(ContainerNameConflict);
    const gone = fakeApi({ container: { rename: fail(404, 'No such container') } });
    await expect(containerClient.rename(gone.api, ID, 'x')).rejects.toThrow(/No such container/);
  });

  it('listOwned: every container with the owner uid, by name without the slash', async () => {
    const listContainers = vi.fn((_opts: unknown) =>
      Promise.resolve([
        { Id: ID, Names: ['/team-a.web'], State: 'running', Created: 100 },
        { Id: 'old', Names: ['/9feaad8db850_team-a.web'], State: 'exited', Created: 50 },
      ]),
    );
    const { api } = fakeApi({ listContainers });
    expect(await containerClient.listOwned(api, 'u1')).toEqual([
      { id: ID, name: 'team-a.web', state: 'running', created: 100 },
      { id: 'old', name: '9feaad8db850_team-a.web', state: 'exited', created: 50 },
    ]);
    expect(listContainers).toHaveBeenCalledWith({ all: true, filters: { label: ['dockyard.io/uid=u1'] } });
  });

  it('update: sends the body, returns warnings, throws refusals', async () => {
    const update = vi.fn((_b: unknown) => Promise.resolve({ Warnings: ['swap limit ignored'] }));
    const { api } = fakeApi({ container: { update } });
    expect(await containerClient.update(api, ID, { Memory: 1, MemorySwap: 2 })).toEqual([
      'swap limit ignored',
    ]);
    expect(update).toHaveBeenCalledWith({ Memory: 1, MemorySwap: 2 });
    const refused = fakeApi({
      container: { update: fail(409, 'Memory limit should be smaller than already set memoryswap limit') },
    });
    await expect(containerClient.update(refused.api, ID, { Memory: 1 })).rejects.toThrow(/memoryswap/);
    const nulls = fakeApi({ container: { update: () => Promise.resolve({ Warnings: null }) } });
    expect(await containerClient.update(nulls.api, ID, {})).toEqual([]);
  });

  it.each<[string, () => Promise<unknown>, boolean]>([
    ['ok', ok, true],
    [
      '403 already connected (Engine 20.10)',
      fail(403, 'endpoint with name web already exists in network front'),
      true,
    ],
    ['404 no such network', fail(404, 'network nope not found'), false],
    [
      '403 other',
      fail(
        403,
        'container sharing network namespace with another container or host cannot be connected to any other network',
      ),
      false,
    ],
  ])('connect: %s', async (_title, connect, resolves) => {
    const { api } = fakeApi({ network: { connect } });
    const p = containerClient.connect(api, 'front', ID, { aliases: ['web'] });
    await (resolves ? expect(p).resolves.toBeUndefined() : expect(p).rejects.toThrow());
  });

  it.each<[string, ConnectOptions, unknown]>([
    ['nothing', {}, {}],
    ['empty aliases', { aliases: [] }, {}],
    [
      'aliases and address',
      { aliases: ['a'], ipv4Address: '10.0.0.2' },
      { Aliases: ['a'], IPAMConfig: { IPv4Address: '10.0.0.2' } },
    ],
    [
      'both static addresses and a MAC',
      { ipv4Address: '10.0.0.2', ipv6Address: 'fd00::2', macAddress: '02:00:00:00:00:02' },
      { IPAMConfig: { IPv4Address: '10.0.0.2', IPv6Address: 'fd00::2' }, MacAddress: '02:00:00:00:00:02' },
    ],
    ['IPv6 only', { ipv6Address: 'fd00::2' }, { IPAMConfig: { IPv6Address: 'fd00::2' } }],
  ])('connect endpoint config: %s', async (_title, opts, endpoint) => {
    const connect = vi.fn(ok);
    const { api } = fakeApi({ network: { connect } });
    await containerClient.connect(api, 'front', ID, opts);
    expect(connect).toHaveBeenCalledWith({ Container: ID, EndpointConfig: endpoint });
  });

  it.each<[string, () => Promise<unknown>, boolean]>([
    ['ok', ok, true],
    ['500 not connected (Engine 20.10)', fail(500, `container ${ID} is not connected to network back`), true],
    ['404 network gone', fail(404, 'network back not found'), true],
    ['500 other', fail(500, 'boom'), false],
  ])('disconnect: %s', async (_title, disconnect, resolves) => {
    const { api } = fakeApi({ network: { disconnect } });
    const p = containerClient.disconnect(api, 'back', ID);
    await (resolves ? expect(p).resolves.toBeUndefined() : expect(p).rejects.toThrow());
  });
});
