import type Dockerode from 'dockerode';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { containerClient, type ObservedContainer } from '../../docker/container-client.js';
import { asideName, replaceContainer, ReplaceFailed, type ReplaceRequest } from './replace.js';

// The order of Docker calls in a replace and its undo, with the client's
// calls recorded (their behaviour against a real daemon is covered by
// test/integration/container-recreate-data.test.ts).

const OLD = 'a1b2c3d4e5f6' + '0'.repeat(52);
const NAME = 'team-a.db';
const api = {} as Dockerode;

function old(patch: Partial<ObservedContainer['state']> = {}, policy = 'unless-stopped'): ObservedContainer {
  return {
    id: OLD,
    name: NAME,
    labels: { 'dockyard.io/uid': 'u1' },
    image: 'db:1',
    imageId: 'sha256:1',
    created: '2026-01-01T00:00:00Z',
    state: {
      status: 'running',
      running: true,
      paused: false,
      restarting: false,
      exitCode: 0,
      restartCount: 0,
      oomKilled: false,
      startedAt: '2026-01-01T00:00:01Z',
      ...patch,
    },
    hostConfig: {
      restartPolicy: { name: policy, maximumRetryCount: 0 },
      memory: 0,
      memorySwap: 0,
      memoryReservation: 0,
      nanoCpus: 0,
      pidsLimit: 0,
    },
    networks: {},
    mounts: [],
    declaredVolumes: [],
  };
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

function request(o: ObservedContainer, patch: Partial<ReplaceRequest> = {}): ReplaceRequest {
  return {
    api,
    stream: api,
    old: o,
    name: NAME,
    owner: { uid: 'u1' },
    stopTimeoutSeconds: 1,
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
    expect(await replaceContainer(request(old(), { create }))).toBe('new');
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
    expect(calls).toEqual(['stop a1b', `rename a1b ${aside}`, `rename a1b ${NAME}`]);
  });

  it('a container at the name that is not ours is never removed by the undo', async () => {
    const foreign = { ...newContainer, labels: {} };
    const calls = recordCalls({ start: 'new', rename: NAME }, foreign);
    await expect(replaceContainer(request(old()))).rejects.toThrow(/rename refused/);
    expect(calls).not.toContain('remove new');
    expect(calls.at(-1)).toBe(`rename a1b ${NAME}`);
  });
});
