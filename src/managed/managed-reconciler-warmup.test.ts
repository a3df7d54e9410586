import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostConnection } from '../docker/connection-pool.js';
import { CONNECTION_WARMUP_MS, WARMUP_REQUEUE_MS } from './connection-warmup.js';
import { condition, fakeKind, fakeObject, fakeWorld } from './test-support.js';

// A restart or failover: the DockerHost is Ready, but this process has not
// opened its connection yet. A healthy object must not be written Ready=False
// meanwhile (pure flow through the generic reconciler, fake kind and APIs).

function harness(objectReady: boolean) {
  let connected = false;
  const patches: string[] = [];
  const calls: string[] = [];
  const kind = fakeKind({
    reconcileHost: (ctx) => {
      calls.push(ctx.host.metadata.name);
      return Promise.resolve({ entry: { name: 'h1', phase: 'Ready' }, ready: true });
    },
  });
  const obj = fakeObject({
    metadata: { generation: 1, resourceVersion: '7' },
    status: {
      observedGeneration: 1,
      hostsReady: '1/1',
      phase: 'Ready',
      conditions: [objectReady ? condition('True', 'Ready') : condition('False', 'Pending')],
      hosts: [{ name: 'h1', phase: objectReady ? 'Ready' : 'Pending' }],
    },
  });
  const world = fakeWorld({
    kind,
    object: () => obj,
    connection: () => (connected ? ({} as HostConnection) : undefined),
    onStatus: (body) => patches.push(JSON.stringify(body)),
  });
  return { ...world, patches, calls, connect: () => (connected = true) };
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
