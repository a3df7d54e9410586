import { describe, expect, it } from 'vitest';
import { HostSlots, singleHostOf } from './host-lanes.js';

describe('singleHostOf', () => {
  it.each([
    { name: 'hostName', obj: { spec: { hostName: 'a' } }, want: 'a' },
    {
      name: 'hostName and its own status entry',
      obj: { spec: { hostName: 'a' }, status: { hosts: [{ name: 'a', phase: 'Running' }] } },
      want: 'a',
    },
    {
      name: 'hostName moved, old host still in status',
      obj: { spec: { hostName: 'b' }, status: { hosts: [{ name: 'a', phase: 'Running' }] } },
      want: undefined,
    },
    {
      name: 'selector placed on one host',
      obj: { spec: { hostSelector: {} }, status: { hosts: [{ name: 'a', phase: 'Running' }] } },
      want: 'a',
    },
    {
      name: 'selector placed on two hosts',
      obj: {
        spec: { hostSelector: {} },
        status: {
          hosts: [
            { name: 'a', phase: 'Running' },
            { name: 'b', phase: 'Running' },
          ],
        },
      },
      want: undefined,
    },
    { name: 'selector placed nowhere yet', obj: { spec: { hostSelector: {} } }, want: undefined },
  ])('$name', ({ obj, want }) => {
    expect(singleHostOf(obj)).toBe(want);
  });
});

describe('HostSlots', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('runs at most `limit` per host, other hosts unaffected, waiters in arrival order', async () => {
    const slots = new HostSlots(2);
    const gates = Array.from({ length: 4 }, deferred);
    const started: string[] = [];
    const runs = [
      slots.run('a', async () => (started.push('a0'), gates[0]!.promise)),
      slots.run('a', async () => (started.push('a1'), gates[1]!.promise)),
      slots.run('a', async () => (started.push('a2'), gates[2]!.promise)),
      slots.run('b', async () => (started.push('b0'), gates[3]!.promise)),
    ];
    await new Promise((r) => setTimeout(r, 1));
    expect(started).toEqual(['a0', 'a1', 'b0']);
    expect(slots.inUse('a')).toBe(2);
    gates[1]!.resolve();
    await new Promise((r) => setTimeout(r, 1));
    expect(started).toEqual(['a0', 'a1', 'b0', 'a2']);
    expect(slots.inUse('a')).toBe(2);
    for (const g of gates) g.resolve();
    await Promise.all(runs);
    expect(slots.inUse('a')).toBe(0);
    expect(slots.inUse('b')).toBe(0);
  });

  it('frees the slot when the work throws', async () => {
    const slots = new HostSlots(1);
    await expect(slots.run('a', async () => Promise.reject(new Error('docker down')))).rejects.toThrow(
      'docker down',
    );
    expect(await slots.run('a', async () => 'next')).toBe('next');
    expect(slots.inUse('a')).toBe(0);
  });
});
