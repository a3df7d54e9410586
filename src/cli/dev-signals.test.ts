import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { SignalRouter } from './dev-signals.js';
import type { ProcessHooks } from './lifecycle.js';

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
    return undefined as never;
  }
}

describe('SignalRouter', () => {
  it('hands signals to on() listeners while there are any, else to the handler, counting all of them', () => {
    const proc = new FakeProcess();
    let now = 0;
    const router = new SignalRouter(proc, undefined, () => (now += 1_000));
    const handler = vi.fn();
    router.setHandler(handler);
    proc.emit('SIGTERM');
    expect(handler).toHaveBeenLastCalledWith('SIGTERM', 1);

    const listener = vi.fn();
    router.on('SIGINT', listener);
    proc.emit('SIGINT');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(handler).toHaveBeenCalledTimes(1);

    router.off('SIGINT', listener);
    proc.emit('SIGINT');
    expect(handler).toHaveBeenLastCalledWith('SIGINT', 3);
    expect(router.received).toBe(3);
  });

  it('takes a signal repeated within the window (group Ctrl-C plus the tsx relay) as one', () => {
    const proc = new FakeProcess();
    let now = 0;
    const router = new SignalRouter(proc, undefined, () => now);
    const listener = vi.fn();
    router.on('SIGINT', listener);
    proc.emit('SIGINT');
    now += 30;
    proc.emit('SIGINT');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(router.received).toBe(1);
    now += 2_000;
    proc.emit('SIGINT');
    expect(listener).toHaveBeenCalledTimes(2);
    expect(router.received).toBe(2);
  });

  it('runs the emergency stop before exiting', () => {
    const proc = new FakeProcess();
    const order: string[] = [];
    const router = new SignalRouter(
      {
        ...proc,
        on: proc.on.bind(proc),
        off: proc.off.bind(proc),
        exit: (c) => (order.push(`exit ${c}`), undefined as never),
      },
      () => order.push('emergency'),
    );
    router.exit(1);
    expect(order).toEqual(['emergency', 'exit 1']);
  });

  it('gives the signals back on dispose', () => {
    const proc = new FakeProcess();
    const router = new SignalRouter(proc);
    expect(proc.listenerCount('SIGINT')).toBe(1);
    router.dispose();
    expect(proc.listenerCount('SIGINT')).toBe(0);
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });
});
