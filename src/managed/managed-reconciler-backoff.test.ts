import { describe, expect, it } from 'vitest';
import { fakeKind, fakeObject, fakeWorld } from './test-support.js';
import type { ManagedObject } from './types.js';

// The per-object, per-host Docker error backoff of the generic reconciler,
// driven through a fake kind: which generations fail is the kind's only
// behaviour. Kubernetes and Docker are out of the picture (pure flow).

function harness(failingGenerations: Set<number>) {
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const objects = new Map<string, ManagedObject>();
  const calls: number[] = [];
  const patches: unknown[] = [];
  const kind = fakeKind({
    reconcileHost: (ctx) => {
      const generation = ctx.obj.metadata.generation ?? 0;
      calls.push(generation);
      if (failingGenerations.has(generation))
        return Promise.reject(new Error(`generation ${generation} fails`));
      return Promise.resolve({ entry: { name: ctx.host.metadata.name, phase: 'Ready' }, ready: true });
    },
  });
  const world = fakeWorld({
    kind,
    object: (name, namespace) => objects.get(`${namespace ?? ''}/${name}`),
    onStatus: (body) => patches.push(body),
    now: () => new Date(clock),
  });
  const put = (generation: number) =>
    objects.set('ns/o', fakeObject({ metadata: { generation, resourceVersion: `${100 + generation}` } }));
  return {
    ...world,
    calls,
    patches,
    put,
    remove: () => objects.delete('ns/o'),
    advance: (ms: number) => (clock += ms),
  };
}

describe('ManagedReconciler per-host Docker error backoff', () => {
  it('waits out the backoff while the spec is unchanged', async () => {
    const h = harness(new Set([1]));
    h.put(1);
    await h.reconcile();
    h.advance(100);
    const again = await h.reconcile();
    expect(h.calls).toEqual([1]);
    expect(again.requeueAfterMs).toBeGreaterThan(0);
  });

  it('acts on a spec change at once, without waiting out the backoff of the failed generation', async () => {
    const h = harness(new Set([1]));
    h.put(1);
    await h.reconcile();
    h.put(2);
    h.advance(100);
    await h.reconcile();
    expect(h.calls).toEqual([1, 2]);
    expect(h.reconciler.backoffEntries()).toBe(0);
  });

  it('drops the backoff entries of an object once it is gone', async () => {
    const h = harness(new Set([1]));
    h.put(1);
    await h.reconcile();
    expect(h.reconciler.backoffEntries()).toBe(1);
    h.remove();
    await h.reconcile();
    expect(h.reconciler.backoffEntries()).toBe(0);
  });
});

describe('ManagedReconciler status writes', () => {
  it('lock the status patch to the resourceVersion it was computed from', async () => {
    const h = harness(new Set());
    h.put(3);
    await h.reconcile();
    expect(h.patches).toHaveLength(1);
    expect(h.patches[0]).toMatchObject({ metadata: { resourceVersion: '103' } });
  });
});
