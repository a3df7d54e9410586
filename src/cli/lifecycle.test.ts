import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { ManagerExit } from '../runtime/manager.js';
import { exitCodeFor, runManager, type ManagedProcessManager, type ProcessHooks } from './lifecycle.js';

const logger = pino({ level: 'silent' });

/** A manager whose end the test decides; stop() ends it as 'stopped', like the real one. */
class FakeManager implements ManagedProcessManager {
  readonly done: Promise<ManagerExit>;
  started = false;
  stops = 0;
  startError: Error | undefined;
  private end!: (exit: ManagerExit) => void;

  constructor() {
    this.done = new Promise((resolve) => (this.end = resolve));
  }

  async start(): Promise<void> {
    if (this.startError) throw this.startError;
    this.started = true;
  }

  async stop(): Promise<void> {
    this.stops++;
    this.end({ reason: 'stopped' });
  }

  finish(exit: ManagerExit): void {
    this.end(exit);
  }
}

class FakeProcess extends EventEmitter implements ProcessHooks {
  readonly exits: number[] = [];
  override on(signal: NodeJS.Signals, listener: () => void): this {
    return super.on(signal, listener);
  }
  override off(signal: NodeJS.Signals, listener: () => void): this {
    return super.off(signal, listener);
  }
  exit(code: number): never {
    this.exits.push(code);
    throw new Error(`exit ${code}`);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('exitCodeFor', () => {
  it.each([
    ['stopped', 0],
    ['leadership-lost', 1],
    ['error', 1],
  ] as const)('%s → %d', (reason, code) => expect(exitCodeFor(reason)).toBe(code));
});

describe('runManager', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s stops the manager, then the rest, and returns 0',
    async (signal) => {
      const manager = new FakeManager();
      const proc = new FakeProcess();
      const stopAlso = vi.fn(async () => {});
      const running = runManager(manager, { logger, stopAlso, process: proc });
      await tick();
      expect(manager.started).toBe(true);
      proc.emit(signal);
      expect(await running).toBe(0);
      expect(manager.stops).toBe(1);
      expect(stopAlso).toHaveBeenCalledTimes(1);
      expect(proc.listenerCount('SIGTERM') + proc.listenerCount('SIGINT')).toBe(0);
      expect(proc.exits).toEqual([]);
    },
  );

  it('returns 1 when leadership is lost, so the pod restarts as a standby', async () => {
    const manager = new FakeManager();
    const running = runManager(manager, { logger, process: new FakeProcess() });
    await tick();
    manager.finish({ reason: 'leadership-lost' });
    expect(await running).toBe(1);
  });

  it('exits 1 synchronously when the lease is lost, before done settles and without stopAlso', async () => {
    const manager = new FakeManager();
    const lost = new AbortController();
    const proc = new FakeProcess();
    const exits: number[] = [];
    proc.exit = ((code: number) => void exits.push(code)) as (code: number) => never;
    const stopAlso = vi.fn(async () => {});
    const running = runManager(Object.assign(manager, { leadershipLost: lost.signal }), {
      logger,
      stopAlso,
      process: proc,
    });
    await tick();
    lost.abort();
    expect(exits).toEqual([1]); // in the same turn: no callback of an aborted call runs before it
    manager.finish({ reason: 'leadership-lost' });
    expect(await running).toBe(1);
    expect(stopAlso).not.toHaveBeenCalled();
  });

  it('returns 1 when the manager cannot start (e.g. the metrics port is taken)', async () => {
    const manager = new FakeManager();
    manager.startError = new Error('listen EADDRINUSE');
    const stopAlso = vi.fn(async () => {});
    expect(await runManager(manager, { logger, stopAlso, process: new FakeProcess() })).toBe(1);
    expect(stopAlso).toHaveBeenCalledTimes(1);
  });

  it('exits 1 at once on a second signal', async () => {
    const manager = new FakeManager();
    manager.stop = async () => {}; // hangs: never ends `done`
    const proc = new FakeProcess();
    void runManager(manager, { logger, process: proc });
    await tick();
    proc.emit('SIGTERM');
    expect(() => proc.emit('SIGINT')).toThrow('exit 1');
    expect(proc.exits).toEqual([1]);
  });

  it('exits 1 when shutdown overruns the hard deadline', async () => {
    vi.useFakeTimers();
    try {
      const manager = new FakeManager();
      manager.stop = async () => {};
      const proc = new FakeProcess();
      void runManager(manager, { logger, process: proc, hardDeadlineMs: 30_000 });
      await vi.advanceTimersByTimeAsync(0);
      proc.emit('SIGTERM');
      await vi.advanceTimersByTimeAsync(29_999);
      expect(proc.exits).toEqual([]);
      await expect(vi.advanceTimersByTimeAsync(1)).rejects.toThrow('exit 1');
      expect(proc.exits).toEqual([1]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not wait forever for controllers that do not stop', async () => {
    vi.useFakeTimers();
    try {
      const manager = new FakeManager();
      const proc = new FakeProcess();
      const running = runManager(manager, {
        logger,
        process: proc,
        stopAlso: () => new Promise(() => {}),
        stopAlsoTimeoutMs: 5_000,
      });
      await vi.advanceTimersByTimeAsync(0);
      proc.emit('SIGTERM');
      await vi.advanceTimersByTimeAsync(5_000);
      expect(await running).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
