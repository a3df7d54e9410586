import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { addFinalizer } from '../../src/runtime/finalizers.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { TEST_FIELD_MANAGER } from '../support/gadget-reconciler.js';
import { CONTROLLER_NAME, gadgetManager } from '../support/gadget-manager.js';
import { formatLines, LEVEL } from '../support/log-capture.js';
import { sampleValue, scrape } from '../support/prometheus.js';
import {
  createNamespace,
  GadgetClient,
  GADGETS,
  installGadgetCrd,
  isConverged,
} from '../support/test-crd.js';

// The controller loop against a real kube-apiserver: many objects and
// workers, optimistic-concurrency conflicts, readiness and metrics.

let cp: ControlPlane;
let kc: KubeConfig;

beforeAll(async () => {
  cp = await startControlPlane();
  kc = cp.kubeConfig();
  await installGadgetCrd(kc);
}, CONTROL_PLANE_START_TIMEOUT_MS);

afterAll(async () => {
  await cp?.stop();
});

/** Runs `fn` over `items`, `size` at a time (a burst, but not hundreds of sockets at once). */
async function inBatches<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function allConverged(gadgets: GadgetClient, count: number, value?: number): Promise<boolean> {
  const items = await gadgets.list();
  return (
    items.length === count &&
    items.every((g) => isConverged(g) && (value === undefined || g.status?.value === value))
  );
}

describe('controller runtime against a real API server', () => {
  it('converges 200 objects with 4 workers, never reconciling one key twice at once', async () => {
    const namespace = 'converge';
    await createNamespace(kc, namespace);
    const gadgets = new GadgetClient(kc, namespace);
    const names = Array.from({ length: 200 }, (_, i) => `g-${String(i).padStart(3, '0')}`);
    await inBatches(names, 20, (name) => gadgets.create(name, 1));

    // A little simulated work per reconcile, so reconciles overlap the way Docker calls make them;
    // small list pages, so the initial list is paginated by the real server.
    const h = gadgetManager(kc, {
      namespace,
      maxConcurrentReconciles: 4,
      listPageSize: 30,
      reconciler: { workMs: () => 2 + Math.random() * 10 },
    });
    await h.manager.start();
    try {
      // Change every spec twice while the first round runs: events arrive for keys being reconciled.
      for (const value of [2, 3]) await inBatches(names, 20, (name) => gadgets.setValue(name, value));
      await waitFor(() => allConverged(gadgets, 200, 3), {
        timeoutMs: 60_000,
        what: '200 gadgets to converge on value 3',
      });

      expect(h.informer.list()).toHaveLength(200);
      const rec = h.reconciler.recorder;
      expect(names.filter((name) => rec.count(`${namespace}/${name}`) === 0)).toEqual([]);
      expect(rec.maxInFlightPerKey).toBe(1);
      expect(rec.overlappingSameKey()).toEqual([]);
      expect(rec.maxInFlight).toBeGreaterThan(1);
      expect(rec.maxInFlight).toBeLessThanOrEqual(4);
      expect(rec.spans.every((s) => s.ok)).toBe(true);
      expect(formatLines(h.logs.filter((l) => l.level >= LEVEL.error))).toBe('');
    } finally {
      await h.manager.stop();
    }
  });

  it('retries 409 conflicts from stale writes without error logs, and the retry succeeds', async () => {
    const namespace = 'conflicts';
    await createNamespace(kc, namespace);
    const gadgets = new GadgetClient(kc, namespace);
    const api = kc.makeApiClient(CustomObjectsApi);
    const finalizer = 'test.dockyard.io/cleanup';
    const injected = new Set<string>();

    const h = gadgetManager(kc, {
      namespace,
      reconciler: {
        // First reconcile of each: someone else writes the object, so the cached copy is stale.
        beforeStatus: async (_ctx, gadget) => {
          const name = gadget.metadata.name;
          const first = !injected.has(name);
          injected.add(name);
          if (first) await gadgets.touch(name);
          if (name === 'stale-update' && first) await gadgets.replace(gadget); // 409 from the server
          // A resourceVersion-guarded JSON patch: the server answers a stale one with 422, seen as 409.
          if (name === 'stale-finalizer')
            await addFinalizer(api, {
              resource: GADGETS,
              object: gadget,
              finalizer,
              fieldManager: TEST_FIELD_MANAGER,
            });
        },
      },
    });
    await h.manager.start();
    try {
      await gadgets.create('stale-update', 7);
      await gadgets.create('stale-finalizer', 8);
      await waitFor(() => allConverged(gadgets, 2), { timeoutMs: 30_000, what: 'both gadgets to converge' });
      expect((await gadgets.get('stale-finalizer')).metadata.finalizers).toEqual([finalizer]);

      const rec = h.reconciler.recorder;
      for (const name of ['stale-update', 'stale-finalizer']) {
        const spans = rec.spans.filter((s) => s.key === `${namespace}/${name}`);
        expect(spans[0]?.ok, `${name}: the first reconcile failed`).toBe(false);
        expect(
          spans.some((s) => s.ok),
          `${name}: a later reconcile succeeded`,
        ).toBe(true);
        const retried = h.logs.filter((l) => l.msg === 'Conflict; retrying' && l.name === name);
        expect(retried.length, `${name}: conflict logged for retry`).toBeGreaterThan(0);
        expect(retried.every((l) => l.level === LEVEL.debug)).toBe(true);
      }
      const finalizerConflict = h.logs.find(
        (l) => l.msg === 'Conflict; retrying' && l.name === 'stale-finalizer',
      );
      expect(JSON.stringify(finalizerConflict?.err)).toContain('changed since resourceVersion');
      expect(formatLines(h.logs.filter((l) => l.level >= LEVEL.error))).toBe('');

      const metrics = await h.manager.metrics.registry.metrics();
      const controller = { controller: CONTROLLER_NAME };
      expect(sampleValue(metrics, 'controller_runtime_reconcile_errors_total', controller)).toBe(0);
      expect(
        sampleValue(metrics, 'controller_runtime_reconcile_total', { ...controller, result: 'requeue' }),
      ).toBeGreaterThanOrEqual(2);
    } finally {
      await h.manager.stop();
    }
  });

  it('is not ready before its informers synced, then serves controller-runtime metrics', async () => {
    const namespace = 'metrics';
    await createNamespace(kc, namespace);
    const gadgets = new GadgetClient(kc, namespace);
    for (let i = 0; i < 8; i++) await gadgets.create(`m-${i}`, i);

    const h = gadgetManager(kc, { namespace, maxConcurrentReconciles: 4, serve: true });
    // A frozen API server: the manager starts, but its informer's list cannot complete.
    cp.pauseApiServer();
    try {
      await h.manager.start();
      expect((await fetch(h.probeUrl('/healthz'))).status).toBe(200);
      for (let i = 0; i < 2; i++) {
        const readyz = await fetch(h.probeUrl('/readyz'));
        expect(readyz.status).toBe(500);
        expect(await readyz.text()).toContain(`[-]informers-synced failed: not synced: ${GADGETS.resource}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      cp.resumeApiServer();
    }
    try {
      await waitFor(async () => (await fetch(h.probeUrl('/readyz'))).status === 200, {
        timeoutMs: 20_000,
        what: '/readyz to pass once the API server answers',
      });
      await waitFor(() => allConverged(gadgets, 8), { timeoutMs: 30_000, what: 'the gadgets to converge' });

      const text = await scrape(h.metricsUrl());
      const controller = { controller: CONTROLLER_NAME };
      const queue = { name: CONTROLLER_NAME, controller: CONTROLLER_NAME };
      expect(
        sampleValue(text, 'controller_runtime_reconcile_total', { ...controller, result: 'success' }),
      ).toBeGreaterThanOrEqual(8);
      expect(
        sampleValue(text, 'controller_runtime_reconcile_time_seconds_count', controller),
      ).toBeGreaterThan(0);
      expect(sampleValue(text, 'controller_runtime_max_concurrent_reconciles', controller)).toBe(4);
      expect(sampleValue(text, 'controller_runtime_active_workers', controller)).toBe(0);
      expect(sampleValue(text, 'controller_runtime_reconcile_errors_total', controller)).toBe(0);
      expect(sampleValue(text, 'workqueue_adds_total', queue)).toBeGreaterThanOrEqual(8);
      expect(sampleValue(text, 'workqueue_depth', queue)).toBe(0);
      expect(sampleValue(text, 'workqueue_queue_duration_seconds_count', queue)).toBeGreaterThan(0);
      expect(sampleValue(text, 'workqueue_work_duration_seconds_count', queue)).toBeGreaterThan(0);
      expect(sampleValue(text, 'dockyard_informer_relists_total', { resource: GADGETS.resource })).toBe(0);
      expect(sampleValue(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    } finally {
      await h.manager.stop();
    }
  });
});
