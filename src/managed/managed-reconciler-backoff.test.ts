import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DockerHost } from '../crds/dockerhost.js';
import type { HostConnection } from '../docker/connection-pool.js';
import type { FinalizerPatchApi } from '../runtime/finalizers.js';
import type { StatusPatchApi } from '../runtime/status-patch.js';
import { FINALIZER, ManagedReconciler } from './managed-reconciler.js';
import type { HostContext, HostOutcome, ManagedKind, ManagedObject } from './types.js';

// The per-object, per-host Docker error backoff of the generic reconciler,
// driven through a fake kind: which generations fail is the kind's only
// behaviour. Kubernetes and Docker are out of the picture (pure flow).

const READY_HOST: DockerHost = {
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerHost',
  metadata: { name: 'h1', labels: {} },
  spec: { endpoint: 'unix:///nowhere.sock' },
  status: {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Connected',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  },
};

function harness(failingGenerations: Set<number>) {
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const objects = new Map<string, ManagedObject>();
  const calls: number[] = [];
  const patches: unknown[] = [];
  const kind: ManagedKind<ManagedObject> = {
    kind: 'Fake',
    resource: { group: 'dockyard.io', version: 'v1alpha1', plural: 'fakes' },
    dockerEventType: 'container',
    defaultDeletionPolicy: 'Delete',
    reconcileHost: (ctx: HostContext<ManagedObject>): Promise<HostOutcome> => {
      const generation = ctx.obj.metadata.generation ?? 0;
      calls.push(generation);
      if (failingGenerations.has(generation))
        return Promise.reject(new Error(`generation ${generation} fails`));
      return Promise.resolve({ entry: { name: ctx.host.metadata.name, phase: 'Ready' }, ready: true });
    },
    finalizeHost: () => Promise.resolve({ done: true }),
    dockerNameOf: (o) => o.metadata.name,
  };
  const reconciler = new ManagedReconciler<ManagedObject>({
    kind,
    objects: { getByName: (name, namespace) => objects.get(`${namespace ?? ''}/${name}`) },
    hosts: { list: () => [READY_HOST], getByName: (n) => (n === 'h1' ? READY_HOST : undefined) },
    namespaces: { get: () => Promise.resolve({}) },
    hostRuntime: { connection: () => ({}) as HostConnection },
    status: {
      patchNamespacedCustomObjectStatus: (param: { body: unknown }) => {
        patches.push(param.body);
        return Promise.resolve({});
      },
      patchClusterCustomObjectStatus: () => Promise.resolve({}),
    } as unknown as StatusPatchApi,
    finalizers: {} as FinalizerPatchApi,
    events: { event: () => undefined },
    fieldManager: 'test',
    pollIntervalMs: 60_000,
    now: () => new Date(clock),
  });
  const put = (generation: number) =>
    objects.set('ns/o', {
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'Fake',
      metadata: {
        name: 'o',
        namespace: 'ns',
        uid: 'u1',
        generation,
        resourceVersion: `${100 + generation}`,
        finalizers: [FINALIZER],
      },
      spec: { hostName: 'h1' },
    });
  const ctx = { logger: pino({ level: 'silent' }), signal: new AbortController().signal, reconcileID: 'r' };
  return {
    reconciler,
    calls,
    patches,
    put,
    remove: () => objects.delete('ns/o'),
    advance: (ms: number) => (clock += ms),
    reconcile: () => reconciler.reconcile(ctx, { namespace: 'ns', name: 'o' }),
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
