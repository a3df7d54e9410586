// The Manager owns everything a Dockyard process runs: informers, controllers,
// the leader elector, the metrics registry, event recorders and the two HTTP
// servers (metrics on :8080, probes on :8081 by default).
//
// Informers run on every replica, so a standby has warm caches and is ready
// (/readyz) as soon as they sync. Controllers run only on the leader (or at
// once without leader election), except those added with
// `needLeaderElection: false` (controller-runtime's NeedLeaderElection):
// sharded controllers run on every replica and gate each key on the shard
// Leases themselves, which a background task (`addBackgroundTask`) holds.
//
// Losing the lease is not a stop but a fence: another replica may already be
// leading, so nothing may be written any more. At once and without draining
// (controller-runtime sets gracefulShutdownTimeout to 0 and exits), every
// reconcile's signal aborts (Docker calls given it are cut), the queues shut
// down, Event writes stop, the lease is left alone, `leadershipLost` aborts
// (the process exits from its listener, before any further callback runs),
// and `done` resolves with 'leadership-lost'. Informers and servers are torn
// down in the background; stop() waits for that.
//
// Graceful stop, in order, under one hard deadline (30 s by default):
//   1. controllers stop taking work and finish in-flight reconciles
//   2. the lease is released (not if the deadline passed: a standby must not
//      start while this replica may still be writing)
//   3. pending Events are flushed, informers stop
//   4. the HTTP servers close

import { once } from 'node:events';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { Controller, type ControllerOptions } from './controller.js';
import { KubeEventRecorder, type EventRecorder, type EventsApi } from './events.js';
import {
  HealthProbes,
  parseBindAddress,
  startHttpServer,
  type Checker,
  type HttpServerHandle,
} from './health.js';
import { Informer, type InformerOptions } from './informer.js';
import { LeaderElector } from './leader-election.js';
import type { LeaseClient } from './lease-client.js';
import { createMetrics, type RuntimeMetrics } from './metrics.js';
import { EventWrites } from './event-writes.js';

export interface LeaderElectionOptions {
  client: LeaseClient;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  logger?: Logger;
  /** Default: a fresh registry with Node process metrics. */
  metrics?: RuntimeMetrics;
  /** Go form; `0` disables. Default `:8080`. */
  metricsBindAddress?: string;
  /** Go form; `0` disables. Default `:8081`. */
  healthProbeBindAddress?: string;
  /** Absent: this replica runs controllers at once. */
  leaderElection?: LeaderElectionOptions;
  /** Absent: event recorders only log. */
  events?: { api: EventsApi; instance?: string };
  /** Hard deadline for stop(). Default 30 s. */
  gracefulShutdownTimeoutMs?: number;
}

export type ManagerExitReason = 'stopped' | 'leadership-lost' | 'error';

/**
 * Work that runs only while this process leads (or at once without leader
 * election), beside the controllers: controller-runtime's runnables that need
 * leader election. A lost lease stops it with the controllers.
 */
export interface LeaderRunnable {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Work that runs on every replica from start until stop, beside the
 * informers (the shard Leases' coordinator). `run` resolves once it let go of
 * what it held; the graceful stop aborts it after the controllers finished.
 */
export interface BackgroundTask {
  name: string;
  run(signal: AbortSignal): Promise<void>;
}

/**
 * A LeaderRunnable that runs on every replica instead (sharded): started with
 * the manager, stopped once its controllers have finished.
 */
export function everyReplica(runnable: LeaderRunnable): BackgroundTask {
  return {
    name: runnable.name,
    run: async (signal) => {
      await runnable.start();
      if (!signal.aborted) await once(signal, 'abort');
      await runnable.stop();
    },
  };
}

export interface ManagerExit {
  reason: ManagerExitReason;
  error?: unknown;
}

/** What the manager needs from an informer, whatever its object type. */
interface ManagedInformer {
  readonly resource: string;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
}

/** Logs events instead of writing them, when no Events API is configured. */
class LoggingEventRecorder implements EventRecorder {
  constructor(private readonly log: Logger) {}
  event(regarding: KubernetesObject, type: string, reason: string, action: string, note: string): void {
    this.log.debug({ regarding: regarding.metadata?.name, type, reason, action, note }, 'event');
  }
}

export class Manager {
  readonly logger: Logger;
  readonly metrics: RuntimeMetrics;
  readonly probes = new HealthProbes();
  /** Resolves when the manager has stopped, with why. */
  readonly done: Promise<ManagerExit>;
  private resolveDone!: (exit: ManagerExit) => void;
  private readonly options: ManagerOptions;
  private readonly informers: ManagedInformer[] = [];
  private readonly controllers: Controller[] = [];
  /** Controllers that run on every replica, leader or not. */
  private readonly unelected = new Set<Controller>();
  private readonly tasks: BackgroundTask[] = [];
  private taskRuns: Promise<void>[] = [];
  private readonly tasksAbort = new AbortController();
  private readonly recorders: KubeEventRecorder[] = [];
  private readonly servers: HttpServerHandle[] = [];
  private readonly runnables: LeaderRunnable[] = [];
  private elector: LeaderElector | undefined;
  private electorRun: Promise<void> | undefined;
  private readonly electorAbort = new AbortController();
  private readonly controllersAbort = new AbortController();
  private readonly lostAbort = new AbortController();
  /** Aborts, synchronously, when the lease is lost: a process exits from its listener. */
  readonly leadershipLost: AbortSignal = this.lostAbort.signal;
  private started = false;
  private stopping: Promise<void> | undefined;
  private metricsServer: HttpServerHandle | undefined;
  private sharedEventWrites: EventWrites | undefined;
  private probeServer: HttpServerHandle | undefined;

  constructor(options: ManagerOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.metrics = options.metrics ?? createMetrics();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.probes.addHealthzCheck('ping', () => {});
    this.probes.addReadyzCheck('informers-synced', () => {
      const pending = this.informers.filter((i) => !i.hasSynced()).map((i) => i.resource);
      if (pending.length > 0) throw new Error(`not synced: ${pending.join(', ')}`);
    });
  }

  /** Creates an informer wired to this manager's logger and metrics, and registers it. */
  createInformer<T extends KubernetesObject>(
    options: Omit<InformerOptions<T>, 'logger' | 'metrics'>,
  ): Informer<T> {
    const informer = new Informer<T>({
      ...options,
      logger: this.logger,
      metrics: this.metrics.informer(options.resource),
    });
    this.addInformer(informer);
    return informer;
  }

  addInformer(informer: ManagedInformer): void {
    this.informers.push(informer);
    if (this.started) informer.start();
  }

  /** Creates a controller wired to this manager's logger and metrics, and registers it. */
  createController(
    options: Omit<ControllerOptions, 'logger' | 'metrics' | 'queueMetrics'> & {
      needLeaderElection?: boolean;
    },
  ): Controller {
    const { needLeaderElection, ...controllerOptions } = options;
    const controller = new Controller({
      ...controllerOptions,
      logger: this.logger,
      metrics: this.metrics.controller(options.name),
      queueMetrics: this.metrics.workQueue(options.name),
    });
    this.addController(controller, { needLeaderElection: needLeaderElection ?? true });
    return controller;
  }

  /** `needLeaderElection: false`: runs on every replica from start (sharded controllers). */
  addController(controller: Controller, options: { needLeaderElection?: boolean } = {}): void {
    if (this.started) throw new Error('add controllers before starting the manager');
    this.controllers.push(controller);
    if (options.needLeaderElection === false) this.unelected.add(controller);
  }

  addBackgroundTask(task: BackgroundTask): void {
    if (this.started) throw new Error('add background tasks before starting the manager');
    this.tasks.push(task);
  }

  /**
   * Something this replica held (a shard's Lease) was lost: the same fence as
   * a lost leader lease (see the file comment). `done` resolves with
   * 'leadership-lost'.
   */
  fence(what: string): void {
    if (this.stopping) return;
    this.fenceOnLostLease(what);
  }

  addLeaderRunnable(runnable: LeaderRunnable): void {
    if (this.started) throw new Error('add runnables before starting the manager');
    this.runnables.push(runnable);
  }

  /** One bound on Event writes for all recorders: they compete with status writes for the API server. */
  private eventWrites(): EventWrites {
    if (this.sharedEventWrites) return this.sharedEventWrites;
    // The gauge reads the queue only when scraped, after it exists.
    const metrics = this.metrics.eventWrites({ queued: () => shared.queued });
    const shared = new EventWrites({ onDropped: metrics.dropped });
    this.sharedEventWrites = shared;
    return shared;
  }

  /** The recorder for `controller`'s Events (reportingController dockyard.io/<controller>). */
  eventRecorderFor(controller: string): EventRecorder {
    if (!this.options.events) return new LoggingEventRecorder(this.logger.child({ controller }));
    const recorder = new KubeEventRecorder({
      api: this.options.events.api,
      controller,
      ...(this.options.events.instance ? { instance: this.options.events.instance } : {}),
      logger: this.logger,
      writesStop: this.lostAbort.signal,
      writes: this.eventWrites(),
    });
    this.recorders.push(recorder);
    return recorder;
  }

  addHealthzCheck(name: string, check: Checker): void {
    this.probes.addHealthzCheck(name, check);
  }

  addReadyzCheck(name: string, check: Checker): void {
    this.probes.addReadyzCheck(name, check);
  }

  isLeader(): boolean {
    return this.options.leaderElection ? (this.elector?.isLeader() ?? false) : true;
  }

  /** Where /metrics is served, once started (useful with port 0). */
  metricsAddress(): HttpServerHandle['address'] | undefined {
    return this.metricsServer?.address;
  }

  /** Where /healthz and /readyz are served, once started. */
  healthProbeAddress(): HttpServerHandle['address'] | undefined {
    return this.probeServer?.address;
  }

  /**
   * Starts the servers, the informers, and (when leading, or at once without
   * leader election) the controllers. Resolves once everything is launched;
   * await `done` for the end. Rejects if a server cannot bind.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('manager already started');
    this.started = true;
    try {
      await this.startServers();
    } catch (err) {
      await Promise.all(this.servers.map((s) => s.close()));
      throw err;
    }
    for (const informer of this.informers) informer.start();
    this.taskRuns = this.tasks.map((task) =>
      task.run(this.tasksAbort.signal).catch((err: unknown) => {
        this.logger.error({ err, task: task.name }, 'background task failed');
        void this.stop({ reason: 'error', error: err });
      }),
    );
    for (const controller of this.unelected) this.startController(controller);

    const le = this.options.leaderElection;
    if (!le) {
      this.startControllers();
      return;
    }
    this.elector = new LeaderElector({
      client: le.client,
      identity: le.identity,
      ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      logger: this.logger,
      onStartedLeading: () => this.startControllers(),
      onStoppedLeading: () => {
        if (!this.stopping) this.fenceOnLostLease('leader election lost');
      },
    });
    this.electorRun = this.elector.run(this.electorAbort.signal);
  }

  /** Graceful stop (see the file comment). Idempotent; resolves when done. */
  stop(exit: ManagerExit = { reason: 'stopped' }): Promise<void> {
    this.stopping ??= this.shutdown(exit);
    return this.stopping;
  }

  private async startServers(): Promise<void> {
    const metricsBind = parseBindAddress(this.options.metricsBindAddress ?? ':8080');
    const probeBind = parseBindAddress(this.options.healthProbeBindAddress ?? ':8081');
    if (metricsBind) {
      const registry = this.metrics.registry;
      this.metricsServer = await startHttpServer(metricsBind, (req, res) => {
        if (req.url?.split('?')[0] !== '/metrics') {
          res.writeHead(404).end('not found\n');
          return;
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => {
            this.logger.error({ err }, 'collecting metrics failed');
            res.writeHead(500).end('collecting metrics failed\n');
          },
        );
      });
      this.servers.push(this.metricsServer);
      this.logger.info({ address: this.metricsServer.address }, 'serving metrics');
    }
    if (probeBind) {
      this.probeServer = await startHttpServer(probeBind, this.probes.handle);
      this.servers.push(this.probeServer);
      this.logger.info({ address: this.probeServer.address }, 'serving health probes');
    }
  }

  private startControllers(): void {
    if (this.stopping) return;
    for (const runnable of this.runnables) {
      runnable.start().catch((err: unknown) => {
        this.logger.error({ err, runnable: runnable.name }, 'runnable failed to start');
        void this.stop({ reason: 'error', error: err });
      });
    }
    for (const controller of this.controllers) {
      if (!this.unelected.has(controller)) this.startController(controller);
    }
  }

  private startController(controller: Controller): void {
    controller.start(this.controllersAbort.signal).catch((err: unknown) => {
      this.logger.error({ err, controller: controller.name }, 'controller failed to start');
      void this.stop({ reason: 'error', error: err });
    });
  }

  /** Stops every leader runnable; a failure to stop is logged, never thrown. */
  private stopRunnables(): Promise<void> {
    return Promise.all(
      this.runnables.map((r) =>
        r
          .stop()
          .catch((err: unknown) => this.logger.error({ err, runnable: r.name }, 'runnable failed to stop')),
      ),
    ).then(() => undefined);
  }

  /** A lease is lost: stop every write now (see the file comment). Synchronous on purpose. */
  private fenceOnLostLease(what: string): void {
    this.logger.error({ drain: false }, what);
    // Aborts each controller's reconcile signal and shuts its queue down, synchronously.
    this.controllersAbort.abort();
    this.lostAbort.abort();
    this.stopRunnables();
    this.resolveDone({ reason: 'leadership-lost' });
    this.stopping = (async () => {
      this.electorAbort.abort();
      await this.electorRun;
      // Informers only read; stopping them just frees the connections.
      await Promise.all(this.informers.map((i) => i.stop()));
      await Promise.all(this.servers.map((s) => s.close()));
    })().catch((err: unknown) => this.logger.error({ err }, 'error while tearing down after a lost lease'));
  }

  private async shutdown(exit: ManagerExit): Promise<void> {
    const timeoutMs = this.options.gracefulShutdownTimeoutMs ?? 30_000;
    this.logger.info({ reason: exit.reason }, 'stopping manager');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });

    const controllersDone = (async () => {
      this.controllersAbort.abort();
      await Promise.all([...this.controllers.map((c) => c.stop()), this.stopRunnables()]);
    })();
    const first = await Promise.race([controllersDone.then(() => 'ok' as const), deadline]);
    if (first === 'timeout') {
      this.logger.error(
        { timeoutMs },
        'reconciles still running at the shutdown deadline; leaving the lease to expire',
      );
      this.elector?.keepLeaseOnStop();
    }
    this.electorAbort.abort();
    // Background tasks let go of what they hold (shard Leases) once no reconcile
    // runs; like the leader lease, not when the deadline passed.
    if (first !== 'timeout') this.tasksAbort.abort();

    const rest = (async () => {
      await this.electorRun;
      if (first !== 'timeout') await Promise.all(this.taskRuns);
      await Promise.all(this.recorders.map((r) => r.flush()));
      await Promise.all(this.informers.map((i) => i.stop()));
    })().catch((err: unknown) => this.logger.error({ err }, 'error while stopping'));
    const second =
      first === 'timeout' ? 'timeout' : await Promise.race([rest.then(() => 'ok' as const), deadline]);
    if (second === 'timeout' && first !== 'timeout')
      this.logger.error({ timeoutMs }, 'shutdown deadline passed');
    clearTimeout(timer);

    await Promise.all(this.servers.map((s) => s.close()));
    this.logger.info('manager stopped');
    this.resolveDone(exit);
  }
}
