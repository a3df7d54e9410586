import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DesiredState,
  repairPlan,
  type DesiredContainer,
  type ObservedContainer,
  type RepairAction,
  type TunnelRequest,
  type TunnelResponse,
} from './desired-state.js';
import { RepairBackoff } from './local-repair.js';

const ID1 = 'a1'.repeat(32);
const ID2 = 'b2'.repeat(32);
const ID3 = 'c3'.repeat(32);

function labels(over: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    'dockyard.io/uid': 'uid-1',
    'dockyard.io/namespace': 'shop',
    'dockyard.io/name': 'web',
    'dockyard.io/kind': 'DockerContainer',
    'dockyard.io/spec-hash': 'hash-1',
    ...over,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

function createBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Image: 'nginx:1.27',
    Env: ['TOKEN=secret'],
    Labels: labels(),
    HostConfig: {
      NetworkMode: 'shop.front',
      RestartPolicy: { Name: 'unless-stopped' },
      MemoryReservation: 1024,
    },
    NetworkingConfig: { EndpointsConfig: { 'shop.front': { Aliases: ['web'] } } },
    ...over,
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** One request through the tunnel and, optionally, Docker's answer. */
interface Step {
  req: TunnelRequest;
  res?: TunnelResponse;
}

const post = (path: string, body?: unknown): TunnelRequest => ({
  method: 'POST',
  path,
  headers: {},
  ...(body === undefined ? {} : { body: json(body) }),
});
const del = (path: string): TunnelRequest => ({ method: 'DELETE', path, headers: {} });
const create = (name: string, id: string, body = createBody(), prefix = '/v1.41'): Step => ({
  req: post(`${prefix}/containers/create?name=${name}`, body),
  res: { status: 201, body: json({ Id: id, Warnings: [] }) },
});
const act = (ref: string, action: string, prefix = '/v1.41'): Step => ({
  req: post(`${prefix}/containers/${ref}/${action}`),
});

type Expected = Record<string, Partial<DesiredContainer>>;

const recorderCases: Array<[string, Step[], Expected]> = [
  [
    'create then start (versioned path)',
    [create('web', ID1), act(ID1, 'start')],
    { web: { id: ID1, run: 'running' } },
  ],
  [
    'create then start by short ID, unversioned path',
    [create('web', ID1, createBody(), ''), act(ID1.slice(0, 12), 'start', '')],
    { web: { id: ID1, run: 'running' } },
  ],
  ['created, never started', [create('web', ID1)], { web: { id: ID1, run: 'created' } }],
  [
    'stopped by name',
    [create('web', ID1), act(ID1, 'start'), act('web', 'stop')],
    { web: { run: 'stopped' } },
  ],
  [
    'stopped by /name',
    [create('web', ID1), act(ID1, 'start'), act('%2Fweb', 'stop')],
    { web: { run: 'stopped' } },
  ],
  ['killed', [create('web', ID1), act(ID1, 'start'), act(ID1, 'kill')], { web: { run: 'stopped' } }],
  [
    'killed with SIGTERM',
    [create('web', ID1), act(ID1, 'start'), { req: post(`/containers/${ID1}/kill?signal=SIGTERM`) }],
    { web: { run: 'stopped' } },
  ],
  [
    'a SIGHUP is a message, not a stop',
    [create('web', ID1), act(ID1, 'start'), { req: post(`/containers/${ID1}/kill?signal=HUP`) }],
    { web: { run: 'running' } },
  ],
  ['restarted', [create('web', ID1), act(ID1, 'stop'), act(ID1, 'restart')], { web: { run: 'running' } }],
  [
    'deleted by full ID',
    [create('web', ID1), act(ID1, 'start'), { req: del(`/v1.41/containers/${ID1}?force=true`) }],
    {},
  ],
  ['deleted by short ID', [create('web', ID1), { req: del(`/containers/${ID1.slice(0, 7)}`) }], {}],
  ['deleted by name', [create('web', ID1), { req: del('/v1.43/containers/web') }], {}],
  [
    'a container without Dockyard labels',
    [create('web', ID1, createBody({ Labels: {} })), act(ID1, 'start')],
    {},
  ],
  [
    'a create without a body (over 1 MiB)',
    [{ req: { method: 'POST', path: '/containers/create?name=web' } }],
    {},
  ],
  ['a create without a name', [{ req: post('/containers/create', createBody()) }], {}],
  [
    'the files-image build container (owner labels, no spec hash)',
    [create('web-files', ID1, createBody({ Labels: labels({ 'dockyard.io/spec-hash': undefined }) }))],
    {},
  ],
  [
    'another kind',
    [
      create('svc', ID1, createBody({ Labels: labels({ 'dockyard.io/kind': 'DockerService' }) })),
      act(ID1, 'start'),
    ],
    {},
  ],
  [
    'requests for unknown containers change nothing',
    [
      create('web', ID1),
      act(ID1, 'start'),
      act(ID2, 'stop'),
      act('other', 'stop'),
      { req: del(`/containers/${ID2}`) },
    ],
    { web: { run: 'running' } },
  ],
  [
    'an ambiguous short ID names nothing',
    [
      create('web', 'abc1' + ID1.slice(4)),
      create('api', 'abc2' + ID2.slice(4)),
      act('web', 'start'),
      act('api', 'start'),
      act('abc', 'stop'),
    ],
    { web: { run: 'running' }, api: { run: 'running' } },
  ],
  [
    'GETs and unknown actions are ignored',
    [
      create('web', ID1),
      act(ID1, 'start'),
      { req: { method: 'GET', path: `/containers/${ID1}/json` } },
      act(ID1, 'pause'),
    ],
    { web: { run: 'running' } },
  ],
  [
    'adopting after a 409: the ID comes from the conflict message',
    [
      {
        req: post('/v1.41/containers/create?name=web', createBody()),
        res: {
          status: 409,
          body: json({
            message: `Conflict. The container name "/web" is already in use by container "${ID3}". You have to remove (or rename) that container to be able to reuse that name.`,
          }),
        },
      },
      act(ID3, 'start'),
    ],
    { web: { id: ID3, run: 'running' } },
  ],
  [
    'a recreate: stop, rename aside, create, start, remove the old one',
    [
      create('web', ID1),
      act(ID1, 'start'),
      { req: post(`/v1.41/containers/${ID1}/update`, { RestartPolicy: { Name: 'no' } }) },
      act(ID1, 'stop'),
      { req: post(`/v1.41/containers/${ID1}/rename?name=${ID1.slice(0, 12)}_web`) },
      create('web', ID2, createBody({ Labels: labels({ 'dockyard.io/spec-hash': 'hash-2' }) })),
      act(ID2, 'start'),
      { req: del(`/v1.41/containers/${ID1}?force=true`) },
    ],
    { web: { id: ID2, run: 'running', specHash: 'hash-2' } },
  ],
  [
    'a recreate cut short: the old one waits aside, held down',
    [
      create('web', ID1),
      act(ID1, 'start'),
      { req: post(`/containers/${ID1}/rename?name=${ID1.slice(0, 12)}_web`) },
      create('web', ID2, createBody({ Labels: labels({ 'dockyard.io/spec-hash': 'hash-2' }) })),
    ],
    { [`${ID1.slice(0, 12)}_web`]: { id: ID1, run: 'stopped' }, web: { id: ID2, run: 'created' } },
  ],
  [
    'a failed recreate put back: renamed back and started again',
    [
      create('web', ID1),
      act(ID1, 'start'),
      act(ID1, 'stop'),
      { req: post(`/containers/${ID1}/rename?name=${ID1.slice(0, 12)}_web`) },
      {
        req: post(
          '/containers/create?name=web',
          createBody({ Labels: labels({ 'dockyard.io/spec-hash': 'hash-2' }) }),
        ),
        res: { status: 404, body: json({ message: 'No such image: nginx:9' }) },
      },
      { req: post(`/containers/${ID1}/rename?name=web`) },
      act(ID1, 'start'),
    ],
    { web: { id: ID1, run: 'running', specHash: 'hash-1' } },
  ],
];

describe('DesiredState.record', () => {
  it.each(recorderCases)('%s', (_name, steps, expected) => {
    const state = new DesiredState({ stateDir: '/nonexistent' });
    for (const step of steps) {
      state.record(step.req);
      if (step.res) state.recordResponse(step.req, step.res);
    }
    const got = Object.fromEntries(state.containers().map((d) => [d.name, d]));
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) expect(got[name]).toMatchObject(want);
  });

  it('keeps the create query and body, with owner for logs', () => {
    const state = new DesiredState({ stateDir: '/nonexistent' });
    const step = create('web', ID1);
    expect(state.record(step.req)).toEqual({ change: 'create', name: 'web' });
    expect(state.recordResponse(step.req, step.res!)).toEqual({ change: 'id', name: 'web' });
    expect(state.get('web')).toEqual({
      name: 'web',
      id: ID1,
      uid: 'uid-1',
      specHash: 'hash-1',
      owner: 'shop/web',
      create: { query: { name: 'web' }, body: createBody() },
      networks: [],
      run: 'created',
    });
  });

  it('merges updates into HostConfig; a reservation of -1 is dropped', () => {
    const state = new DesiredState({ stateDir: '/nonexistent' });
    state.record(create('web', ID1).req);
    state.record(act('web', 'start').req);
    state.record(
      post('/containers/web/update', {
        RestartPolicy: { Name: 'always' },
        Memory: 64,
        MemoryReservation: -1,
      }),
    );
    expect(state.get('web')?.create.body.HostConfig).toEqual({
      NetworkMode: 'shop.front',
      RestartPolicy: { Name: 'always' },
      Memory: 64,
    });
  });

  const networkCases: Array<
    [string, Array<[string, string, Record<string, unknown>]>, DesiredContainer['networks']]
  > = [
    [
      'a network connected after create',
      [['shop.back', 'connect', { Container: ID1, EndpointConfig: { Aliases: ['api'] } }]],
      [{ op: 'connect', network: 'shop.back', endpointConfig: { Aliases: ['api'] } }],
    ],
    [
      'connected then disconnected again: no change left',
      [
        ['shop.back', 'connect', { Container: ID1 }],
        ['shop.back', 'disconnect', { Container: 'web', Force: false }],
      ],
      [],
    ],
    [
      'the create-time network disconnected',
      [['shop.front', 'disconnect', { Container: ID1.slice(0, 12) }]],
      [{ op: 'disconnect', network: 'shop.front' }],
    ],
    [
      'the create-time network reconnected with new aliases: the last change wins',
      [
        ['shop.front', 'disconnect', { Container: ID1 }],
        ['shop.front', 'connect', { Container: ID1, EndpointConfig: { Aliases: ['www'] } }],
      ],
      [{ op: 'connect', network: 'shop.front', endpointConfig: { Aliases: ['www'] } }],
    ],
    ['another container’s connect', [['shop.back', 'connect', { Container: ID2 }]], []],
  ];

  it.each(networkCases)('networks: %s', (_name, calls, expected) => {
    const state = new DesiredState({ stateDir: '/nonexistent' });
    const step = create('web', ID1);
    state.record(step.req);
    state.recordResponse(step.req, step.res!);
    for (const [network, action, body] of calls)
      state.record(post(`/v1.41/networks/${network}/${action}`, body));
    expect(state.get('web')?.networks).toEqual(expected);
  });

  it('learns IDs from observation and from its own creates', () => {
    const state = new DesiredState({ stateDir: '/nonexistent' });
    state.record(create('web', ID1).req);
    state.record(create('api', ID2).req);
    const seen: ObservedContainer[] = [
      { id: ID1, name: 'web', labels: labels(), state: 'running' },
      { id: ID3, name: 'api', labels: labels({ 'dockyard.io/uid': 'someone-else' }), state: 'running' },
    ];
    expect(state.learn(seen)).toBe(true);
    expect(state.learn(seen)).toBe(false);
    state.bind('api', ID2);
    expect(state.get('web')?.id).toBe(ID1);
    expect(state.get('api')?.id).toBe(ID2);
  });
});

describe('DesiredState persistence', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'desired-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips through a 0600 file with no temp file left', async () => {
    const stateDir = join(dir, 'state');
    const state = new DesiredState({ stateDir });
    for (const step of [create('web', ID1), act(ID1, 'start')]) {
      state.record(step.req);
      if (step.res) state.recordResponse(step.req, step.res);
    }
    state.record(post('/networks/shop.back/connect', { Container: ID1 }));
    await state.save();
    expect((await stat(state.file)).mode & 0o777).toBe(0o600);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect(await readdir(stateDir)).toEqual(['desired-state.json']);

    const restarted = new DesiredState({ stateDir });
    await restarted.load();
    expect(restarted.containers()).toEqual(state.containers());
    // The restarted agent still maps the controller's IDs.
    restarted.record(act(ID1.slice(0, 12), 'stop').req);
    expect(restarted.get('web')?.run).toBe('stopped');
  });

  it('writes only when something changed, and the last change wins', async () => {
    const state = new DesiredState({ stateDir: dir });
    await state.save();
    expect(await readdir(dir)).toEqual([]);
    state.record(create('web', ID1).req);
    const first = state.save();
    state.record(act('web', 'start').req);
    await Promise.all([first, state.save()]);
    const reloaded = new DesiredState({ stateDir: dir });
    await reloaded.load();
    expect(reloaded.get('web')?.run).toBe('running');
  });

  it('a missing file is an empty state', async () => {
    const state = new DesiredState({ stateDir: join(dir, 'never') });
    await state.load();
    expect(state.containers()).toEqual([]);
  });

  it.each([
    ['not JSON', '{'],
    ['another version', JSON.stringify({ version: 2, containers: [] })],
    ['a malformed entry', JSON.stringify({ version: 1, containers: [{ name: 'web' }] })],
  ])('refuses %s, naming the file', async (_name, text) => {
    const state = new DesiredState({ stateDir: dir });
    await writeFile(state.file, text);
    await expect(state.load()).rejects.toThrow(state.file);
  });
});

function desired(over: Partial<DesiredContainer> = {}): DesiredContainer {
  return {
    name: 'web',
    id: ID1,
    uid: 'uid-1',
    specHash: 'hash-1',
    owner: 'shop/web',
    create: { query: { name: 'web' }, body: createBody() },
    networks: [],
    run: 'running',
    ...over,
  };
}

function observed(over: Partial<ObservedContainer> = {}): ObservedContainer {
  return { id: ID1, name: 'web', labels: labels(), state: 'running', ...over };
}

const exited = (exitCode: number, restartPolicy?: string, oomKilled = false) =>
  observed({
    state: 'exited',
    exitCode,
    oomKilled,
    ...(restartPolicy === undefined ? {} : { restartPolicy }),
  });

const createWeb: RepairAction = { kind: 'create', name: 'web', query: { name: 'web' }, body: createBody() };
const startWeb: RepairAction = { kind: 'start', name: 'web' };

const planCases: Array<[string, DesiredContainer[], ObservedContainer[], RepairAction[]]> = [
  ['running and missing: created and started', [desired()], [], [createWeb, startWeb]],
  [
    'missing after a rename: created under its current name',
    [desired({ name: 'web2' })],
    [],
    [
      { kind: 'create', name: 'web2', query: { name: 'web2' }, body: createBody() },
      { kind: 'start', name: 'web2' },
    ],
  ],
  [
    'missing with network changes: replayed between create and start',
    [
      desired({
        networks: [
          { op: 'connect', network: 'shop.back', endpointConfig: { Aliases: ['api'] } },
          { op: 'connect', network: 'shop.front', endpointConfig: { Aliases: ['www'] } },
        ],
      }),
    ],
    [],
    [
      createWeb,
      { kind: 'connect', name: 'web', network: 'shop.back', endpointConfig: { Aliases: ['api'] } },
      { kind: 'disconnect', name: 'web', network: 'shop.front' },
      { kind: 'connect', name: 'web', network: 'shop.front', endpointConfig: { Aliases: ['www'] } },
      startWeb,
    ],
  ],
  [
    'missing, the default bridge left',
    [
      desired({
        networks: [{ op: 'disconnect', network: 'bridge' }],
        create: { query: { name: 'web' }, body: {} },
      }),
    ],
    [],
    [
      { kind: 'create', name: 'web', query: { name: 'web' }, body: {} },
      { kind: 'disconnect', name: 'web', network: 'bridge' },
      startWeb,
    ],
  ],
  ['stopped on purpose and missing: nothing', [desired({ run: 'stopped' })], [], []],
  ['never started and missing: nothing', [desired({ run: 'created' })], [], []],
  ['stopped on purpose and exited: nothing', [desired({ run: 'stopped' })], [exited(143, 'always')], []],
  ['running: nothing', [desired()], [observed()], []],
  ['created, never started: start', [desired()], [observed({ state: 'created' })], [startWeb]],
  ['stopped out of band under unless-stopped: start', [desired()], [exited(0, 'unless-stopped')], [startWeb]],
  ['exited under always: start', [desired()], [exited(1, 'always')], [startWeb]],
  ['finished under no: nothing (a completed run)', [desired()], [exited(0, 'no')], []],
  ['failed under on-failure: nothing (Docker’s policy decides)', [desired()], [exited(1, 'on-failure')], []],
  ['stopped by signal under no: start', [desired()], [exited(137, 'no')], [startWeb]],
  ['SIGTERM under on-failure: start', [desired()], [exited(143, 'on-failure')], [startWeb]],
  ['OOM-killed under no: nothing', [desired()], [exited(137, 'no', true)], []],
  ['empty policy is no', [desired()], [exited(0, '')], []],
  [
    'policy unknown: the recorded one (unless-stopped)',
    [desired()],
    [observed({ state: 'exited', exitCode: 0 })],
    [startWeb],
  ],
  [
    'exit code unknown under no: nothing',
    [desired({ create: { query: {}, body: {} } })],
    [observed({ state: 'exited' })],
    [],
  ],
  ...(['restarting', 'paused', 'removing', 'dead'] as const).map(
    (state): [string, DesiredContainer[], ObservedContainer[], RepairAction[]] => [
      `${state}: nothing`,
      [desired()],
      [observed({ state })],
      [],
    ],
  ),
  [
    'another spec hash at the name: not ours to decide offline',
    [desired()],
    [{ ...exited(0, 'always'), labels: labels({ 'dockyard.io/spec-hash': 'hash-0' }) }],
    [],
  ],
  [
    'another owner at the name: left alone',
    [desired()],
    [{ ...exited(0, 'always'), labels: labels({ 'dockyard.io/uid': 'uid-2' }) }],
    [],
  ],
  [
    'a container without Dockyard labels at the name: left alone',
    [desired()],
    [{ ...exited(0, 'always'), labels: {} }],
    [],
  ],
  [
    'containers nothing recorded: never touched',
    [],
    [exited(0, 'always'), observed({ name: 'x', state: 'created' })],
    [],
  ],
  [
    'several containers, each on its own',
    [
      desired({ name: 'api', create: { query: { name: 'api' }, body: {} } }),
      desired(),
      desired({ name: 'db', run: 'stopped' }),
    ],
    [observed({ name: 'api', state: 'created' })],
    [{ kind: 'start', name: 'api' }, createWeb, startWeb],
  ],
];

describe('repairPlan', () => {
  it.each(planCases)('%s', (_name, want, seen, actions) => {
    expect(repairPlan(want, seen)).toEqual(actions);
  });
});

describe('RepairBackoff', () => {
  it('repairs at once, then waits twice as long each time, and forgets after a quiet minute', () => {
    const b = new RepairBackoff();
    expect(b.due('web', 0)).toBe(true);
    b.repaired('web', 0);
    expect([b.due('web', 1_999), b.due('web', 2_000)]).toEqual([false, true]);
    b.repaired('web', 2_000);
    expect([b.due('web', 5_999), b.due('web', 6_000)]).toEqual([false, true]);
    // Fine for less than a minute: the count goes on.
    b.fine('web', 30_000);
    b.repaired('web', 30_000);
    expect([b.due('web', 37_999), b.due('web', 38_000)]).toEqual([false, true]);
    // Fine for a minute: it starts afresh.
    b.fine('web', 90_000);
    b.repaired('web', 90_000);
    expect(b.due('web', 92_000)).toBe(true);
    expect(b.due('api', 0)).toBe(true);
  });

  it('caps the wait at five minutes', () => {
    const b = new RepairBackoff();
    for (let i = 0; i < 20; i++) b.repaired('web', 0);
    expect([b.due('web', 299_999), b.due('web', 300_000)]).toEqual([false, true]);
  });
});
