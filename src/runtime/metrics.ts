// Prometheus metrics with controller-runtime's names and labels, so existing
// dashboards and alerts for Go operators work on Dockyard unchanged; Dockyard's
// own metrics use the `dockyard_` prefix. Each call to `createMetrics` builds
// its own Registry (no global state, so tests and several managers don't clash).

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ControllerMetrics } from './controller.js';
import type { InformerMetrics } from './informer.js';
import type { UnfinishedWork, WorkQueueMetrics } from './workqueue.js';

export interface RuntimeMetrics {
  readonly registry: Registry;
  /** Hooks for one controller's controller_runtime_* series. */
  controller(name: string): ControllerMetrics;
  /** Hooks for one queue's workqueue_* series; `controller` defaults to `name`. */
  workQueue(name: string, controller?: string): WorkQueueMetrics;
  /** Hooks for one informer's dockyard_informer_* series. */
  informer(resource: string): InformerMetrics;
  /** dockyard_event_writes_* series of the manager's shared Event writes; call once. */
  eventWrites(writes: { queued: () => number }): EventWritesMetrics;
}

export interface EventWritesMetrics {
  dropped(): void;
}

export interface MetricsOptions {
  registry?: Registry;
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

// controller-runtime's buckets for controller_runtime_reconcile_time_seconds.
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// client-go's workqueue buckets: ExponentialBuckets(10e-9, 10, 12), 10 ns to 1000 s.
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

const RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;

type Registers = Registry[];

/** controller_runtime_* series: one family per controller, every series exposed at zero from the start. */
function controllerFamily(registers: Registers): RuntimeMetrics['controller'] {
  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers,
  });
  const reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers,
  });
  const terminalErrors = new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Total number of terminal reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers,
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
    registers,
  });
  const maxConcurrent = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
    registers,
  });

  return (name) => {
    const l = { controller: name };
    // Expose every series at zero from the start, as controller-runtime does, so rate() works at once.
    for (const result of RESULTS) reconcileTotal.inc({ controller: name, result }, 0);
    reconcileErrors.inc(l, 0);
    terminalErrors.inc(l, 0);
    return {
      reconcileTotal: (result) => reconcileTotal.inc({ controller: name, result }),
      reconcileError: () => reconcileErrors.inc(l),
      terminalReconcileError: () => terminalErrors.inc(l),
      reconcileTime: (s) => reconcileTime.observe(l, s),
      activeWorkers: (n) => activeWorkers.set(l, n),
      maxConcurrentReconciles: (n) => maxConcurrent.set(l, n),
    };
  };
}

const QUEUE_LABELS = ['name', 'controller'] as const;

type UnfinishedWorkProbes = Map<
  string,
  { labels: { name: string; controller: string }; probe: () => UnfinishedWork }
>;

/**
 * The two workqueue gauges read from each queue when scraped (see
 * WorkQueueMetrics.unfinishedWorkProbe). They need no handle: `registers`
 * keeps them and `collect` fills them.
 */
function unfinishedWorkGauges(registers: Registers, probes: UnfinishedWorkProbes): void {
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help:
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
      'Large values indicate stuck threads.',
    labelNames: QUEUE_LABELS,
    registers,
    collect() {
      for (const { labels, probe } of probes.values()) this.set(labels, probe().unfinishedSeconds);
    },
  });
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
    labelNames: QUEUE_LABELS,
    registers,
    collect() {
      for (const { labels, probe } of probes.values()) this.set(labels, probe().longestRunningSeconds);
    },
  });
}

/** workqueue_* series with client-go's names, per queue and controller. */
function workQueueFamily(registers: Registers): RuntimeMetrics['workQueue'] {
  const depth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: QUEUE_LABELS,
    registers,
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: QUEUE_LABELS,
    registers,
  });
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: QUEUE_LABELS,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: QUEUE_LABELS,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: QUEUE_LABELS,
    registers,
  });
  const probes: UnfinishedWorkProbes = new Map();
  unfinishedWorkGauges(registers, probes);

  return (name, controller = name) => {
    const l = { name, controller };
    adds.inc(l, 0);
    retries.inc(l, 0);
    depth.set(l, 0);
    return {
      depth: (n) => depth.set(l, n),
      add: () => adds.inc(l),
      queueDuration: (s) => queueDuration.observe(l, s),
      workDuration: (s) => workDuration.observe(l, s),
      retry: () => retries.inc(l),
      unfinishedWorkProbe: (probe) => probes.set(`${name}\u0000${controller}`, { labels: l, probe }),
    };
  };
}

/** dockyard_informer_* series, per watched resource. */
function informerFamily(registers: Registers): RuntimeMetrics['informer'] {
  const informerRestarts = new Counter({
    name: 'dockyard_informer_restarts_total',
    help: 'Times an informer restarted its list/watch after a failure or a stalled watch',
    labelNames: ['resource'] as const,
    registers,
  });
  const informerRelists = new Counter({
    name: 'dockyard_informer_relists_total',
    help: 'Times an informer listed again after its initial sync',
    labelNames: ['resource'] as const,
    registers,
  });

  return (resource) => {
    const l = { resource };
    informerRestarts.inc(l, 0);
    informerRelists.inc(l, 0);
    return { restart: () => informerRestarts.inc(l), relist: () => informerRelists.inc(l) };
  };
}

/** The Event writes the manager's recorders share (event-writes.ts); registered at zero from the start. */
function eventWritesFamily(registers: Registers): RuntimeMetrics['eventWrites'] {
  let source: { queued: () => number } = { queued: () => 0 };
  const dropped = new Counter({
    name: 'dockyard_event_writes_dropped_total',
    help: 'Events not written because too many Event writes were already waiting (as client-go drops them)',
    registers,
  });
  new Gauge({
    name: 'dockyard_event_writes_queued',
    help: 'Event writes waiting for one of the few slots the recorders share',
    registers,
    collect() {
      this.set(source.queued());
    },
  });
  return (writes) => {
    source = writes;
    return { dropped: () => dropped.inc() };
  };
}

export function createMetrics(options: MetricsOptions = {}): RuntimeMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    controller: controllerFamily(registers),
    workQueue: workQueueFamily(registers),
    informer: informerFamily(registers),
    eventWrites: eventWritesFamily(registers),
  };
}
