// Image pulls and container stops of the DockerContainer kind run off the
// reconcile workers. A pull of a large image or a stop that waits out a
// stopGracePeriod of minutes would otherwise hold one of the few shared
// workers for that long, and every other tenant's objects would wait behind
// it. Reconciles start or join the operation, report it (phase Pulling or
// Stopping), return, and are enqueued again when it ends, as the DockerImage
// kind's pull jobs do.
//
//   operation  key                               bound                       ends with
//   pull       host, image, credentials (anon.)  maxPulls in flight,         trigger; Pulled Event, or
//                                                PULL_TIMEOUT_MS each        failure + retry backoff
//   stop       host, container ID                grace period + margin       trigger; the caller's onEnded
//
// A recreate whose stop outlasts the wait spans reconciles: the next one
// finds the old container stopped (and, if its restart policy was `always`,
// set to `no`). What it was before the recreate began is remembered here
// (RecreateMemory, per host and container ID) for replace.ts' undo.
//
// Every operation also stops with the controller (the reconcile's signal,
// aborted on shutdown and at once when the Lease is lost).

import type Dockerode from 'dockerode';
import { EventReason, Reason, type PullFailureReason } from '../../crds/reasons.js';
import { containerClient } from '../../docker/container-client.js';
import { errorMessage } from '../../docker/errors.js';
import { ImagePullError, imageClient } from '../../docker/image-client.js';
import type { HostOutcome, HostStatusEntry } from '../../managed/types.js';
import { ANONYMOUS, type ImageAccessRecords } from '../dockerimage/image-access.js';
import { describeProgress, retryDelayMs } from '../dockerimage/image-spec.js';
import { PullJobs, type PullResult, type PullView } from '../dockerimage/pull-jobs.js';

/** Pulls in flight per controller by default; further ones wait for a slot. */
export const DEFAULT_MAX_PULLS = 4;
/** As DockerImage's: a pull not finished after this long is abandoned (and retried with backoff). */
export const PULL_TIMEOUT_MS = 15 * 60_000;
/**
 * How long a reconcile waits for a stop before leaving it to the background.
 * Most containers stop within it (SIGTERM handled), and their reconcile then
 * reports Stopped at once as before; any longer wait frees the worker.
 */
export const STOP_WAIT_MS = 2_000;
/** What a stop request may take beyond the grace period: Docker kills, then waits for the exit. */
export const STOP_REQUEST_MARGIN_MS = 60_000;
/** Look again this long after a stop should have ended, if its end was not seen. */
const STOP_REQUERY_MARGIN_MS = 2_000;
/** While pulling: look again this often to show progress (as DockerImage does). */
export const PULL_PROGRESS_REQUEUE_MS = 2_000;

export type Note = (
  type: 'Normal' | 'Warning',
  reason: Reason | EventReason,
  action: string,
  message: string,
) => void;

/** What the host entry says while an operation runs, or after one failed. */
export interface OpReport {
  phase: 'Pulling' | 'Stopping';
  message: string;
  failure?: { reason: Reason; message: string };
  requeueAfterMs?: number;
}

/** The host's outcome while waiting on a background operation: not ready, never Stalled. */
export function waitingOutcome(entry: HostStatusEntry, r: OpReport): HostOutcome {
  return {
    entry: { ...entry, phase: r.phase, message: r.message },
    ready: false,
    ...(r.failure ? { failure: r.failure } : {}),
    ...(r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : {}),
  };
}

// ---------------------------------------------------------------------------
// Slots: the bound on pulls in flight
// ---------------------------------------------------------------------------

/** At most `limit` holders at once; the others wait in order, or leave when their signal aborts. */
export class Slots {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  get inUse(): number {
    return this.held;
  }

  /** The next acquire has to wait. */
  get full(): boolean {
    return this.held >= this.limit;
  }

  /** Resolves with the function that frees the slot; rejects when `signal` aborts first. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.held < this.limit) {
      this.held++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(wake), 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(wake);
    });
    // The slot was handed over by its last holder: `held` did not change.
    return this.releaser();
  }

  private releaser(): () => void {
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    };
  }
}

// ---------------------------------------------------------------------------
// Pulls: PullJobs (one per key, shared), a slot each, a retry backoff per owner
// ---------------------------------------------------------------------------

/** One owner's consecutive failed pulls of an image on a host. */
export interface PullBackoff {
  failures: number;
  /** No new pull before this time (ms since the epoch). */
  retryAt: number;
  reason: PullFailureReason;
  message: string;
}

export type PullDecision =
  | { action: 'start' }
  | { action: 'wait'; view: Extract<PullView, { state: 'running' }> }
  /** `fresh`: the failure was just taken (record it once); otherwise still backing off from it. */
  | { action: 'failed'; backoff: PullBackoff; fresh: boolean };

/**
 * Pure: what a reconcile that needs the image does about its pull. A running
 * pull is waited for; a failure just ended counts one more failure and backs
 * off (DockerImage's retry delays: 5 s doubling to 5 min); no new pull starts
 * before the backoff has passed.
 */
export function decidePull(
  view: PullView | undefined,
  backoff: PullBackoff | undefined,
  now: number,
): PullDecision {
  if (view?.state === 'running') return { action: 'wait', view };
  if (view?.state === 'done' && !view.result.ok) {
    const failures = (backoff?.failures ?? 0) + 1;
    const { reason, message, finishedAt } = view.result;
    return {
      action: 'failed',
      fresh: true,
      backoff: { failures, retryAt: finishedAt + retryDelayMs(failures), reason, message },
    };
  }
  if (view?.state !== 'done' && backoff && now < backoff.retryAt)
    return { action: 'failed', backoff, fresh: false };
  return { action: 'start' };
}

/**
 * One pull per host and image: a container presents no credentials, so all
 * its pulls are anonymous, and share only with other anonymous pulls (the
 * identity is in the key, as DockerImage keys its pulls).
 */
export function pullKey(host: string, image: string): string {
  return [host, image, '', ANONYMOUS].join('\u0000');
}

export interface PullRequest {
  host: string;
  image: string;
  owner: { uid: string; /** `namespace/name`, enqueued when the pull ends. */ key: string };
  conn: { api: Dockerode; stream: Dockerode };
  /** Where the pull is recorded as anonymous (public) for the image-access check. */
  access: ImageAccessRecords;
  /** The controller's: aborts the pull when it stops. */
  signal: AbortSignal;
  /** Records this owner's Events (Pulled when it ends, PullFailed when its failure is taken). */
  note: Note;
}

interface OwnerPull {
  key: string;
  host: string;
  uid: string;
  ownerKey: string;
  image: string;
  note: Note;
  backoff?: PullBackoff;
}

export interface ContainerOpsOptions {
  /** Reconcile `namespace/name` soon: an operation it waits for ended. */
  trigger?: (ownerKey: string) => void;
  maxPulls?: number;
  pullTimeoutMs?: number;
  stopWaitMs?: number;
  now?: () => number;
}

/** Pulls and stops of the DockerContainer kind, off the workers (see the file comment). */
export class ContainerOps {
  private readonly pulls: PullJobs;
  private readonly slots: Slots;
  private readonly maxPulls: number;
  /** Pulls that wait for a slot, by key. */
  private readonly queued = new Set<string>();
  /** Per pull key and owner uid: its Events and its retry backoff. */
  private readonly owners = new Map<string, OwnerPull>();
  readonly stops: StopJobs;
  /** What the old containers of recreates under way were before their stop (replace.ts). */
  readonly recreates: RecreateMemory;

  constructor(private readonly opts: ContainerOpsOptions = {}) {
    this.maxPulls = Math.max(1, opts.maxPulls ?? DEFAULT_MAX_PULLS);
    this.slots = new Slots(this.maxPulls);
    this.pulls = new PullJobs({ onSettled: (ownerKey) => this.pullSettled(ownerKey), now: () => this.now() });
    this.stops = new StopJobs({ now: () => this.now() });
    this.recreates = new RecreateMemory({ now: () => this.now() });
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Pulls now in flight (holding a slot). */
  get pullsInFlight(): number {
    return this.slots.inUse;
  }

  /** Starts or joins the pull of `image` on the host, or reports its failure; never waits for it. */
  pull(req: PullRequest): OpReport {
    const key = pullKey(req.host, req.image);
    const ownerId = `${key}\u0000${req.owner.uid}`;
    const mine = this.owners.get(ownerId);
    const view = this.pulls.observe(key, req.owner.uid, req.owner.key);
    if (view?.state === 'done') this.pulls.take(key, req.owner.uid);
    // A success ends the backoff; a failure counts on from it.
    const backoff = view?.state === 'done' && view.result.ok ? undefined : mine?.backoff;
    const decision = decidePull(view, backoff, this.now());
    const record: OwnerPull = {
      key,
      host: req.host,
      uid: req.owner.uid,
      ownerKey: req.owner.key,
      image: req.image,
      note: req.note,
    };
    switch (decision.action) {
      case 'failed': {
        const { backoff } = decision;
        this.owners.set(ownerId, { ...record, backoff });
        const retryIn = Math.max(0, backoff.retryAt - this.now());
        const message = `${backoff.message}; attempt ${backoff.failures}, retrying in ${Math.ceil(retryIn / 1000)} s`;
        if (decision.fresh)
          req.note(
            'Warning',
            EventReason.PullFailed,
            'Pull',
            `on ${req.host}: ${backoff.reason}: ${backoff.message}`,
          );
        return {
          phase: 'Pulling',
          message,
          failure: { reason: backoff.reason, message },
          requeueAfterMs: Math.max(1_000, retryIn),
        };
      }
      case 'start':
        this.owners.set(ownerId, { ...record, ...(backoff ? { backoff } : {}) });
        this.startPull(key, req);
        return {
          phase: 'Pulling',
          message: this.describe(key, req.image),
          requeueAfterMs: PULL_PROGRESS_REQUEUE_MS,
        };
      case 'wait':
        this.owners.set(ownerId, { ...record, ...(backoff ? { backoff } : {}) });
        return {
          phase: 'Pulling',
          message: this.describe(key, req.image, decision.view),
          requeueAfterMs: PULL_PROGRESS_REQUEUE_MS,
        };
    }
  }

  private describe(key: string, image: string, view?: Extract<PullView, { state: 'running' }>): string {
    if (this.queued.has(key))
      return `waiting to pull ${image}: ${this.maxPulls} pulls already in flight on this controller`;
    return describeProgress(image, view?.progress);
  }

  private startPull(key: string, req: PullRequest): void {
    const { image, host, conn, access } = req;
    const timeoutMs = this.opts.pullTimeoutMs ?? PULL_TIMEOUT_MS;
    this.pulls.start(key, req.owner.uid, req.owner.key, async (signal, onProgress): Promise<PullResult> => {
      const stop = AbortSignal.any([signal, req.signal]);
      const started = this.now();
      const failed = (reason: PullFailureReason, message: string): PullResult => ({
        ok: false,
        reason,
        message,
        durationMs: this.now() - started,
        finishedAt: this.now(),
      });
      if (this.slots.full) this.queued.add(key);
      let free: () => void;
      try {
        free = await this.slots.acquire(stop);
      } catch {
        return failed(Reason.PullError, `pulling ${image}: canceled`);
      } finally {
        this.queued.delete(key);
      }
      // The deadline counts from the start of the pull itself, not from the wait for a slot.
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const out = await imageClient.pull(conn.stream, image, {
          signal: AbortSignal.any([stop, timeout]),
          onProgress,
        });
        // Pulled without credentials: the image is public, for every owner on this host.
        access.recordPull(host, await imageClient.inspect(conn.api, image), image, ANONYMOUS, out.digest);
        return {
          ok: true,
          ...(out.digest ? { digest: out.digest } : {}),
          bytes: out.bytes,
          durationMs: this.now() - started,
          finishedAt: this.now(),
        };
      } catch (err) {
        if (timeout.aborted && !stop.aborted)
          return failed(Reason.PullError, `pulling ${image}: not finished after ${timeoutMs / 1000} s`);
        const e = ImagePullError.from(err, `pulling ${image}`);
        return failed(e.reason, e.message);
      } finally {
        free();
      }
    });
  }

  /** A pull ended (PullJobs calls this once per owner waiting for it): a success is recorded and forgotten. */
  private pullSettled(ownerKey: string): void {
    for (const [id, o] of this.owners) {
      if (o.ownerKey !== ownerKey) continue;
      const view = this.pulls.observe(o.key, o.uid, o.ownerKey);
      if (view?.state !== 'done' || !view.result.ok) continue;
      this.pulls.take(o.key, o.uid);
      this.owners.delete(id);
      const seconds = (view.result.durationMs / 1000).toFixed(1);
      o.note('Normal', EventReason.Pulled, 'Pull', `pulled ${o.image} on ${o.host} in ${seconds} s`);
    }
    this.opts.trigger?.(ownerKey);
  }

  /**
   * The owner is leaving the host (deleted, or moved): it stops waiting for
   * its pulls there (a pull nobody else waits for is aborted) and its backoff
   * is forgotten.
   */
  release(host: string, uid: string): void {
    this.recreates.release(host, uid);
    for (const [id, o] of this.owners) {
      if (o.host !== host || o.uid !== uid) continue;
      this.owners.delete(id);
      void this.pulls.release(o.key, uid);
    }
  }

  /**
   * Stops the container: waits for it at most `stopWaitMs`, then leaves the
   * stop running in the background (the owner is enqueued when it ends). The
   * request has no socket timeout of its own: its deadline is the grace period
   * plus STOP_REQUEST_MARGIN_MS, so a long grace period is waited out, not failed.
   */
  async stop(req: StopRequest): Promise<StopReport> {
    const key = `${req.host}\u0000${req.id}`;
    const started = !this.stops.isRunning(key) && this.stops.view(key) === undefined;
    if (started)
      this.stops.start(key, {
        graceSeconds: req.graceSeconds,
        run: () => runStop(req),
        onEnded: (result) => {
          req.onEnded?.(result);
          this.opts.trigger?.(req.ownerKey);
        },
      });
    // Only the reconcile that starts a stop waits a moment for it; later ones look and go.
    const view = started
      ? await this.stops.wait(key, this.opts.stopWaitMs ?? STOP_WAIT_MS)
      : this.stops.view(key);
    if (view?.state === 'running') {
      // The end enqueues the owner; this is the safety net should that be lost.
      const endsBy = view.startedAt + view.graceSeconds * 1000 + STOP_REQUERY_MARGIN_MS;
      return {
        state: 'stopping',
        started,
        message: stoppingMessage(req.name, view.graceSeconds, req.purpose),
        requeueAfterMs: Math.max(STOP_REQUERY_MARGIN_MS, endsBy - this.now()),
      };
    }
    if (!view) return { state: 'stopped' };
    this.stops.take(key);
    return view.result.ok ? { state: 'stopped' } : { state: 'failed', message: view.result.message };
  }
}

export function stoppingMessage(name: string, graceSeconds: number, purpose?: string): string {
  return `stopping ${name}${purpose ? ` ${purpose}` : ''} (grace period ${graceSeconds} s)`;
}

async function runStop(req: StopRequest): Promise<void> {
  const { signal } = req;
  const deadlineMs = req.graceSeconds * 1000 + STOP_REQUEST_MARGIN_MS;
  const deadline = AbortSignal.timeout(deadlineMs);
  try {
    await containerClient.stop(req.stream, req.id, {
      timeoutSeconds: req.graceSeconds,
      abort: AbortSignal.any([signal, deadline]),
    });
  } catch (err) {
    if (deadline.aborted && !signal.aborted)
      throw new Error(`stopping ${req.name}: Docker did not answer within ${deadlineMs / 1000} s`, {
        cause: err,
      });
    throw new Error(`stopping ${req.name}: ${errorMessage(err)}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------
// Stops: one per host and container
// ---------------------------------------------------------------------------

export interface StopRequest {
  host: string;
  id: string;
  /** The container's name, for messages. */
  name: string;
  /** What the stop is for, said in its message ("to recreate it"). */
  purpose?: string;
  graceSeconds: number;
  /** `namespace/name`, enqueued when the stop ends in the background. */
  ownerKey: string;
  /** A client without socket timeout (the connection's `stream`): the stop has its own deadline. */
  stream: Dockerode;
  /** The controller's: aborts the request when it stops (Docker still finishes the stop). */
  signal: AbortSignal;
  /** Told when the stop ends after the reconcile stopped waiting for it. */
  onEnded?: (result: StopResult) => void;
}

export type StopReport =
  | { state: 'stopped' }
  /** `started`: this call started it (say so once). */
  | { state: 'stopping'; started: boolean; message: string; requeueAfterMs: number }
  | { state: 'failed'; message: string };

export type StopResult =
  | { ok: true; durationMs: number; finishedAt: number }
  | { ok: false; message: string; durationMs: number; finishedAt: number };

export type StopView =
  { state: 'running'; startedAt: number; graceSeconds: number } | { state: 'done'; result: StopResult };

interface StopJob {
  startedAt: number;
  graceSeconds: number;
  settled: Promise<void>;
  /** Reconciles waiting for it right now: they take its result themselves. */
  waiters: number;
  result?: StopResult;
}

/**
 * Stops in flight, one per key (host and container ID). A stop that ends
 * while a reconcile waits for it is that reconcile's to take; one that ends
 * in the background calls `onEnded`, and only a failure is kept (for the
 * next reconcile to report once before it tries again): a success kept
 * would wrongly answer a later stop of the same container. Failures nobody
 * takes expire after `ttlMs`.
 */
export class StopJobs {
  private readonly jobs = new Map<string, StopJob>();

  constructor(private readonly opts: { now?: () => number; ttlMs?: number } = {}) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Starts the stop unless one runs for `key`; `run` may reject (a failed result). */
  start(
    key: string,
    o: { graceSeconds: number; run: () => Promise<void>; onEnded?: (r: StopResult) => void },
  ): void {
    this.expire();
    if (this.isRunning(key)) return;
    const startedAt = this.now();
    const job: StopJob = { startedAt, graceSeconds: o.graceSeconds, settled: Promise.resolve(), waiters: 0 };
    const end = (r: { ok: true } | { ok: false; message: string }): StopResult => ({
      ...r,
      durationMs: this.now() - startedAt,
      finishedAt: this.now(),
    });
    job.settled = o
      .run()
      .then(
        () => end({ ok: true }),
        (err: unknown) => end({ ok: false, message: errorMessage(err) }),
      )
      .then((result) => {
        job.result = result;
        if (job.waiters > 0) return;
        if (result.ok) this.jobs.delete(key);
        o.onEnded?.(result);
      });
    this.jobs.set(key, job);
  }

  isRunning(key: string): boolean {
    const job = this.jobs.get(key);
    return job !== undefined && job.result === undefined;
  }

  view(key: string): StopView | undefined {
    this.expire();
    const job = this.jobs.get(key);
    if (!job) return undefined;
    if (job.result) return { state: 'done', result: job.result };
    return { state: 'running', startedAt: job.startedAt, graceSeconds: job.graceSeconds };
  }

  /** The view once the stop ended or `ms` passed, whichever comes first. */
  async wait(key: string, ms: number): Promise<StopView | undefined> {
    const job = this.jobs.get(key);
    if (!job || job.result) return this.view(key);
    job.waiters++;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([job.settled, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    } finally {
      clearTimeout(timer);
      job.waiters--;
    }
    return this.view(key);
  }

  /** The caller acted on the result. */
  take(key: string): void {
    if (this.jobs.get(key)?.result) this.jobs.delete(key);
  }

  private expire(): void {
    const cutoff = this.now() - (this.opts.ttlMs ?? 10 * 60_000);
    for (const [k, j] of this.jobs) if (j.result && j.result.finishedAt < cutoff) this.jobs.delete(k);
  }
}

// ---------------------------------------------------------------------------
// Recreates: what the old container was before its stop
// ---------------------------------------------------------------------------

/** A restart policy as Docker reports it (ObservedContainer.hostConfig.restartPolicy). */
export interface ObservedRestartPolicy {
  name: string;
  maximumRetryCount: number;
}

/**
 * The old container of a recreate as it was before the recreate began. Its
 * stop may end reconciles later, when it is no longer running and (if its
 * policy was `always`) replace.ts has set its policy to `no`: the undo needs
 * both facts to put it back as it was.
 */
export interface RecreateBefore {
  wasRunning: boolean;
  restartPolicy: ObservedRestartPolicy;
}

interface RecreateRecord extends RecreateBefore {
  uid: string;
  at: number;
}

/**
 * Records not looked at for this long are dropped (a recreate given up, e.g.
 * its spec change reverted): memory stays bounded; a stale one is caught by
 * recreateBefore anyway.
 */
export const RECREATE_MEMORY_TTL_MS = 24 * 60 * 60_000;

function samePolicy(a: ObservedRestartPolicy, b: ObservedRestartPolicy): boolean {
  return a.name === b.name && (a.name !== 'on-failure' || a.maximumRetryCount === b.maximumRetryCount);
}

/**
 * Pure: what the old container was before the recreate began, from the
 * record this process kept (if any) and what Docker shows now. A record is
 * trusted while what Docker shows can follow from it: the same policy, or
 * `no` where it was `always` (replace.ts keeps it down aside). Another policy
 * (set in place since a recreate was given up) means a new recreate, read
 * from the container as it is now. Running now means running before; a
 * stale "was running" costs nothing, as the undo starts the old container
 * again only when spec.state asks for Running.
 */
export function recreateBefore(f: {
  record: RecreateBefore | undefined;
  observed: { running: boolean; restarting: boolean; restartPolicy: ObservedRestartPolicy };
}): RecreateBefore {
  const { record, observed } = f;
  const up = observed.running || observed.restarting;
  const follows =
    record !== undefined &&
    (samePolicy(record.restartPolicy, observed.restartPolicy) ||
      (record.restartPolicy.name === 'always' && observed.restartPolicy.name === 'no'));
  if (record && follows) return { wasRunning: record.wasRunning || up, restartPolicy: record.restartPolicy };
  return { wasRunning: up, restartPolicy: { ...observed.restartPolicy } };
}

/**
 * Per host and container ID: what the old container of a recreate under way
 * was (recreateBefore). In memory only: a new process reads the container as
 * it finds it (see replace.ts on a crash between the stop and the replace).
 */
export class RecreateMemory {
  private readonly records = new Map<string, RecreateRecord>();

  constructor(private readonly opts: { now?: () => number; ttlMs?: number } = {}) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Starts or continues the recreate of `old`; returns what it was before it began. */
  begin(
    host: string,
    uid: string,
    old: {
      id: string;
      state: { running: boolean; restarting: boolean };
      hostConfig: { restartPolicy: ObservedRestartPolicy };
    },
  ): RecreateBefore {
    const key = `${host}\u0000${old.id}`;
    const now = this.now();
    const ttlMs = this.opts.ttlMs ?? RECREATE_MEMORY_TTL_MS;
    for (const [k, r] of this.records) if (now - r.at > ttlMs) this.records.delete(k);
    const record = this.records.get(key);
    const before = recreateBefore({
      record,
      observed: { ...old.state, restartPolicy: old.hostConfig.restartPolicy },
    });
    // Counted from the last look, so a grace period of any length is outlasted.
    this.records.set(key, { ...before, uid, at: now });
    return before;
  }

  /** The recreate ended (replaced, or undone): its old container is gone or back as it was. */
  forget(host: string, id: string): void {
    this.records.delete(`${host}\u0000${id}`);
  }

  /** The owner left the host. */
  release(host: string, uid: string): void {
    for (const [k, r] of this.records)
      if (r.uid === uid && k.startsWith(`${host}\u0000`)) this.records.delete(k);
  }
}
