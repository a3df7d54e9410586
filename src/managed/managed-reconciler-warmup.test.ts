import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DockerHost } from '../crds/dockerhost.js';
import type { HostConnection } from '../docker/connection-pool.js';
import type { FinalizerPatchApi } from '../runtime/finalizers.js';
import type { StatusPatchApi } from '../runtime/status-patch.js';
import { CONNECTION_WARMUP_MS, WARMUP_REQUEUE_MS } from './connection-warmup.js';
import { FINALIZER, ManagedReconciler } from './managed-reconciler.js';
import type { HostOutcome, ManagedKind, ManagedObject } from './types.js';

// A restart or failover: the DockerHost is Ready, but this process has not
// opened its connection yet. A healthy object must not be written Ready=False
// meanwhile (pure flow through the generic reconciler, fake kind and APIs).

const CONDITION_TIME = '2026-01-01T00:00:00Z';
const ready = (reason: string) => ({
  type: 'Ready',
  status: 'True' as const,
  reason,
  message: '',
  lastTransitionTime: CONDITION_TIME,
});
const HOST: DockerHost = {
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerHost',
  metadata: { name: 'h1', labels: {} },
  spec: { endpoint: 'unix:///nowhere.sock' },
  status: { conditions: [ready('Connected')] },
};

function harness(objectReady: boolean) {
  let connected = false;
  const patches: string[] = [];
  const calls: string[] = [];
  const kind: ManagedKind<ManagedObject> = {
    kind: 'Fake',
    resource: { group: 'dockyard.io', version: 'v1alpha1', plural: 'fakes' },
    dockerEventType: 'container',
    defaultDeletionPolicy: 'Delete',
    reconcileHost: (ctx): Promise<HostOutcome> => {
      calls.push(ctx.host.metadata.name);
      return Promise.resolve({ entry: { name: 'h1', phase: 'Ready' }, ready: true });
    },
    finalizeHost: () => Promise.resolve({ done: true }),
    dockerNameOf: (o) => o.metadata.name,
  };
  const obj: ManagedObject = {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'Fake',
    metadata: {
      name: 'o',
      namespace: 'ns',
      uid: 'u1',
      generation: 1,
      resourceVersion: '7',
      finalizers: [FINALIZER],
    },
    spec: { hostName: 'h1' },
    status: {
      observedGeneration: 1,
      hostsReady: '1/1',
      phase: 'Ready',
      conditions: objectReady
        ? [ready('Ready')]
        : [
            {
              type: 'Ready',
              status: 'False',
              reason: 'Pending',
              message: '',
              lastTransitionTime: CONDITION_TIME,
            },
          ],
      hosts: [{ name: 'h1', phase: objectReady ? 'Ready' : 'Pending' }],
    },
  };
  const reconciler = new ManagedReconciler<ManagedObject>({
    kind,
    objects: { getByName: () => obj },
    hosts: { list: () => [HOST], getByName: (n) => (n === 'h1' ? HOST : undefined) },
    namespaces: { get: () => Promise.resolve({}) },
    hostRuntime: { connection: () => (connected ? ({} as HostConnection) : undefined) },
    status: {
      patchNamespacedCustomObjectStatus: (param: { body: unknown }) => {
        patches.push(JSON.stringify(param.body));
        return Promise.resolve({});
      },
      patchClusterCustomObjectStatus: () => Promise.resolve({}),
    } as unknown as StatusPatchApi,
    finalizers: {} as FinalizerPatchApi,
    events: { event: () => undefined },
    fieldManager: 'test',
    pollIntervalMs: 60_000,
  });
  const ctx = { logger: pino({ level: 'silent' }), signal: new AbortController().signal, reconcileID: 'r' };
  return {
    patches,
    calls,
    connect: () => (connected = true),
    reconcile: () => reconciler.reconcile(ctx, { namespace: 'ns', name: 'o' }),
  };
}

describe('ManagedReconciler while host connections warm up', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps a Ready object Ready and looks again shortly, then works normally once connected', async () => {
    const h = harness(true);
    const result = await h.reconcile();
    expect(result.requeueAfterMs).toBeLessThanOrEqual(WARMUP_REQUEUE_MS);
    expect(h.patches.join()).not.toMatch(/HostNotReady|"status":"False"/);
    expect(h.calls).toEqual([]); // nothing to talk to yet
    h.connect();
    await h.reconcile();
    expect(h.calls).toEqual(['h1']);
  });

  it('reports HostNotReady once the warm-up is over and the connection still does not come', async () => {
    const h = harness(true);
    vi.advanceTimersByTime(CONNECTION_WARMUP_MS);
    await h.reconcile();
    expect(h.patches.join()).toMatch(/HostNotReady/);
  });

  it('reports HostNotReady at once for an object that was not Ready (nothing healthy to keep)', async () => {
    const h = harness(false);
    await h.reconcile();
    expect(h.patches.join()).toMatch(/HostNotReady/);
  });
});
