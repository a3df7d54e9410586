// Leader election on a Lease with client-go's semantics
// (k8s.io/client-go/tools/leaderelection):
//  - A held lease counts as expired only when the record has not changed for
//    leaseDuration as measured by OUR clock since we last saw it change. The
//    remote renewTime is never compared with the local clock, so clock skew
//    between replicas cannot cause two leaders.
//  - The leader renews every retryPeriod; if it cannot renew for renewDeadline
//    it stops leading (renewDeadline < leaseDuration, so it stops before
//    anyone else may take over).
//  - On graceful shutdown it releases the lease (empty holder, 1 s duration)
//    so a standby takes over at once instead of after leaseDuration.
//  - Local timing (expiry of another's lease, our renew deadline) uses a
//    monotonic clock, as Go's time.Now() readings do in client-go: a wall-clock
//    step (NTP, a VM resumed, an administrator) can neither extend our
//    leadership past the renew deadline nor cut it short, nor make a standby
//    take over early. Only the times written into the Lease (acquireTime,
//    renewTime, which the API defines as wall-clock MicroTime) use Date.now.
// `decide` is the pure core; LeaderElector does the timing and the I/O.

import type { Logger } from 'pino';
import { pino } from 'pino';
import { isConflict } from './api-errors.js';
import { sleep } from './backoff.js';
import type { LeaderElectionRecord, LeaseClient, ObservedLease } from './lease-client.js';

export type Decision =
  | { action: 'create'; record: LeaderElectionRecord }
  | { action: 'update'; record: LeaderElectionRecord }
  | { action: 'wait'; holder: string; expiresAt: number };

export interface DecideInput {
  /** The lease as just read; undefined when it does not exist. */
  current: LeaderElectionRecord | undefined;
  /** Monotonic time at which we last saw the record change. */
  observedAt: number;
  /** Monotonic time now: compared with `observedAt` only. */
  now: number;
  /** Wall-clock time now (epoch ms): written as acquireTime/renewTime, never compared. */
  wallNow: number;
  identity: string;
  leaseDurationSeconds: number;
}

/** What to do with the lease as it is now: create it, write it (acquire or renew), or wait. */
export function decide(input: DecideInput): Decision {
  const { current, observedAt, now, wallNow, identity, leaseDurationSeconds } = input;
  if (!current) {
    return {
      action: 'create',
      record: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: wallNow,
        renewTime: wallNow,
        leaseTransitions: 0,
      },
    };
  }
  const heldByOther = current.holderIdentity !== '' && current.holderIdentity !== identity;
  const expiresAt = observedAt + current.leaseDurationSeconds * 1000;
  if (heldByOther && expiresAt > now) return { action: 'wait', holder: current.holderIdentity, expiresAt };
  const renewing = current.holderIdentity === identity;
  return {
    action: 'update',
    record: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: renewing ? current.acquireTime : wallNow,
      renewTime: wallNow,
      leaseTransitions: renewing ? current.leaseTransitions : current.leaseTransitions + 1,
    },
  };
}

/** The record that hands the lease back: no holder, and expired one second later for anyone watching. */
export function releaseRecord(current: LeaderElectionRecord, now: number): LeaderElectionRecord {
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current.leaseTransitions,
  };
}

export function sameRecord(
  a: LeaderElectionRecord | undefined,
  b: LeaderElectionRecord | undefined,
): boolean {
  if (!a || !b) return a === b;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

export interface LeaderElectorOptions {
  client: LeaseClient;
  /** Unique per replica, e.g. pod name + random suffix. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called when this replica starts leading; `signal` aborts when it stops. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called when this replica stops leading, whether lost or released. */
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
  /** Wall clock (epoch ms) for the times written into the Lease. Default Date.now. */
  now?: () => number;
  /** Monotonic clock (ms) for all local timing. Default performance.now. */
  monotonicNow?: () => number;
  random?: () => number;
}

/** client-go's jitter for acquire retries: wait retryPeriod × (1 + up to 1.2). */
const JITTER_FACTOR = 1.2;

export class LeaderElector {
  private readonly client: LeaseClient;
  private readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly options: LeaderElectorOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly monotonicNow: () => number;
  private readonly random: () => number;
  private observed: ObservedLease | undefined;
  private observedAt = 0;
  private leading = false;
  private leaseKeptOnStop = false;
  private reportedLeader: string | undefined;

  constructor(options: LeaderElectorOptions) {
    this.options = options;
    this.client = options.client;
    this.identity = options.identity;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({
      lease: options.client.describe(),
      identity: options.identity,
    });
    this.now = options.now ?? Date.now;
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    if (!options.identity) throw new Error('leader election: identity must not be empty');
    if (this.leaseDurationMs <= this.renewDeadlineMs) {
      throw new Error('leader election: leaseDuration must be greater than renewDeadline');
    }
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) {
      throw new Error('leader election: renewDeadline must be greater than retryPeriod × 1.2');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Makes the next stop leave the lease to expire instead of releasing it: for
   * a shutdown that gave up waiting for reconciles, when a standby must not
   * start while this replica may still be writing.
   */
  keepLeaseOnStop(): void {
    this.leaseKeptOnStop = true;
  }

  /**
   * Campaigns until leading, then renews until the lease is lost or `signal`
   * aborts (then releases it). Resolves once it no longer leads.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.log.info('attempting to acquire leader lease');
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(this.renewDeadlineMs)) break;
      await sleep(this.retryPeriodMs * (1 + JITTER_FACTOR * this.random()), signal);
    }
    if (signal.aborted) return;

    this.leading = true;
    const leadership = new AbortController();
    this.log.info('successfully acquired lease');
    this.startLeading(leadership.signal);

    const lost = await this.renewLoop(signal);
    this.leading = false;
    leadership.abort();
    if (lost) this.log.error('failed to renew lease in time; stopping leading');
    else if (!this.leaseKeptOnStop) await this.release();
    try {
      this.options.onStoppedLeading();
    } catch (err) {
      this.log.error({ err }, 'onStoppedLeading threw');
    }
  }

  /** Hands the lease back if we hold it. Never throws; returns whether it was released. */
  async release(): Promise<boolean> {
    const observed = this.observed;
    if (!observed || observed.record.holderIdentity !== this.identity) return false;
    try {
      this.observed = await this.client.update(
        releaseRecord(observed.record, this.now()),
        observed.resourceVersion,
      );
      this.observedAt = this.monotonicNow();
      this.log.info('released lease');
      return true;
    } catch (err) {
      this.log.warn({ err }, 'failed to release lease; a standby takes over when it expires');
      return false;
    }
  }

  /** Renews every retryPeriod; returns true when leadership was lost, false when `signal` aborted. */
  private async renewLoop(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return false;
      // One renew round, like client-go's: retry every retryPeriod until renewDeadline.
      const deadline = this.monotonicNow() + this.renewDeadlineMs;
      for (;;) {
        if (await this.tryAcquireOrRenew(deadline - this.monotonicNow())) break;
        if (signal.aborted) return false;
        const left = deadline - this.monotonicNow();
        if (left <= 0) return true;
        await sleep(Math.min(this.retryPeriodMs, left), signal);
        if (signal.aborted) return false;
      }
    }
  }

  private startLeading(signal: AbortSignal): void {
    Promise.resolve()
      .then(() => this.options.onStartedLeading(signal))
      .catch((err: unknown) => this.log.error({ err }, 'onStartedLeading failed'));
  }

  /** One attempt, abandoned after `timeoutMs` so a hung request cannot keep us leader. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.attempt(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async attempt(): Promise<boolean> {
    let current: ObservedLease | undefined;
    try {
      current = await this.client.get();
    } catch (err) {
      this.log.warn({ err }, 'error retrieving lease');
      return false;
    }
    const now = this.monotonicNow();
    if (!sameRecord(this.observed?.record, current?.record)) {
      this.observed = current;
      this.observedAt = now;
    } else if (current) {
      this.observed = current; // same record, possibly a new resourceVersion
    }

    const decision = decide({
      current: current?.record,
      observedAt: this.observedAt,
      now,
      wallNow: this.now(),
      identity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
    });
    if (decision.action === 'wait') {
      this.reportLeader(decision.holder);
      return false;
    }
    try {
      this.observed =
        decision.action === 'create' || !current
          ? await this.client.create(decision.record)
          : await this.client.update(decision.record, current.resourceVersion);
      this.observedAt = this.monotonicNow();
      this.reportLeader(this.identity);
      return true;
    } catch (err) {
      // A conflict means another replica wrote first; that is the normal race, not an error.
      if (isConflict(err)) this.log.debug({ err }, 'lease changed while writing it');
      else this.log.warn({ err }, 'failed to write lease');
      return false;
    }
  }

  private reportLeader(holder: string): void {
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    this.log.info({ leader: holder }, 'new leader observed');
    try {
      this.options.onNewLeader?.(holder);
    } catch (err) {
      this.log.error({ err }, 'onNewLeader threw');
    }
  }
}
