// A supervised informer: list, then watch from the list's resourceVersion,
// keeping an indexed cache and calling handlers. Unlike client-node's
// ListWatch, it never gives up: every failure leads to a restart with jittered
// exponential backoff, a watch that goes silent is restarted by a watchdog,
// 410 Gone relists at once, and a normal end of a watch re-watches from the
// last resourceVersion. The transport is an interface (`ListWatcher`) so the
// supervision can be tested with a scripted fake; `KubeListWatcher`
// (kube-list-watcher.ts) is the real one.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { describeError, isGone } from './api-errors.js';
import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import { Store, type IndexFunc } from './store.js';

export interface WatchErrorStatus {
  code?: number;
  reason?: string;
  message?: string;
}

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'ERROR'; status: WatchErrorStatus };

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchHandle {
  abort(): void;
}

/**
 * The list/watch transport. `onDone` is called once: without an error when
 * the server ended the watch normally, with a `WatchIdleTimeout` when the
 * client gave up on a silent watch, otherwise with the failure.
 */
export interface ListWatcher<T> {
  list(): Promise<ListResult<T>>;
  watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
}

/** Handlers must only enqueue; they must not await or throw (a throw is logged and dropped). */
export interface EventHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

/** What a controller needs from an informer: handlers and sync state. */
export interface EventSource<T> {
  addEventHandler(handler: EventHandler<T>): void;
  hasSynced(): boolean;
}

export interface InformerMetrics {
  restart(): void;
  relist(): void;
}

export interface InformerOptions<T> {
  /** Names the resource in logs and metrics, e.g. `dockerhosts.dockyard.io`. */
  resource: string;
  listWatcher: ListWatcher<T>;
  logger?: Logger;
  metrics?: InformerMetrics;
  /** Re-deliver every cached object as an update this often; 0 disables. Default 10 min. */
  resyncPeriodMs?: number;
  /** Restart when nothing (not even a bookmark) arrived for this long. Default 5 min. */
  watchdogMs?: number;
  /** A list that takes longer than this is abandoned and retried. Default 60 s. */
  listTimeoutMs?: number;
  /** Restart backoff; default 1 s doubling to 30 s with 20 % jitter. */
  backoff?: BackoffOptions;
  /**
   * Being healthy this long (listed and watching, across any number of normal
   * watch ends) resets the backoff. Default 60 s.
   */
  healthyAfterMs?: number;
  /** Monotonic clock (ms) for all timing here. Default performance.now. */
  now?: () => number;
  /**
   * Applied to every listed or watched object before it is cached (client-go's
   * SetTransform). Default: drop `metadata.managedFields`, which nothing here
   * reads and which is often the largest part of a small object (one entry per
   * field manager: kubectl, Argo CD, our finalizer and status writers).
   */
  transform?: (obj: T) => T;
}

/** controller-runtime's TransformStripManagedFields. Returns a shallow copy, never mutates. */
export function stripManagedFields<T>(obj: T): T {
  const meta = (obj as { metadata?: { managedFields?: unknown } }).metadata;
  if (!meta || meta.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...obj, metadata: rest } as T;
}

type WatchOutcome =
  | { kind: 'closed'; events: number }
  | { kind: 'gone' }
  | { kind: 'error'; err: unknown }
  | { kind: 'stalled' }
  | { kind: 'stopped' };

/** A watch that ends cleanly this fast without delivering anything counts as a failure, to avoid a hot loop. */
const MIN_HEALTHY_WATCH_MS = 1000;

/**
 * Passed to `onDone` when the client, not the server, ended a watch for
 * silence (client-node aborts after 30 s without data). The informer
 * re-watches as after a normal end, but unlike the server's own end it is no
 * sign that the server is alive, so it does not hold the watchdog off.
 */
export class WatchIdleTimeout extends Error {
  constructor(message = 'watch ended by the client after a silence') {
    super(message);
    this.name = 'WatchIdleTimeout';
  }
}

export class WatchStatusError extends Error {
  readonly code: number | undefined;
  constructor(readonly status: WatchErrorStatus) {
    super(`watch error: ${status.code ?? '?'} ${status.reason ?? ''} ${status.message ?? ''}`.trim());
    this.name = 'WatchStatusError';
    this.code = status.code;
  }
}

export class Informer<T extends KubernetesObject> implements EventSource<T> {
  readonly resource: string;
  private readonly store = new Store<T>();
  private readonly handlers: EventHandler<T>[] = [];
  private readonly lw: ListWatcher<T>;
  private readonly log: Logger;
  private readonly metrics: InformerMetrics | undefined;
  private readonly resyncPeriodMs: number;
  private readonly watchdogMs: number;
  private readonly listTimeoutMs: number;
  private readonly healthyAfterMs: number;
  private readonly transform: (obj: T) => T;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  /**
   * Since when the informer has been up without a failure: set by a
   * successful list or watch start, cleared by a failure. Measured across
   * watches, not per watch, because the server ends every watch at its own
   * timeout (randomised from --min-request-timeout, 30 to 60 min by default,
   * but a few seconds where it is set low): a per-watch measure longer than
   * that timeout never resets the backoff, and it grows to the cap for good.
   */
  private healthySince: number | undefined;
  private synced = false;
  private resourceVersion = '';
  private lastActivity = 0;
  private running: Promise<void> | undefined;
  private stopController = new AbortController();
  private stopCurrentWatch: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(options: InformerOptions<T>) {
    this.resource = options.resource;
    this.lw = options.listWatcher;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ informer: options.resource });
    this.metrics = options.metrics;
    this.resyncPeriodMs = options.resyncPeriodMs ?? 10 * 60_000;
    this.watchdogMs = options.watchdogMs ?? 5 * 60_000;
    this.listTimeoutMs = options.listTimeoutMs ?? 60_000;
    this.healthyAfterMs = options.healthyAfterMs ?? 60_000;
    this.transform = options.transform ?? stripManagedFields;
    this.backoff = new Backoff(options.backoff);
    this.now = options.now ?? (() => performance.now());
  }

  /** Starts listing and watching in the background; idempotent. */
  start(): void {
    if (this.running) return;
    this.stopController = new AbortController();
    this.running = this.run().catch((err: unknown) => {
      // run() catches everything itself; this is a last line of defence.
      this.log.error({ err }, 'informer loop crashed');
    });
  }

  /** Stops watching and waits for the loop to exit. The cache keeps its content. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.stopCurrentWatch?.();
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    await this.running;
    this.running = undefined;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Registers a handler; objects already cached are delivered to it as adds. */
  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    for (const obj of this.store.list()) this.call('add', () => handler.onAdd?.(obj));
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.store.getByName(name, namespace);
  }

  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }

  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.store.addIndexer(name, fn);
  }

  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    let previousGone = false;
    while (!this.stopped) {
      const listed = await this.listWithTimeout();
      if (listed === undefined || this.stopped) return;
      if (listed instanceof Error) {
        this.log.warn({ err: listed }, 'list failed; retrying after backoff');
        this.metrics?.restart();
        await sleep(this.failureDelay(), this.stopController.signal);
        continue;
      }
      this.applyList(listed);

      const outcome = await this.watchUntilBroken();
      switch (outcome.kind) {
        case 'stopped':
          return;
        case 'gone':
          // Our resourceVersion was compacted away: only a fresh list can catch up.
          // Twice in a row means the fresh list did not help: back off instead of hammering.
          this.log.info({ repeated: previousGone }, 'watch expired (410 Gone); relisting');
          if (previousGone) await sleep(this.failureDelay(), this.stopController.signal);
          break;
        case 'stalled':
          this.log.warn({ silentMs: this.watchdogMs }, 'watch went silent; restarting');
          this.metrics?.restart();
          await sleep(this.failureDelay(), this.stopController.signal);
          break;
        case 'error':
          this.log.warn({ err: outcome.err }, 'watch failed; restarting after backoff');
          this.metrics?.restart();
          await sleep(this.failureDelay(), this.stopController.signal);
          break;
      }
      previousGone = outcome.kind === 'gone';
    }
  }

  /**
   * The delay before retrying after a failure: the backoff starts over when
   * the informer had been healthy for `healthyAfterMs` before this failure.
   */
  private failureDelay(): number {
    if (this.healthySince !== undefined && this.now() - this.healthySince >= this.healthyAfterMs) {
      this.backoff.reset();
    }
    this.healthySince = undefined;
    return this.backoff.next();
  }

  /** The list, an Error (failure or timeout), or undefined when stopped meanwhile. */
  private listWithTimeout(): Promise<ListResult<T> | Error | undefined> {
    const signal = this.stopController.signal;
    return new Promise((resolve) => {
      const settle = (value: ListResult<T> | Error | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = (): void => settle(undefined);
      // A list has no abort in client-node; an abandoned one finishes in the background and is ignored.
      const timer = setTimeout(
        () => settle(new Error(`list timed out after ${this.listTimeoutMs} ms`)),
        this.listTimeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.resolve()
        .then(() => this.lw.list())
        .then(settle, (err: unknown) => settle(err instanceof Error ? err : new Error(describeError(err))));
    });
  }

  private applyList(listed: ListResult<T>): void {
    const first = !this.synced;
    const { added, updated, deleted } = this.store.replace(listed.items.map(this.transform));
    this.resourceVersion = listed.resourceVersion;
    this.lastActivity = this.now();
    this.healthySince ??= this.lastActivity;
    if (!first) this.metrics?.relist();
    for (const obj of added) this.dispatch('add', (h) => h.onAdd?.(obj));
    for (const { old, current } of updated) this.dispatch('update', (h) => h.onUpdate?.(old, current));
    for (const obj of deleted) this.dispatch('delete', (h) => h.onDelete?.(obj));
    if (first) {
      this.synced = true;
      this.log.debug({ items: listed.items.length, resourceVersion: listed.resourceVersion }, 'synced');
      this.scheduleResync();
    }
  }

  /** Watches, re-watching from the last resourceVersion after normal ends, until something needs a relist. */
  private async watchUntilBroken(): Promise<Exclude<WatchOutcome, { kind: 'closed' }>> {
    for (;;) {
      const started = this.now();
      const outcome = await this.watchOnce();
      if (this.stopped) return { kind: 'stopped' };
      const lasted = this.now() - started;
      if (outcome.kind !== 'closed') return outcome;
      if (outcome.events === 0 && lasted < MIN_HEALTHY_WATCH_MS) {
        this.log.debug({ lastedMs: lasted }, 'watch closed at once; re-watching after backoff');
        await sleep(this.failureDelay(), this.stopController.signal);
        if (this.stopped) return { kind: 'stopped' };
      }
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      let settled = false;
      let handle: WatchHandle | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      let events = 0;
      const startedAt = this.now();

      const finish = (outcome: WatchOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        this.stopCurrentWatch = undefined;
        handle?.abort();
        resolve(outcome);
      };

      // Measured from the last event of any watch (or the last list), so a
      // transport that keeps reconnecting without ever delivering is caught too.
      const armWatchdog = (): void => {
        const remaining = this.lastActivity + this.watchdogMs - this.now();
        if (remaining <= 0) {
          finish({ kind: 'stalled' });
          return;
        }
        watchdog = setTimeout(armWatchdog, remaining);
      };

      const onEvent = (event: WatchEvent<T>): void => {
        if (settled) return;
        events++;
        this.lastActivity = this.now();
        if (event.type === 'ERROR') {
          finish(
            event.status.code === 410 || event.status.reason === 'Expired' || event.status.reason === 'Gone'
              ? { kind: 'gone' }
              : { kind: 'error', err: new WatchStatusError(event.status) },
          );
          return;
        }
        this.applyEvent(event);
      };

      const onDone = (err?: unknown): void => {
        if (!err) {
          // Runtime fix (found against a real kube-apiserver): the server ending a watch at its
          // timeoutSeconds proves it is alive, so it holds the watchdog off like an event does.
          // The bookmark that was expected to do this is not sent for an idle resource: the
          // API server sends bookmarks only from its watch cache, and only once the resource
          // changed after the watch began. A watch that ends at once proves little: no credit.
          if (this.now() - startedAt >= MIN_HEALTHY_WATCH_MS) this.lastActivity = this.now();
          finish({ kind: 'closed', events });
        } else if (err instanceof WatchIdleTimeout) {
          finish({ kind: 'closed', events }); // re-watch, but silence is no sign of life
        } else {
          finish(isGone(err) ? { kind: 'gone' } : { kind: 'error', err });
        }
      };

      this.stopCurrentWatch = () => finish({ kind: 'stopped' });
      if (this.stopped) {
        finish({ kind: 'stopped' });
        return;
      }
      armWatchdog();
      Promise.resolve()
        .then(() => this.lw.watch(this.resourceVersion, onEvent, onDone))
        .then(
          (h) => {
            handle = h;
            if (settled) h.abort();
            else this.healthySince ??= this.now();
          },
          (err: unknown) => onDone(err ?? new Error('watch failed')),
        );
    });
  }

  private applyEvent(event: Exclude<WatchEvent<T>, { type: 'ERROR' }>): void {
    if (event.type === 'BOOKMARK') {
      if (event.resourceVersion) this.resourceVersion = event.resourceVersion;
      return;
    }
    const obj = this.transform(event.object);
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'DELETED') {
      this.store.remove(obj);
      this.dispatch('delete', (h) => h.onDelete?.(obj));
      return;
    }
    const old = this.store.upsert(obj);
    if (old) this.dispatch('update', (h) => h.onUpdate?.(old, obj));
    else this.dispatch('add', (h) => h.onAdd?.(obj));
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs <= 0 || this.stopped) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      if (this.stopped) return;
      // Level-based controllers re-enqueue every key, catching drift no event reports.
      for (const obj of this.store.list()) this.dispatch('update', (h) => h.onUpdate?.(obj, obj));
      this.scheduleResync();
    }, this.resyncPeriodMs);
    this.resyncTimer.unref?.();
  }

  private dispatch(kind: string, fn: (h: EventHandler<T>) => void): void {
    for (const handler of this.handlers) this.call(kind, () => fn(handler));
  }

  private call(kind: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, event: kind }, 'event handler threw; handlers must only enqueue');
    }
  }
}
