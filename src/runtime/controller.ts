// A controller in controller-runtime's shape: event sources enqueue keys, a
// rate-limited work queue dedups them, and up to `maxConcurrentReconciles`
// workers call the reconciler, never two for the same key at once. With
// `lanes`, keys are also grouped (Dockyard: by Docker host) and at most
// `lanes.limit` of one group are reconciled at once, so the workers spread
// over the hosts instead of queueing behind one.
//
// Outcome of a reconcile → what happens to its key:
//   success                      → forget (reset backoff)
//   { requeueAfterMs > 0 }       → forget, add again after that delay
//   TerminalError (or caused by) → forget, log, count as error, no retry
//   409 Conflict (stale cache)   → retry with backoff, logged at debug
//   any other throw (any value)  → retry with backoff, logged at error

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { isConflict, toError } from './api-errors.js';
import { sleep } from './backoff.js';
import type { MapFunc } from './enqueue.js';
import type { EventSource } from './informer.js';
import { parseKey, requestKey, type Request } from './object-key.js';
import type { RateLimiter } from './rate-limiter.js';
import { WorkQueue, type WorkQueueMetrics } from './workqueue.js';

export type { Request } from './object-key.js';

export interface ReconcileContext {
  /** Child logger with controller, namespace, name and reconcileID. */
  logger: Logger;
  /** Aborted when the controller shuts down; pass it to long waits. */
  signal: AbortSignal;
  reconcileID: string;
}

export interface ReconcileResult {
  /** Reconcile again after this long even if nothing changes (e.g. to poll Docker for drift). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(ctx: ReconcileContext, req: Request): Promise<ReconcileResult | void>;
}

/** An error retrying cannot fix (e.g. an invalid spec): the key is not retried until its next event. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';

/** Hooks fed to controller_runtime_* metrics. */
export interface ControllerMetrics {
  reconcileTotal(result: ReconcileResultLabel): void;
  reconcileError(): void;
  terminalReconcileError(): void;
  reconcileTime(seconds: number): void;
  activeWorkers(n: number): void;
  maxConcurrentReconciles(n: number): void;
}

export const noopControllerMetrics: ControllerMetrics = {
  reconcileTotal: () => {},
  reconcileError: () => {},
  terminalReconcileError: () => {},
  reconcileTime: () => {},
  activeWorkers: () => {},
  maxConcurrentReconciles: () => {},
};

/** Groups requests whose reconciles share a limited resource (e.g. one Docker daemon). */
export interface ControllerLanes {
  /** The group of a request; undefined: none (only the worker count bounds it). */
  of(req: Request): string | undefined;
  /** Reconciles of one group at once. */
  limit: number;
}

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  /** Workers: reconciles this controller runs at once, over all lanes. */
  maxConcurrentReconciles?: number;
  lanes?: ControllerLanes;
  logger?: Logger;
  rateLimiter?: RateLimiter;
  metrics?: ControllerMetrics;
  queueMetrics?: WorkQueueMetrics;
  /** Give up starting when sources have not synced by then. Default 2 min (controller-runtime's). */
  cacheSyncTimeoutMs?: number;
  newReconcileID?: () => string;
}

interface SyncSource {
  hasSynced(): boolean;
}

const SYNC_POLL_MS = 100;

/** Decides whether an update is worth a reconcile (controller-runtime's predicates). */
export type UpdatePredicate<T> = (oldObj: T, newObj: T) => boolean;

function safePredicate<T>(p: UpdatePredicate<T>, oldObj: T, newObj: T): boolean {
  try {
    return p(oldObj, newObj);
  } catch {
    return true; // when in doubt, reconcile
  }
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly maxConcurrentReconciles: number;
  private readonly log: Logger;
  private readonly metrics: ControllerMetrics;
  private readonly cacheSyncTimeoutMs: number;
  private readonly newReconcileID: () => string;
  private readonly syncSources: SyncSource[] = [];
  private readonly shutdown = new AbortController();
  private readonly workers: Promise<void>[] = [];
  private started = false;
  private stopping: Promise<void> | undefined;
  private active = 0;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.maxConcurrentReconciles = Math.max(1, options.maxConcurrentReconciles ?? 1);
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ controller: options.name });
    this.metrics = options.metrics ?? noopControllerMetrics;
    this.cacheSyncTimeoutMs = options.cacheSyncTimeoutMs ?? 120_000;
    this.newReconcileID = options.newReconcileID ?? randomUUID;
    const lanes = options.lanes;
    this.queue = new WorkQueue({
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
      ...(lanes ? { lanes: { laneOf: (key) => lanes.of(parseKey(key)), limit: lanes.limit } } : {}),
      ...(options.queueMetrics ? { metrics: options.queueMetrics } : {}),
    });
  }

  /**
   * Enqueues the requests `map` returns for every object `source` reports
   * (both the old and the new object of an update), and waits for `source`
   * to sync before the first reconcile.
   */
  watch<T>(
    source: EventSource<T>,
    map: MapFunc<T>,
    options: { updatePredicate?: UpdatePredicate<T> } = {},
  ): this {
    this.syncSources.push(source);
    source.addEventHandler({
      onAdd: (obj) => this.enqueueMapped(map, obj),
      onUpdate: (oldObj, newObj) => {
        if (options.updatePredicate && !safePredicate(options.updatePredicate, oldObj, newObj)) return;
        this.enqueueMapped(map, oldObj);
        this.enqueueMapped(map, newObj);
      },
      onDelete: (obj) => this.enqueueMapped(map, obj),
    });
    return this;
  }

  /** Also wait for `source` (e.g. an informer only read from the cache) before starting workers. */
  waitForSync(source: SyncSource): this {
    this.syncSources.push(source);
    return this;
  }

  /** External trigger (e.g. a Docker event): reconcile `target` soon. Never throws. */
  trigger(target: Request | string): void {
    this.queue.add(typeof target === 'string' ? target : requestKey(target));
  }

  /**
   * Waits for every source to sync, then starts the workers and resolves.
   * Throws if the sources do not sync in time. Aborting `signal` stops the controller.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} already started`);
    this.started = true;
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    if (signal?.aborted) void this.stop();

    const deadline = Date.now() + this.cacheSyncTimeoutMs;
    while (!this.syncSources.every((s) => s.hasSynced())) {
      if (this.stopping) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `controller ${this.name}: timed out after ${this.cacheSyncTimeoutMs} ms waiting for caches to sync`,
        );
      }
      await sleep(SYNC_POLL_MS, this.shutdown.signal);
    }
    if (this.stopping) return;

    this.metrics.maxConcurrentReconciles(this.maxConcurrentReconciles);
    this.metrics.activeWorkers(0);
    this.log.info({ workerCount: this.maxConcurrentReconciles }, 'Starting workers');
    for (let i = 0; i < this.maxConcurrentReconciles; i++) this.workers.push(this.worker());
  }

  /**
   * Stops taking work, aborts the reconcile signal, and waits for in-flight
   * reconciles to return. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('Shutdown signal received, waiting for all workers to finish');
      this.shutdown.abort();
      this.queue.shutDown();
      await Promise.all(this.workers);
      this.log.info('All workers finished');
    })();
    return this.stopping;
  }

  /** Reconciles running right now. */
  activeWorkers(): number {
    return this.active;
  }

  private enqueueMapped<T>(map: MapFunc<T>, obj: T): void {
    try {
      for (const req of map(obj)) this.queue.add(requestKey(req));
    } catch (err) {
      this.log.error({ err }, 'map function threw; event dropped');
    }
  }

  private async worker(): Promise<void> {
    for (;;) {
      const item = await this.queue.get();
      if (item.shutdown) return;
      if (this.stopping) {
        this.queue.done(item.key);
        return;
      }
      try {
        await this.reconcileHandler(item.key);
      } catch (err) {
        // reconcileHandler catches everything; this guards the loop against bugs in logging or metrics.
        this.log.error({ err: toError(err) }, 'unexpected error in reconcile handler');
      } finally {
        this.queue.done(item.key);
      }
    }
  }

  private async reconcileHandler(key: string): Promise<void> {
    const req = parseKey(key);
    const reconcileID = this.newReconcileID();
    const logger = this.log.child({
      ...(req.namespace ? { namespace: req.namespace } : {}),
      name: req.name,
      reconcileID,
    });
    const ctx: ReconcileContext = { logger, signal: this.shutdown.signal, reconcileID };

    this.active++;
    this.metrics.activeWorkers(this.active);
    const started = performance.now();
    let result: ReconcileResult | void = undefined;
    let failure: { err: unknown } | undefined;
    try {
      // The async wrapper turns a synchronous throw from reconcile into a rejection.
      result = await (async () => this.reconciler.reconcile(ctx, req))();
    } catch (err) {
      failure = { err };
    } finally {
      this.active--;
      this.metrics.activeWorkers(this.active);
      this.metrics.reconcileTime((performance.now() - started) / 1000);
    }

    if (failure) {
      const err = toError(failure.err);
      if (inChain(err, (e) => e instanceof TerminalError)) {
        this.queue.forget(key);
        this.metrics.reconcileTotal('error');
        this.metrics.reconcileError();
        this.metrics.terminalReconcileError();
        logger.error({ err, terminal: true }, 'Reconciler error');
        return;
      }
      this.queue.addRateLimited(key);
      if (inChain(err, isConflict)) {
        // The cache was behind the API server; the retry reads the newer object.
        this.metrics.reconcileTotal('requeue');
        logger.debug({ err }, 'Conflict; retrying');
        return;
      }
      this.metrics.reconcileTotal('error');
      this.metrics.reconcileError();
      logger.error({ err }, 'Reconciler error');
      return;
    }

    const after = result?.requeueAfterMs;
    if (typeof after === 'number' && after > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, after);
      this.metrics.reconcileTotal('requeue_after');
      return;
    }
    this.queue.forget(key);
    this.metrics.reconcileTotal('success');
  }
}

/** Like Go's errors.Is: checks the error and its `cause` chain. */
function inChain(err: unknown, test: (e: unknown) => boolean): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 16 && current !== undefined && current !== null; depth++) {
    if (test(current)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}
