import { createServer, type Server, type Socket } from 'node:net';
import Dockerode from 'dockerode';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deadlineDocker, describeApiCall, describeDockerCall } from '../bench/support/clients.js';
import {
  DeadlineExceeded,
  deadlined,
  inStep,
  progress,
  withDeadline,
  withProgress,
} from '../bench/support/deadline.js';
import { mapLimit } from '../bench/support/pool.js';

// The bench's "never hang" helpers: deadlines that name step, host and call,
// and progress lines that keep coming while a phase is stuck.

const never = () => new Promise<never>(() => {});

describe('withDeadline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('settles as the work does when it is in time', async () => {
    await expect(withDeadline(Promise.resolve(42), { call: 'c', ms: 1_000 })).resolves.toBe(42);
    await expect(withDeadline(Promise.reject(new Error('boom')), { call: 'c', ms: 1_000 })).rejects.toThrow(
      'boom',
    );
  });

  it('rejects at the deadline naming step, host, call and elapsed time', async () => {
    const p = withDeadline(never(), {
      step: 'convergence › round 1 direct',
      host: 'n2',
      call: 'start container direct-0007',
      ms: 60_000,
    });
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    const err = (await caught) as DeadlineExceeded;
    expect(err).toBeInstanceOf(DeadlineExceeded);
    expect(err.message).toMatch(
      /^convergence › round 1 direct: start container direct-0007 on n2 got no answer within 60 s/,
    );
    expect(err).toMatchObject({
      step: 'convergence › round 1 direct',
      host: 'n2',
      call: 'start container direct-0007',
    });
  });

  it('takes the step from the enclosing inStep, nested steps joined', async () => {
    const caught = inStep('convergence', () =>
      inStep('round 2 Dockyard', () => withDeadline(never(), { call: 'list', ms: 10 })),
    ).catch((e: unknown) => e as Error);
    await vi.advanceTimersByTimeAsync(10);
    expect((await caught).message).toMatch(/^convergence › round 2 Dockyard: list got no answer/);
  });

  it('aborts the signal handed to a function at the deadline', async () => {
    let signal: AbortSignal | undefined;
    const caught = withDeadline(
      (s) => {
        signal = s;
        return never();
      },
      { call: 'c', ms: 5 },
    ).catch(() => undefined);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(5);
    await caught;
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(DeadlineExceeded);
  });

  it('turns a synchronous throw into a rejection and leaves no timer behind', async () => {
    await expect(
      withDeadline(
        () => {
          throw new Error('sync');
        },
        { call: 'c', ms: 5 },
      ),
    ).rejects.toThrow('sync');
    expect(vi.getTimerCount()).toBe(0);
  });
});

class FakeContainer {
  constructor(
    readonly modem: object,
    readonly id: string,
  ) {}
  start = () => never();
  inspect = () => Promise.resolve({ Id: this.id });
}

describe('deadlined (a client with a deadline on every call)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const client = {
    label: 'x',
    ping: () => Promise.resolve('OK'),
    hang: (_opts: { name: string }) => never(),
    wait: () => never(),
    sync: () => 7,
  };
  const wrapped = deadlined(client, {
    host: 'n1',
    ms: 1_000,
    describe: (method, args) => `${method} ${(args[0] as { name?: string } | undefined)?.name ?? ''}`.trim(),
    exempt: new Set(['wait']),
  });

  it('passes properties and synchronous results through', async () => {
    expect(wrapped.label).toBe('x');
    expect(wrapped.sync()).toBe(7);
    await expect(wrapped.ping()).resolves.toBe('OK');
  });

  it('fails a call that does not answer, naming it', async () => {
    const caught = wrapped.hang({ name: 'direct-0001' }).catch((e: unknown) => e as Error);
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await caught).message).toMatch(/^bench: hang direct-0001 on n1 got no answer within 1\.0 s/);
  });

  it('leaves exempt methods alone', async () => {
    let settled = false;
    void wrapped.wait().finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(settled).toBe(false);
  });

  it('wraps what a call returns when asked to (a Container from getContainer)', async () => {
    const docker = { getContainer: (id: string) => new FakeContainer({}, id) };
    const wrapResult = (v: unknown): unknown =>
      v instanceof FakeContainer ? deadlined(v, { host: 'n1', ms: 100, describe: describeDockerCall }) : v;
    const d = deadlined(docker, { host: 'n1', ms: 100, describe: describeDockerCall, wrapResult });
    const c = d.getContainer('direct-0042');
    await expect(c.inspect()).resolves.toEqual({ Id: 'direct-0042' });
    const caught = c.start().catch((e: unknown) => e as Error);
    await vi.advanceTimersByTimeAsync(100);
    expect((await caught).message).toMatch(/start fakecontainer direct-0042 on n1 got no answer/);
  });
});

describe('deadlineDocker with real dockerode and a daemon that never answers', () => {
  let server: Server;
  const sockets: Socket[] = [];
  beforeEach(async () => {
    // Accepts connections, reads requests, answers nothing: a paused node.
    server = createServer((socket) => sockets.push(socket.on('error', () => {})));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails daemon calls and calls on returned entities, naming host and call', async () => {
    const { port } = server.address() as { port: number };
    const docker = deadlineDocker(new Dockerode({ host: '127.0.0.1', port, protocol: 'http' }), 'n1', 200);
    await expect(docker.listContainers()).rejects.toThrow(
      /^bench: listContainers on n1 got no answer within 0\.2 s/,
    );
    await expect(
      inStep('convergence › round 1/3 direct', () => docker.getContainer('direct-0007').start()),
    ).rejects.toThrow(/^convergence › round 1\/3 direct: start container direct-0007 on n1 got no answer/);
    await expect(docker.createContainer({ name: 'direct-0008', Image: 'x' })).rejects.toThrow(
      /createContainer direct-0008 on n1/,
    );
  });
});

describe('call descriptions', () => {
  it.each([
    ['createContainer', [{ name: 'direct-0001', Image: 'x' }], {}, 'createContainer direct-0001'],
    ['listContainers', [{ all: true }], {}, 'listContainers'],
    ['remove', [{ force: true }], new FakeContainer({}, 'c-1'), 'remove fakecontainer c-1'],
    ['inspect', [], new FakeContainer({}, 'a'.repeat(64)), 'inspect fakecontainer aaaaaaaaaaaa'],
  ])('docker %s', (method, args, target, want) => {
    expect(describeDockerCall(method, args, target)).toBe(want);
  });

  it.each([
    [
      'createNamespacedCustomObject',
      { plural: 'dockercontainers', namespace: 'ns', body: { metadata: { name: 'c-1' } } },
      'createNamespacedCustomObject dockercontainers ns/c-1',
    ],
    [
      'getClusterCustomObject',
      { plural: 'dockerhosts', name: 'n1' },
      'getClusterCustomObject dockerhosts n1',
    ],
    [
      'listNamespacedCustomObject',
      { plural: 'dockervolumes', namespace: 'v' },
      'listNamespacedCustomObject dockervolumes v',
    ],
    ['createNamespace', { body: { metadata: { name: 'bench' } } }, 'createNamespace bench'],
  ])('API %s', (method, arg, want) => {
    expect(describeApiCall(method, [arg])).toBe(want);
  });
});

describe('progress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('prints at most every everyMs, says when nothing moved, and a last line at done', async () => {
    const lines: string[] = [];
    const p = progress({
      label: '[c] direct',
      total: 10,
      verb: 'started',
      log: (m) => lines.push(m),
      everyMs: 5_000,
      detail: () => '4 in flight',
    });
    p.tick(3);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    p.tick(5);
    await vi.advanceTimersByTimeAsync(5_000);
    await vi.advanceTimersByTimeAsync(5_000);
    p.done();
    expect(lines).toEqual([
      '[c] direct: 3/10 started (5.0 s), 4 in flight',
      '[c] direct: 8/10 started (10 s), 4 in flight',
      '[c] direct: 8/10 started (15 s, no change for 5.0 s), 4 in flight',
      '[c] direct: 8/10 started (15 s), 4 in flight',
    ]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lines).toHaveLength(4);
  });

  it('is silent for a phase shorter than everyMs, and reads a count getter', async () => {
    const lines: string[] = [];
    let n = 0;
    await withProgress({ label: 'w', total: 2, log: (m) => lines.push(m), count: () => n }, async () => {
      n = 2;
    });
    expect(lines).toEqual([]);
  });
});

describe('bench mapLimit', () => {
  it('keeps the input order', async () => {
    expect(await mapLimit([3, 1, 2], 2, async (x) => x * 2)).toEqual([6, 2, 4]);
  });

  it('takes no more items after the first failure', async () => {
    const seen: number[] = [];
    await expect(
      mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 2, async (x) => {
        seen.push(x);
        await Promise.resolve();
        if (x === 1) throw new Error('deadline');
      }),
    ).rejects.toThrow('deadline');
    expect(seen.length).toBeLessThanOrEqual(3);
  });
});
