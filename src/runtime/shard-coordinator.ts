// Holds this replica's shards (shards.ts decides which) on coordination.k8s.io
// Leases, with leader election's timing rules (leader-election.ts), one Lease
// per shard plus one member Lease per replica:
//  - every retryPeriod one list of the set's Leases (label
//    dockyard.io/shard-set), then: renew the member Lease, renew the held
//    shards, hand back what the plan says (after draining its work, renewing
//    the held shards meanwhile), and campaign for the free shards the plan names;
//  - another's Lease counts as expired only when its record has not changed
//    for its leaseDuration by OUR monotonic clock since we saw it change;
//  - a held shard not renewed for renewDeadline (< leaseDuration) is lost:
//    onLost fires before any other replica may take it over;
//  - member Leases do not pile up: a replica deletes its own when it stops,
//    and any replica deletes one expired for ten lease durations (a replica
//    that died).

import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { isConflict } from './api-errors.js';
import { sleep } from './backoff.js';
import { decide, releaseRecord, sameRecord } from './leader-election.js';
import { leaseSpecFromRecord, recordFromLease, type LeaderElectionRecord } from './lease-client.js';
import { planShards, type ShardPlan } from './shards.js';

export const SHARD_SET_LABEL = 'dockyard.io/shard-set';
const ROLE_LABEL = 'dockyard.io/lease-role';

export type ShardLeaseApi = Pick<
  CoordinationV1Api,
  'listNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease' | 'deleteNamespacedLease'
>;

/** A dead replica's member Lease is deleted once it has been expired this many lease durations. */
const MEMBER_LEASE_GC_DURATIONS = 10;

export interface ShardCoordinatorOptions {
  api: ShardLeaseApi;
  namespace: string;
  /** Names the Leases (`<set>-shard-<i>`, `<set>-member-<identity>`) and labels them. */
  setName: string;
  /** Unique per replica (pod name); a valid Lease name suffix. */
  identity: string;
  shards: number;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** A shard was taken: its work may start. */
  onAcquired: (shard: number) => void;
  /** A shard is about to be handed back: resolve once none of its work is in flight. */
  drain: (shard: number) => Promise<void>;
  /** A held shard could not be renewed in time: stop its work at once (another replica may take it soon). */
  onLost: (shard: number) => void;
  /** A shard was handed back (after drain): what was kept for its work may go. */
  onReleased?: (shard: number) => void;
  logger?: Logger;
  now?: () => number;
  monotonicNow?: () => number;
}

interface Seen {
  record: LeaderElectionRecord;
  resourceVersion: string;
  /** Monotonic time the record last changed, as we saw it. */
  changedAt: number;
}

export class ShardCoordinator {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly monotonicNow: () => number;
  private readonly seen = new Map<string, Seen>();
  /** Held shard → monotonic time of its last successful write. */
  private readonly held = new Map<number, number>();

  constructor(private readonly options: ShardCoordinatorOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs <= this.renewDeadlineMs)
      throw new Error('shard leases: leaseDuration must be greater than renewDeadline');
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ shardSet: options.setName });
    this.now = options.now ?? Date.now;
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
  }

  /** Whether this replica holds `shard` now. */
  owns(shard: number): boolean {
    return this.held.has(shard);
  }

  heldShards(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Rounds every retryPeriod until `signal` aborts; then hands every held shard back (drained first). */
  async run(signal: AbortSignal): Promise<void> {
    const watchdog = setInterval(() => this.dropExpired(), Math.min(500, this.retryPeriodMs));
    try {
      while (!signal.aborted) {
        await this.round().catch((err: unknown) => this.log.warn({ err }, 'shard lease round failed'));
        await sleep(this.retryPeriodMs, signal);
      }
    } finally {
      clearInterval(watchdog);
    }
    for (const shard of this.heldShards()) await this.handBack(shard);
    await this.delete(this.memberName());
  }

  /** One round: read the set, renew, then act on the plan. */
  async round(): Promise<ShardPlan> {
    await this.observe();
    await this.renewAll();
    const plan = planShards({
      identity: this.options.identity,
      shards: this.options.shards,
      members: this.liveMembers(),
      holders: this.holders(),
    });
    for (const shard of plan.handBack) await this.handBack(shard);
    for (const shard of plan.campaign) await this.campaign(shard);
    await this.collectDeadMembers();
    return plan;
  }

  private shardName(shard: number): string {
    return `${this.options.setName}-shard-${shard}`;
  }

  private memberName(): string {
    return `${this.options.setName}-member-${this.options.identity}`;
  }

  private labelsOf(name: string): Record<string, string> {
    const role = name.startsWith(`${this.options.setName}-member-`) ? 'member' : 'shard';
    return { [SHARD_SET_LABEL]: this.options.setName, [ROLE_LABEL]: role };
  }

  private async observe(): Promise<void> {
    const list = await this.options.api.listNamespacedLease({
      namespace: this.options.namespace,
      labelSelector: `${SHARD_SET_LABEL}=${this.options.setName}`,
    });
    const now = this.monotonicNow();
    const listed = new Set(list.items.map((lease) => lease.metadata?.name ?? ''));
    for (const name of this.seen.keys()) if (!listed.has(name)) this.seen.delete(name);
    for (const lease of list.items) {
      const name = lease.metadata?.name ?? '';
      const record = recordFromLease(lease);
      const before = this.seen.get(name);
      const changedAt = before && sameRecord(before.record, record) ? before.changedAt : now;
      this.seen.set(name, { record, resourceVersion: lease.metadata?.resourceVersion ?? '', changedAt });
    }
  }

  /** The holder of a Lease as we see it: undefined when free or expired by our clock. */
  private holderOf(name: string): string | undefined {
    const seen = this.seen.get(name);
    if (!seen || seen.record.holderIdentity === '') return undefined;
    const expired = seen.changedAt + seen.record.leaseDurationSeconds * 1000 <= this.monotonicNow();
    return expired && seen.record.holderIdentity !== this.options.identity
      ? undefined
      : seen.record.holderIdentity;
  }

  /** Deletes the member Leases of replicas gone for long (see the file comment). */
  private async collectDeadMembers(): Promise<void> {
    const prefix = `${this.options.setName}-member-`;
    const now = this.monotonicNow();
    for (const [name, seen] of this.seen) {
      if (!name.startsWith(prefix) || name === this.memberName()) continue;
      const gcAt = seen.changedAt + MEMBER_LEASE_GC_DURATIONS * seen.record.leaseDurationSeconds * 1000;
      if (gcAt <= now) await this.delete(name);
    }
  }

  private async delete(name: string): Promise<void> {
    try {
      await this.options.api.deleteNamespacedLease({ name, namespace: this.options.namespace });
    } catch (err) {
      this.log.debug({ err, lease: name }, 'could not delete lease');
    }
    this.seen.delete(name);
  }

  private liveMembers(): string[] {
    const prefix = `${this.options.setName}-member-`;
    return [...this.seen.keys()]
      .filter((name) => name.startsWith(prefix))
      .flatMap((name) => this.holderOf(name) ?? []);
  }

  private holders(): Map<number, string | undefined> {
    return new Map(
      Array.from({ length: this.options.shards }, (_, shard) => [
        shard,
        this.holderOf(this.shardName(shard)),
      ]),
    );
  }

  /** The member Lease and every held shard, side by side: one slow write delays no other Lease. */
  private async renewAll(): Promise<void> {
    await Promise.all([
      this.write(this.memberName(), this.options.identity),
      ...this.heldShards().map((shard) => this.renew(shard)),
    ]);
  }

  /**
   * Renews a held shard. The write may take until the renew deadline (as
   * client-go's renewal may), not just a retry period: on a loaded API
   * server a renewal slower than 2 s is still in time. It counts from when
   * it was sent (never later than the API server stored it), and a shard
   * lost meanwhile (onLost fired) stays lost.
   */
  private async renew(shard: number): Promise<void> {
    const sentAt = this.monotonicNow();
    const renewedAt = this.held.get(shard) ?? sentAt;
    const boundMs = Math.max(this.retryPeriodMs, this.renewDeadlineMs - (sentAt - renewedAt));
    if ((await this.write(this.shardName(shard), this.options.identity, boundMs)) && this.held.has(shard))
      this.held.set(shard, sentAt);
    this.dropExpired();
  }

  private async campaign(shard: number): Promise<void> {
    if (!(await this.write(this.shardName(shard), this.options.identity))) return;
    this.held.set(shard, this.monotonicNow());
    this.log.info({ shard }, 'shard acquired');
    this.options.onAcquired(shard);
  }

  private async handBack(shard: number): Promise<void> {
    if (!this.held.has(shard)) return;
    await this.renewingMeanwhile(() => this.options.drain(shard));
    // Work stops before the Lease is freed: no other replica may start while ours could still write.
    this.held.delete(shard);
    this.options.onReleased?.(shard);
    const name = this.shardName(shard);
    const seen = this.seen.get(name);
    if (seen) await this.replace(name, releaseRecord(seen.record, this.now()), seen.resourceVersion);
    this.log.info({ shard }, 'shard handed back');
  }

  /**
   * Runs `work` (a drain, which lasts as long as the shard's work in flight)
   * while the member Lease and every held shard, the draining one too, are
   * renewed every retryPeriod as the round would: a drain longer than the
   * renew deadline must not lose the shards this replica keeps (a replica
   * that took every shard at start and then handed two back lost the third
   * and exited). The renewals end before `work`'s caller writes a Lease again.
   */
  private async renewingMeanwhile(work: () => Promise<void>): Promise<void> {
    let renewals = Promise.resolve();
    const renewAll = () => this.renewAll();
    const timer = setInterval(() => {
      renewals = renewals.then(renewAll, renewAll);
    }, this.retryPeriodMs);
    try {
      await work();
    } finally {
      clearInterval(timer);
      await renewals.catch((err: unknown) => this.log.warn({ err }, 'shard lease renewal failed'));
    }
  }

  /** Shards not renewed within renewDeadline: lost, before anyone else may take them. */
  private dropExpired(): void {
    const now = this.monotonicNow();
    for (const [shard, renewedAt] of this.held) {
      if (now - renewedAt < this.renewDeadlineMs) continue;
      this.held.delete(shard);
      this.log.error({ shard }, 'shard lease not renewed in time; its work stops');
      this.options.onLost(shard);
    }
  }

  /** Acquires or renews the Lease `name` for `identity` when decide() allows it; true when written. */
  private async write(name: string, identity: string, boundMs = this.retryPeriodMs): Promise<boolean> {
    const seen = this.seen.get(name);
    const decision = decide({
      current: seen?.record,
      observedAt: seen?.changedAt ?? 0,
      now: this.monotonicNow(),
      wallNow: this.now(),
      identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
    });
    if (decision.action === 'wait') return false;
    return seen
      ? this.replace(name, decision.record, seen.resourceVersion, boundMs)
      : this.create(name, decision.record, boundMs);
  }

  private async create(name: string, record: LeaderElectionRecord, boundMs: number): Promise<boolean> {
    return this.stored(name, boundMs, () =>
      this.options.api.createNamespacedLease({
        namespace: this.options.namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, labels: this.labelsOf(name) },
          spec: leaseSpecFromRecord(record),
        },
      }),
    );
  }

  private async replace(
    name: string,
    record: LeaderElectionRecord,
    resourceVersion: string,
    boundMs = this.retryPeriodMs,
  ): Promise<boolean> {
    return this.stored(name, boundMs, () =>
      this.options.api.replaceNamespacedLease({
        name,
        namespace: this.options.namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, resourceVersion, labels: this.labelsOf(name) },
          spec: leaseSpecFromRecord(record),
        },
      }),
    );
  }

  /**
   * Runs one write, bounded by `boundMs`; records what was stored. A 409
   * (changed, or created by another first) is the normal race. A write
   * that outlasts its bound counts as failed; the next round's list shows
   * what it did.
   */
  private async stored(name: string, boundMs: number, write: () => Promise<V1Lease>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), boundMs);
    });
    try {
      const lease = await Promise.race([write(), timeout]);
      if (!lease) return false;
      this.seen.set(name, {
        record: recordFromLease(lease),
        resourceVersion: lease.metadata?.resourceVersion ?? '',
        changedAt: this.monotonicNow(),
      });
      return true;
    } catch (err) {
      if (isConflict(err)) this.log.debug({ err, lease: name }, 'lease changed while writing it');
      else this.log.warn({ err, lease: name }, 'failed to write lease');
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** dockyard_shards_held: how many shards this replica holds now (read at scrape time). */
export function createShardMetrics(registry: Registry, heldShards: () => number): void {
  new Gauge({
    name: 'dockyard_shards_held',
    help: 'DockerHost shards (--shards) this replica holds now.',
    registers: [registry],
    collect() {
      this.set(heldShards());
    },
  });
}
