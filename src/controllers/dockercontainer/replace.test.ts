import type Dockerode from 'dockerode';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { containerClient, type ObservedContainer } from '../../docker/container-client.js';
import { observedContainer } from '../../docker/test-support.js';
import type { RecreateBefore, StopReport } from './background-ops.js';
import {
  AsideMemory,
  asideListNeeded,
  asideName,
  keepDownNeeded,
  replaceContainer,
  ReplaceFailed,
  settleAside,
  type ReplaceRequest,
} from './replace.js';

// The order of Docker calls in a replace and its undo, with the client's
// calls recorded (their behaviour against a real daemon is covered by
// test/integration/container-recreate-data.test.ts).

const OLD = 'a1b2c3d4e5f6' + '0'.repeat(52);
const NAME = 'team-a.db';
const api = {} as Dockerode;

function old(patch: Partial<ObservedContainer['state']> = {}, policy = 'unless-stopped'): ObservedContainer {
  return observedContainer({
    id: OLD,
    name: NAME,
    labels: { 'dockyard.io/uid': 'u1' },
    image: 'db:1',
    state: patch,
    hostConfig: { restartPolicy: { name: policy, maximumRetryCount: 0 } },
  });
}

/** Records every client call as `method id [arg]`; `fail` makes the named calls throw. */
function recordCalls(fail: { start?: string; rename?: string } = {}, current?: ObservedContainer) {
  const calls: string[] = [];
  vi.spyOn(containerClient, 'stop').mockImplementation((_a, id) => {
    calls.push(`stop ${id.slice(0, 3)}`);
    return Promise.resolve();
  });
  vi.spyOn(containerClient, 'rename').mockImplementation((_a, id, name) => {
    calls.push(`rename ${id.slice(0, 3)} ${name}`);
    return fail.rename === name ? Promise.reject(new Error('rename refused')) : Promise.resolve();
  });
  vi.spyOn(containerClient, 'start').mockImplementation((_a, id) => {
    calls.push(`start ${id.slice(0, 3)}`);
    return fail.start === id ? Promise.reject(new Error('exec: "/nope": no such file')) : Promise.resolve();
  });
  vi.spyOn(containerClient, 'remove').mockImplementation((_a, id) => {
    calls.push(`remove ${id.slice(0, 3)}`);
    return Promise.resolve();
  });
  vi.spyOn(containerClient, 'update').mockImplementation((_a, id, body) => {
    calls.push(`update ${id.slice(0, 3)} ${JSON.stringify(body)}`);
    return Promise.resolve([]);
  });
  vi.spyOn(containerClient, 'observe').mockImplementation(() => Promise.resolve(current));
  return calls;
}

/** A stop that ended within the reconcile's wait (recorded through the spied client). */
async function quickStop(o: ObservedContainer): Promise<StopReport> {
  await containerClient.stop(api, o.id, { timeoutSeconds: 1 });
  return { state: 'stopped' };
}

function request(o: ObservedContainer, patch: Partial<ReplaceRequest> = {}): ReplaceRequest {
  return {
    api,
    old: o,
    name: NAME,
    owner: { uid: 'u1' },
    before: { wasRunning: o.state.running || o.state.restarting, restartPolicy: o.hostConfig.restartPolicy },
    stop: () => quickStop(o),
    start: true,
    create: () => Promise.resolve('new'),
    inherit: [{ name: 'f'.repeat(64), target: '/data', readOnly: false }],
    ...patch,
  };
}

const newContainer = { ...old(), id: 'new', state: { ...old().state, running: false } };
const aside = asideName(OLD, NAME);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('replaceContainer', () => {
  it('stops and renames the old one aside, creates with its volumes, starts, then removes the old one', async () => {
    const calls = recordCalls();
    const create = vi.fn((_inherit: unknown) => Promise.resolve('new'));
    expect(await replaceContainer(request(old(), { create }))).toEqual({ state: 'replaced', id: 'new' });
    expect(create).toHaveBeenCalledWith([{ name: 'f'.repeat(64), target: '/data', readOnly: false }]);
    expect(calls).toEqual(['stop a1b', `rename a1b ${aside}`, 'start new', 'remove a1b']);
    expect(aside).toBe(`a1b2c3d4e5f6_${NAME}`);
  });

  it('Stopped wanted: the new one is not started', async () => {
    const calls = recordCalls();
    await replaceContainer(request(old(), { start: false }));
    expect(calls).toEqual(['stop a1b', `rename a1b ${aside}`, 'remove a1b']);
  });

  it('restart policy always: kept down aside (a daemon restart would start it), restored on undo', async () => {
    const calls = recordCalls({ start: 'new' }, newContainer);
    await expect(replaceContainer(request(old({}, 'always')))).rejects.toBeInstanceOf(ReplaceFailed);
    expect(calls).toEqual([
      'update a1b {"RestartPolicy":{"Name":"no"}}',
      'stop a1b',
      `rename a1b ${aside}`,
      'start new',
      'remove new',
      `rename a1b ${NAME}`,
      'update a1b {"RestartPolicy":{"Name":"always"}}',
      'start a1b',
    ]);
  });

  it('the new one cannot start: it goes, the old one comes back and runs again', async () => {
    const calls = recordCalls({ start: 'new' }, newContainer);
    const err: unknown = await replaceContainer(request(old())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplaceFailed);
    expect((err as ReplaceFailed).message).toBe(
      `could not replace ${NAME}: exec: "/nope": no such file; kept the previous container and started it again`,
    );
    expect(calls).toEqual([
      'stop a1b',
      `rename a1b ${aside}`,
      'start new',
      'remove new',
      `rename a1b ${NAME}`,
      'start a1b',
    ]);
  });

  it('the create fails: nothing new to remove, the old one comes back', async () => {
    const calls = recordCalls({}, undefined);
    const create = () => Promise.reject(new Error('invalid mount config'));
    await expect(replaceContainer(request(old(), { create }))).rejects.toThrow(/invalid mount config/);
    expect(calls).toEqual(['stop a1b', `rename a1b ${aside}`, `rename a1b ${NAME}`, 'start a1b']);
  });

  it('an old one that was not running is put back without starting it', async () => {
    const calls = recordCalls({}, undefined);
    const create = () => Promise.reject(new Error('boom'));
    const err: unknown = await replaceContainer(request(old({ running: false }), { create })).catch(
      (e: unknown) => e,
    );
    expect((err as ReplaceFailed).restarted).toBe(false);
    expect(calls).toEqual([`rename a1b ${aside}`, `rename a1b ${NAME}`]);
  });

  it('a container at the name that is not ours is never removed by the undo', async () => {
    const foreign = { ...newContainer, labels: {} };
    const calls = recordCalls({ start: 'new', rename: NAME }, foreign);
    await expect(replaceContainer(request(old()))).rejects.toThrow(/rename refused/);
    expect(calls).not.toContain('remove new');
    expect(calls.at(-1)).toBe(`rename a1b ${NAME}`);
  });
});

describe('replaceContainer across reconciles (a stop that outlasts the wait)', () => {
  const stopping = {
    state: 'stopping',
    started: true,
    message: `stopping ${NAME} to recreate it (grace period 60 s)`,
    requeueAfterMs: 62_000,
  } as const;

  it('the first pass keeps it down and leaves: nothing renamed or created while the old one stops', async () => {
    const calls = recordCalls();
    const create = vi.fn(() => Promise.resolve('new'));
    const out = await replaceContainer(
      request(old({}, 'always'), { create, stop: () => Promise.resolve(stopping) }),
    );
    expect(out).toEqual(stopping);
    expect(calls).toEqual(['update a1b {"RestartPolicy":{"Name":"no"}}']);
    expect(create).not.toHaveBeenCalled();
  });

  it('a stop failure is an error; nothing else is done', async () => {
    const calls = recordCalls();
    const stop = () =>
      Promise.resolve<StopReport>({ state: 'failed', message: 'stopping x: daemon says no' });
    await expect(replaceContainer(request(old(), { stop }))).rejects.toThrow('stopping x: daemon says no');
    expect(calls).toEqual([]);
  });

  // The second pass sees the old one stopped, with policy `no` if it was `always`:
  // the undo goes by what it was before the recreate began (`before`), not by that.
  it.each<[string, RecreateBefore, boolean, string[]]>([
    [
      'ran with always: back with always, started again',
      { wasRunning: true, restartPolicy: { name: 'always', maximumRetryCount: 0 } },
      true,
      [`rename a1b ${NAME}`, 'update a1b {"RestartPolicy":{"Name":"always"}}', 'start a1b'],
    ],
    [
      'ran with on-failure:3: back as it was, started again',
      { wasRunning: true, restartPolicy: { name: 'on-failure', maximumRetryCount: 3 } },
      true,
      [`rename a1b ${NAME}`, 'start a1b'],
    ],
    [
      'was not running: back, not started',
      { wasRunning: false, restartPolicy: { name: 'always', maximumRetryCount: 0 } },
      false,
      [`rename a1b ${NAME}`, 'update a1b {"RestartPolicy":{"Name":"always"}}'],
    ],
  ])('the new one cannot start, %s', async (_what, before, restarted, undo) => {
    const policy = before.restartPolicy.name === 'always' ? 'no' : before.restartPolicy.name;
    const stopped = old({ running: false, exitCode: 137 }, policy);
    if (policy === 'on-failure') stopped.hostConfig.restartPolicy.maximumRetryCount = 3;
    const calls = recordCalls({ start: 'new' }, newContainer);
    const err: unknown = await replaceContainer(request(stopped, { before })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplaceFailed);
    expect((err as ReplaceFailed).restarted).toBe(restarted);
    // No second `update … no` (the first pass did it), no second stop (it is stopped).
    expect(calls).toEqual([`rename a1b ${aside}`, 'start new', 'remove new', ...undo]);
  });
});

describe('keepDownNeeded', () => {
  const p = (name: string) => ({ name, maximumRetryCount: 0 });
  it.each<[string, string, string, boolean]>([
    ['always, not yet kept down', 'always', 'always', true],
    ['always, kept down by an earlier pass', 'always', 'no', false],
    ['unless-stopped: a daemon restart leaves a stopped one down', 'unless-stopped', 'unless-stopped', false],
    ['no', 'no', 'no', false],
  ])('%s', (_what, before, current, want) => {
    expect(keepDownNeeded({ wasRunning: true, restartPolicy: p(before) }, p(current))).toBe(want);
  });
});

describe('asideListNeeded', () => {
  const ours = (id: string) => ({ id, ours: true });
  it.each<[string, Parameters<typeof asideListNeeded>[0], boolean]>([
    [
      'steady: settled before, the recorded container of ours at the name',
      { settledBefore: true, recordedId: OLD, current: ours(OLD) },
      false,
    ],
    [
      'a new process (killed mid-replace before): first look lists',
      { settledBefore: false, recordedId: OLD, current: ours(OLD) },
      true,
    ],
    [
      'nothing at the name, status recorded one (renamed aside, or containerName changed)',
      { settledBefore: true, recordedId: OLD, current: undefined },
      true,
    ],
    [
      'another container of ours at the name than recorded (the successor)',
      { settledBefore: true, recordedId: OLD, current: ours('new') },
      true,
    ],
    [
      'not ours at the name',
      { settledBefore: true, recordedId: OLD, current: { id: OLD, ours: false } },
      true,
    ],
    ['nothing recorded yet', { settledBefore: true, recordedId: undefined, current: ours(OLD) }, true],
  ])('%s: %s', (_name, facts, want) => {
    expect(asideListNeeded(facts)).toBe(want);
  });
});

describe('settleAside', () => {
  function countLists(aside: Array<{ id: string; name: string }> = []) {
    const lists = { n: 0 };
    vi.spyOn(containerClient, 'listOwned').mockImplementation(() => {
      lists.n++;
      return Promise.resolve(aside.map((c) => ({ ...c, state: 'exited', created: 1 })));
    });
    return lists;
  }

  it('steady-state reconciles list no containers; the first one in a process does', async () => {
    const lists = countLists();
    recordCalls();
    const scope = { memory: new AsideMemory(), host: 'h1', recordedId: OLD };
    for (let i = 0; i < 5; i++) await settleAside(api, NAME, { uid: 'u1' }, old(), scope);
    expect(lists.n).toBe(1);
  });

  it('a new process settles what a kill after the start left aside, even with status naming the current one', async () => {
    const lists = countLists([{ id: 'left', name: asideName('left', NAME) }]);
    const calls = recordCalls();
    const scope = { memory: new AsideMemory(), host: 'h1', recordedId: OLD };
    expect(await settleAside(api, NAME, { uid: 'u1' }, old(), scope)).toEqual([
      { type: 'remove', id: 'left' },
    ]);
    expect(calls).toEqual(['remove lef']);
    expect(lists.n).toBe(1);
  });

  it('lists again once the container at the name is missing or not the recorded one', async () => {
    const lists = countLists([{ id: OLD, name: aside }]);
    const calls = recordCalls();
    const memory = new AsideMemory();
    memory.remember('h1', 'u1');
    // Killed after the rename aside: nothing at the name; the old one comes back.
    await settleAside(api, NAME, { uid: 'u1' }, undefined, { memory, host: 'h1', recordedId: OLD });
    expect(calls).toEqual([`rename a1b ${NAME}`]);
    // The successor started, status still names the old one: the old one goes.
    const successor = { ...old(), id: 'new' };
    await settleAside(api, NAME, { uid: 'u1' }, successor, { memory, host: 'h1', recordedId: OLD });
    expect(calls.at(-1)).toBe('remove a1b');
    expect(lists.n).toBe(2);
  });

  it('removes a files build’s temporary container a crash left, never taking it for a predecessor', async () => {
    // The first create crashed mid-build: no container at the name, only the temporary one.
    countLists([{ id: 'tmp', name: `${NAME}.files-0123abcd` }]);
    const calls = recordCalls();
    expect(await settleAside(api, NAME, { uid: 'u1' }, undefined)).toEqual([]);
    expect(calls).toEqual(['remove tmp']);
  });

  it('without a scope, always lists (finalize and callers that keep no memory)', async () => {
    const lists = countLists();
    await settleAside(api, NAME, { uid: 'u1' }, old());
    await settleAside(api, NAME, { uid: 'u1' }, old());
    expect(lists.n).toBe(2);
  });
});

describe('AsideMemory', () => {
  it('is per host, and forgets the oldest beyond its bound (forgetting costs a list, never a leftover)', () => {
    const memory = new AsideMemory();
    memory.remember('h1', 'u1');
    expect(memory.has('h1', 'u1')).toBe(true);
    expect(memory.has('h2', 'u1')).toBe(false);
    for (let i = 0; i < 50_000; i++) memory.remember('h1', `x${i}`);
    expect(memory.has('h1', 'u1')).toBe(false);
    expect(memory.has('h1', 'x49999')).toBe(true);
  });
});
