import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Controller } from './controller.js';
import { createMetrics } from './metrics.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';

/** The value of the exposition line `name{labels} value` whose label set contains all `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('createMetrics', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('exposes controller-runtime series with non-zero values after a few reconciles', async () => {
    const metrics = createMetrics();
    let n = 0;
    let release: (() => void) | undefined;
    const controller = new Controller({
      name: 'container',
      reconciler: {
        reconcile: async () => {
          n++;
          if (n === 1) throw new Error('fails once');
          if (n === 2) return { requeueAfterMs: 1000 };
          if (n === 4) await new Promise<void>((r) => (release = r)); // stays in flight for the scrape
        },
      },
      metrics: metrics.controller('container'),
      queueMetrics: metrics.workQueue('container'),
      rateLimiter: new ItemExponentialFailureRateLimiter(10, 1000),
      maxConcurrentReconciles: 2,
    });
    const informer = metrics.informer('containers.dockyard.io');
    informer.restart();
    informer.relist();
    informer.relist();

    await controller.start();
    controller.trigger('ns/a'); // error, then requeue_after, then success
    await vi.advanceTimersByTimeAsync(10);
    await vi.advanceTimersByTimeAsync(1000);
    controller.trigger('ns/b'); // stays in flight
    await vi.advanceTimersByTimeAsync(2500);

    const text = await metrics.registry.metrics();
    const c = { controller: 'container' };
    const q = { name: 'container', controller: 'container' };
    expect(sample(text, 'controller_runtime_reconcile_total', { ...c, result: 'success' })).toBe(1);
    expect(sample(text, 'controller_runtime_reconcile_total', { ...c, result: 'error' })).toBe(1);
    expect(sample(text, 'controller_runtime_reconcile_total', { ...c, result: 'requeue_after' })).toBe(1);
    expect(sample(text, 'controller_runtime_reconcile_total', { ...c, result: 'requeue' })).toBe(0);
    expect(sample(text, 'controller_runtime_reconcile_errors_total', c)).toBe(1);
    expect(sample(text, 'controller_runtime_terminal_reconcile_errors_total', c)).toBe(0);
    expect(sample(text, 'controller_runtime_reconcile_time_seconds_count', c)).toBe(3);
    expect(sample(text, 'controller_runtime_active_workers', c)).toBe(1);
    expect(sample(text, 'controller_runtime_max_concurrent_reconciles', c)).toBe(2);
    expect(sample(text, 'workqueue_adds_total', q)).toBe(4);
    expect(sample(text, 'workqueue_retries_total', q)).toBe(1);
    expect(sample(text, 'workqueue_depth', q)).toBe(0);
    expect(sample(text, 'workqueue_queue_duration_seconds_count', q)).toBe(4);
    expect(sample(text, 'workqueue_work_duration_seconds_count', q)).toBe(3);
    expect(sample(text, 'workqueue_unfinished_work_seconds', q)).toBeCloseTo(2.5);
    expect(sample(text, 'workqueue_longest_running_processor_seconds', q)).toBeCloseTo(2.5);
    expect(sample(text, 'dockyard_informer_restarts_total', { resource: 'containers.dockyard.io' })).toBe(1);
    expect(sample(text, 'dockyard_informer_relists_total', { resource: 'containers.dockyard.io' })).toBe(2);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');

    release?.();
    await controller.stop();
  });

  it('keeps registries apart and can leave out the default process metrics', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.controller('x').reconcileTotal('success');
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    expect(sample(textA, 'controller_runtime_reconcile_total', { controller: 'x', result: 'success' })).toBe(
      1,
    );
    expect(sample(textB, 'controller_runtime_reconcile_total', { controller: 'x' })).toBeUndefined();
    expect(textA).not.toContain('process_cpu_user_seconds_total');
  });
});

describe('dockyard_event_writes_*', () => {
  it('exist at zero before any recorder, then show the shared queue and the drops', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let text = await metrics.registry.metrics();
    expect(sample(text, 'dockyard_event_writes_queued')).toBe(0);
    expect(sample(text, 'dockyard_event_writes_dropped_total')).toBe(0);
    const hooks = metrics.eventWrites({ queued: () => 7 });
    hooks.dropped();
    hooks.dropped();
    text = await metrics.registry.metrics();
    expect(sample(text, 'dockyard_event_writes_queued')).toBe(7);
    expect(sample(text, 'dockyard_event_writes_dropped_total')).toBe(2);
  });
});
