import { describe, expect, it } from 'vitest';
import { deferred } from '../runtime/test-support.js';
import { HostSlots } from './host-lanes.js';
import { fakeKind, fakeObject, fakeWorld, readyHost } from './test-support.js';

// The per-host bound inside the reconciler (--max-concurrent-reconciles-per-
// host): objects of one host wait for a slot, other hosts do not, whatever
// lane the work queue put them in (objects placed by selector have none).

describe('ManagedReconciler under HostSlots', () => {
  it('works on one host for at most the bound at once; another host goes ahead', async () => {
    const slots = new HostSlots(1);
    const gates = new Map<string, () => void>();
    const started: string[] = [];
    const kind = fakeKind({
      reconcileHost: async (ctx) => {
        started.push(ctx.obj.metadata.name);
        const gate = deferred();
        gates.set(ctx.obj.metadata.name, gate.resolve);
        await gate.promise;
        return { entry: { name: ctx.host.metadata.name, phase: 'Ready' }, ready: true };
      },
    });
    const world = (name: string, hostName: string) =>
      fakeWorld({
        kind,
        name,
        hostSlots: slots,
        object: () => fakeObject({ metadata: { name }, spec: { hostName } }),
        hosts: [{ ...readyHost(), metadata: { name: hostName, labels: {} } }],
      });
    const runs = [world('a', 'h1').reconcile(), world('b', 'h1').reconcile(), world('c', 'h2').reconcile()];
    await new Promise((r) => setTimeout(r, 5));
    expect(started).toEqual(['a', 'c']);
    gates.get('a')?.();
    await new Promise((r) => setTimeout(r, 5));
    expect(started).toEqual(['a', 'c', 'b']);
    gates.get('b')?.();
    gates.get('c')?.();
    await Promise.all(runs);
    expect(slots.inUse('h1')).toBe(0);
  });
});
