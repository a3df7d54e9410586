import { ApiException } from '@kubernetes/client-node';
import { EventReason, Reason } from '../crds/reasons.js';
import type { Logger } from 'pino';
import { ANNOTATIONS, OWNER_LABELS } from '../crds/kit.js';
import type { DockerHost } from '../crds/dockerhost.js';
import { errorMessage, isAgentDisconnectedError } from '../docker/errors.js';
import { isUnresponsiveHostError } from '../docker/responsiveness.js';
import { formatTime, getCondition, isTrue } from '../runtime/conditions.js';
import type { ReconcileContext, Reconciler, ReconcileResult, Request } from '../runtime/controller.js';
import { withRelated, type EventRecorder } from '../runtime/events.js';
import {
  addFinalizerVersion,
  hasFinalizer,
  removeFinalizer,
  type FinalizerPatchApi,
} from '../runtime/finalizers.js';
import { jsonEqual } from '../runtime/json-merge.js';
import { requestKey } from '../runtime/object-key.js';
import { patchStatus, type StatusPatchApi } from '../runtime/status-patch.js';
import type { HostRuntime } from '../docker/host-runtime.js';
import { managedMetricsNoop as noopManagedMetrics, type ManagedMetrics } from './managed-metrics.js';
import type { HostSlots } from './host-lanes.js';
import { NotOwnedError } from '../runtime/shard-gate.js';
import { carriedOutcome, participates, resultOf, type HostOwnership } from './host-shards.js';
import { mapLimit } from './map-limit.js';
import { admissionLabels, type NamespaceLabels } from './namespace-labels.js';
import { decideRemovals, placementCandidates, resolvePlacement, type Placement } from './placement.js';
import {
  claimOf,
  dropClaims,
  resolveAdoption,
  type AdoptionRequest,
  type AdoptionResult,
} from './adoption.js';
import { readOwnerLive, type OwnerListApi } from './live-owner.js';
import { recordRelease, type HostStatusApi } from './released-owners.js';
import { summarize } from './summary.js';
import { warmupOutcome } from './connection-warmup.js';
import type { EventCoverage } from './event-coverage.js';
import type {
  DeletionPolicy,
  FinalizeOutcome,
  HostContext,
  HostOutcome,
  HostStatusEntry,
  ManagedKind,
  ManagedObject,
  ManagedStatus,
} from './types.js';

export const FINALIZER = 'dockyard.io/cleanup';

export interface ObjectCache<T> {
  getByName(name: string, namespace?: string): T | undefined;
}

export interface ManagedReconcilerDeps<T extends ManagedObject> {
  kind: ManagedKind<T>;
  objects: ObjectCache<T>;
  hosts: { list(): DockerHost[]; getByName(name: string): DockerHost | undefined };
  namespaces: Pick<NamespaceLabels, 'get'>;
  hostRuntime: Pick<HostRuntime, 'connection'> & Partial<Pick<HostRuntime, 'followsEvents'>>;
  status: StatusPatchApi;
  finalizers: FinalizerPatchApi;
  events: EventRecorder;
  metrics?: ManagedMetrics;
  fieldManager: string;
  /** Re-verify converged objects this often even without events (drift safety net). */
  pollIntervalMs: number;
  /** Hosts worked on in parallel for one object. */
  hostConcurrency?: number;
  /**
   * Bounds this kind's work on each host over all its objects at once
   * (--max-concurrent-reconciles-per-host); one per kind (host-lanes.ts).
   */
  hostSlots?: HostSlots;
  /** --shards: only the hosts whose shard this replica holds are worked on (host-shards.ts). */
  ownership?: HostOwnership;
  now?: () => Date;
  /** --cluster-id, handed to the kinds for their owner labels. */
  clusterId?: string;
  /**
   * Where a release under deletionPolicy Orphan is recorded (the DockerHost's
   * status.releasedOwners) before the object lets go of the host. Always set
   * outside unit tests: without it the orphan sweep only has the create-time label.
   */
  releases?: HostStatusApi;
  /**
   * Explicit adoption (spec.adoptionPolicy): live reads of owners and the
   * host's status.adoptedObjects. Without it nothing is ever adopted.
   */
  adoption?: {
    api: HostStatusApi & OwnerListApi;
    /** Dev mode only: take back objects a previous environment labelled for the same resource. */
    adoptPrevious: boolean;
  };
  /** Docker events held while an object's reconcile runs, and the looks that saw them (event-coverage.ts). */
  eventCoverage?: EventCoverage;
}

/** Look again this soon while something is in progress or failing. */
const PROGRESS_REQUEUE_MS = 2_000;
const FAILURE_REQUEUE_MS = 5_000;
/** Longest wait between attempts on a host whose Docker calls keep failing. */
const MAX_HOST_BACKOFF_MS = 300_000;

/**
 * crossplane-runtime's managed reconciler, across several Docker hosts:
 * get → deleting? (finalize on every host, then drop the finalizer) → add
 * finalizer → resolve placement → per placed host in parallel: connect →
 * kind.reconcileHost (observe → create / update / nothing) → leave the hosts
 * its own placement moved away from or that drain, once it is Ready where it
 * belongs now → status with observedGeneration → requeue after the poll
 * interval. A failing host never blocks the others. A host that stops
 * matching because its labels, allowedNamespaces or the namespace's labels
 * changed keeps the object (IgnoredDuringExecution, PlacementMatched=False).
 */
export class ManagedReconciler<T extends ManagedObject> implements Reconciler {
  private readonly now: () => Date;
  /**
   * Per object and host: consecutive Docker errors, when to try again, and the
   * generation that failed (a new generation is a fix to try at once).
   */
  private readonly backoff = new Map<string, HostBackoff>();
  /** Monotonic start, for the connection warm-up after a restart (connection-warmup.ts). */
  private readonly startedAt = performance.now();

  constructor(private readonly deps: ManagedReconcilerDeps<T>) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(ctx: ReconcileContext, req: Request): Promise<ReconcileResult> {
    const coverage = this.deps.eventCoverage;
    if (!coverage) return this.reconcileObject(ctx, req);
    const key = requestKey(req);
    coverage.begin(key);
    try {
      return await this.reconcileObject(ctx, req);
    } finally {
      coverage.end(key);
    }
  }

  private async reconcileObject(ctx: ReconcileContext, req: Request): Promise<ReconcileResult> {
    const obj = this.deps.objects.getByName(req.name, req.namespace);
    if (!obj) {
      // Gone: its backoff entries would otherwise stay for the process's life.
      this.forgetBackoff(`${req.namespace ?? ''}/${req.name}`);
      return {};
    }
    const namespace = obj.metadata.namespace ?? req.namespace ?? '';
    const previous = obj.status?.hosts ?? [];
    if (obj.metadata.deletionTimestamp) return this.finalize(ctx, obj, namespace, previous);
    const placement = await this.placementOf(obj, namespace, previous);
    if (
      !this.participates(obj, namespace, [
        ...placement.placed.map((h) => h.metadata.name),
        ...previous.map((p) => p.name),
      ])
    )
      return {};
    const written = await this.ensureFinalizer(obj);
    const now = this.now();
    const paused = obj.metadata.annotations?.[ANNOTATIONS.paused] === 'true';

    const carried = new Set<string>();
    const outcomes = await mapLimit(placement.placed, this.deps.hostConcurrency ?? 8, async (host) => ({
      host: host.metadata.name,
      outcome: await this.onOwnedHost(host.metadata.name, {
        entry: previous.find((p) => p.name === host.metadata.name),
        carried,
        work: () =>
          this.withHostSlot(host.metadata.name, () =>
            this.reconcileOn(ctx, {
              obj,
              namespace,
              host,
              previous: previous.find((p) => p.name === host.metadata.name),
              paused,
              now,
            }),
          ),
      }),
    }));
    const pendingRemoval = await this.leaveHosts(ctx, obj, {
      namespace,
      placement,
      outcomes,
      previous,
      paused,
      now,
    });

    const sharded = this.deps.ownership !== undefined;
    const status = statusOf({ obj, placement, outcomes, pendingRemoval, previous, now, sharded });
    await this.writeStatus(obj, { namespace, status, written });
    const own = (host: string) => !carried.has(host) && (this.deps.ownership?.owns(host) ?? true);
    const ownOutcomes = outcomes.filter((o) => own(o.host));
    const ownRemovals = pendingRemoval.filter((p) => own(p.name));
    // Hosts of other replicas are theirs to look at again; with none of ours,
    // the home replica only looks again at the poll interval.
    if (sharded && ownOutcomes.length === 0 && ownRemovals.length === 0)
      return { requeueAfterMs: this.deps.pollIntervalMs };
    return { requeueAfterMs: requeueAfterMs(ownOutcomes, ownRemovals, this.deps.pollIntervalMs) };
  }

  /** Whether this replica reconciles the object (always, unless sharded: host-shards.ts). */
  private participates(obj: T, namespace: string, hostNames: string[]): boolean {
    const ownership = this.deps.ownership;
    if (!ownership) return true;
    return participates(ownership, { objectKey: `${namespace}/${obj.metadata.name}`, hostNames });
  }

  /**
   * Runs `work` when this replica works on `host`; otherwise the host's entry
   * as the replica holding it left it (and `host` joins `carried`).
   */
  private async onOwnedHost(
    host: string,
    o: { entry: HostStatusEntry | undefined; carried: Set<string>; work: () => Promise<HostOutcome> },
  ): Promise<HostOutcome> {
    const ownership = this.deps.ownership;
    if (!ownership) return o.work();
    try {
      if (ownership.owns(host)) return await ownership.run(host, o.work);
    } catch (err) {
      if (!(err instanceof NotOwnedError)) throw err;
    }
    o.carried.add(host);
    return carriedOutcome(host, o.entry);
  }

  /**
   * Adds the finalizer when missing; the resourceVersion it wrote, if it did.
   * It is written under the cached resourceVersion: when that succeeds the
   * cache was current, and our own write is the only newer version, so this
   * reconcile's status write needs no lock of its own (sharded: locked to the
   * version our write made, as another replica may write the status too).
   */
  private async ensureFinalizer(obj: T): Promise<string | undefined> {
    if (hasFinalizer(obj, FINALIZER)) return undefined;
    return addFinalizerVersion(this.deps.finalizers, {
      resource: this.deps.kind.resource,
      object: obj,
      finalizer: FINALIZER,
      fieldManager: this.deps.fieldManager,
    });
  }

  /** Runs `work` on `host` as work of its shard (a hand-back waits for it), when sharded. */
  private ownedWork<R>(host: string, work: () => Promise<R>): Promise<R> {
    return this.deps.ownership ? this.deps.ownership.run(host, work) : work();
  }

  /** Runs Docker work on `host` within its per-host bound, when there is one. */
  private withHostSlot<R>(host: string, work: () => Promise<R>): Promise<R> {
    return this.deps.hostSlots ? this.deps.hostSlots.run(host, work) : work();
  }

  /** Where the object belongs now, reading the namespace's labels only when a host selects on them. */
  private async placementOf(obj: T, namespace: string, previous: HostStatusEntry[]): Promise<Placement> {
    const hosts = placementCandidates(obj.spec, previous, this.deps.hosts);
    const nsLabels = await admissionLabels({ namespaces: this.deps.namespaces, namespace, hosts });
    // status.hosts carries the placement hash each host was selected under, so a
    // host that no longer matches tells "my spec changed" from "the world changed".
    return resolvePlacement({
      spec: obj.spec,
      namespace,
      namespaceLabels: nsLabels,
      hosts,
      previouslyPlaced: previous,
    });
  }

  private async writeStatus(
    obj: T,
    w: { namespace: string; status: ManagedStatus; written: string | undefined },
  ): Promise<void> {
    await patchStatus(this.deps.status, {
      ref: { ...this.deps.kind.resource, namespace: w.namespace, name: obj.metadata.name },
      current: obj.status,
      desired: w.status,
      fieldManager: this.deps.fieldManager,
      ...this.statusLock(obj, w.written),
    });
  }

  /**
   * status.hosts is the only record of where the object was placed: never
   * overwrite a newer one with what a stale cache computed. Unsharded, our
   * own finalizer write (`written`) proves the cache was current; sharded,
   * another replica may write in between, so the lock is that write's version.
   */
  private statusLock(obj: T, written: string | undefined): { resourceVersion?: string } {
    if (this.deps.ownership) {
      const version = written || obj.metadata.resourceVersion;
      return version ? { resourceVersion: version } : {};
    }
    return obj.metadata.resourceVersion && written === undefined
      ? { resourceVersion: obj.metadata.resourceVersion }
      : {};
  }

  /** Drops every host's backoff entry of one object (`namespace/name`). */
  private forgetBackoff(objectKey: string): void {
    for (const key of this.backoff.keys()) if (key.startsWith(`${objectKey}@`)) this.backoff.delete(key);
  }

  /** How many objects × hosts are backing off now (for tests and debugging). */
  backoffEntries(): number {
    return this.backoff.size;
  }

  /**
   * Hosts the object must leave (its own placement moved away, or the host
   * drains): make before break, then per deletionPolicy. Returns the entries
   * kept until that is done. Nothing is removed while paused.
   */
  private async leaveHosts(
    ctx: ReconcileContext,
    obj: T,
    a: {
      namespace: string;
      placement: Placement;
      outcomes: ReadonlyArray<{ host: string; outcome: HostOutcome }>;
      previous: HostStatusEntry[];
      paused: boolean;
      now: Date;
    },
  ): Promise<HostStatusEntry[]> {
    const policy = obj.spec.deletionPolicy ?? this.deps.kind.defaultDeletionPolicy;
    const decision = decideRemovals(
      a.placement.removed,
      a.outcomes.map((o) => ({ host: o.host, ready: o.outcome.ready })),
      a.placement.kept,
    );
    const pending: HostStatusEntry[] = [];
    const hold = (host: string, message: string): void => {
      const entry = a.previous.find((p) => p.name === host);
      pending.push({ ...(entry ?? { name: host }), phase: 'Removing', message });
    };
    for (const w of decision.waiting) hold(w.host, w.message);
    for (const r of decision.due) {
      const entry = a.previous.find((p) => p.name === r.host);
      if (this.deps.ownership && !this.deps.ownership.owns(r.host)) {
        // Another replica's host: its entry stays as that replica left it.
        if (entry) pending.push(entry);
        continue;
      }
      const result = a.paused
        ? { done: false, message: 'paused' }
        : await this.withHostSlot(r.host, () =>
            this.ownedWork(r.host, () =>
              this.finalizeOn(ctx, {
                obj,
                namespace: a.namespace,
                hostName: r.host,
                entry,
                policy,
                now: a.now,
              }),
            ),
          );
      if (!result.done) {
        hold(r.host, result.message ?? `removing (${r.reason})`);
        continue;
      }
      const what = policy === 'Delete' ? 'removed from' : 'left unmanaged on (deletionPolicy Orphan)';
      this.deps.events.event(
        obj,
        'Normal',
        r.reason === Reason.HostDraining ? EventReason.Drained : EventReason.Moved,
        'Remove',
        `${what} DockerHost ${r.host} (${r.reason})`,
      );
    }
    return pending;
  }

  /** The kind's view of one host, or why there is none yet (the host is not Ready or not connected). */
  private hostContext(ctx: ReconcileContext, on: OnHost<T>): HostContext<T> | string {
    const { obj, namespace, host, previous, paused, now } = on;
    if (!isTrue(host.status?.conditions, 'Ready')) return `DockerHost ${host.metadata.name} is not Ready`;
    const conn = this.deps.hostRuntime.connection(host.metadata.name);
    if (!conn) return `no connection to DockerHost ${host.metadata.name} yet`;
    return {
      obj,
      namespace,
      host,
      conn,
      previous,
      paused,
      logger: ctx.logger.child({ host: host.metadata.name }) as Logger,
      // Every Event of a per-host step names the host it happened on.
      events: withRelated(this.deps.events, host),
      metrics: this.deps.metrics ?? noopManagedMetrics,
      now,
      signal: ctx.signal,
      eventsFollowed: this.deps.hostRuntime.followsEvents?.(host.metadata.name) ?? false,
      ...(this.deps.clusterId ? { clusterId: this.deps.clusterId } : {}),
      adopt: (req) => this.adopt({ obj, namespace, host, paused }, req),
    };
  }

  /** Whose the object a kind found is, taking it over when the resource asked (see adoption.ts). */
  private adopt(
    on: { obj: T; namespace: string; host: DockerHost; paused: boolean },
    req: AdoptionRequest,
  ): Promise<AdoptionResult> {
    const { obj, namespace, host } = on;
    const owner = {
      kind: this.deps.kind.kind,
      namespace,
      name: obj.metadata.name,
      uid: obj.metadata.uid ?? '',
    };
    const adoption = this.deps.adoption;
    // Decided from the cache where no read can change the answer: our own
    // claim (only we write it), or a resource that did not ask (or is paused).
    if (claimOf(host, req.type, req.dockerName)?.uid === owner.uid)
      return Promise.resolve({ owns: 'ours', adopted: 'before' });
    if (!adoption || on.paused || (req.policy === 'Never' && !adoption.adoptPrevious))
      return Promise.resolve({
        owns: req.labels[OWNER_LABELS.uid] === undefined ? 'foreign' : 'otherOwner',
        refusal: 'notAsked',
      });
    return resolveAdoption(
      {
        api: adoption.api,
        fieldManager: this.deps.fieldManager,
        liveOwner: (ns, name) => readOwnerLive(adoption.api, this.deps.kind.resource, ns, name),
        clusterId: this.deps.clusterId,
        adoptPrevious: adoption.adoptPrevious,
        now: this.now,
      },
      host.metadata.name,
      owner,
      req,
    );
  }

  private async reconcileOn(ctx: ReconcileContext, on: OnHost<T>): Promise<HostOutcome> {
    const { obj, namespace, host, previous, now } = on;
    const hc = this.hostContext(ctx, on);
    const name = host.metadata.name;
    if (typeof hc === 'string') return this.notConnectedOutcome(on, hc);
    const backoffKey = `${namespace}/${obj.metadata.name}@${name}`;
    let backoff = this.backoff.get(backoffKey);
    // A spec change may be the fix for the failure: act on it at once.
    if (backoff && backoff.generation !== obj.metadata.generation) {
      // A new generation is a fix to try at once, counted afresh if it fails too.
      this.backoff.delete(backoffKey);
      backoff = undefined;
    } else if (backoff && backoff.until > now.getTime()) {
      // Still backing off after a Docker error: events (often caused by our own
      // failed attempt) must not turn into a retry loop against the daemon.
      const waitMs = backoff.until - now.getTime();
      return {
        entry: { ...(previous ?? { phase: 'Pending' }), name, message: backoff.message },
        ready: false,
        failure: {
          reason: Reason.DockerError,
          message: `${backoff.message} (retrying in ${Math.ceil(waitMs / 1000)} s)`,
        },
        requeueAfterMs: waitMs,
      };
    }
    const looks = this.lookRecorder(hc);
    try {
      const outcome = await this.deps.kind.reconcileHost(hc);
      this.backoff.delete(backoffKey);
      looks.commit(requestKey({ namespace, name: obj.metadata.name }), name);
      return outcome;
    } catch (err) {
      return this.failedOutcome(ctx, on, { err, backoffKey, backoff });
    }
  }

  /**
   * Gives the kind `coverage`; the looks it marked and the calls it made
   * count for the Docker events held meanwhile only once its outcome on the
   * host is in (a throw commits none, so those events wake the object again).
   */
  private lookRecorder(hc: HostContext<T>): { commit: (key: string, host: string) => void } {
    const coverage = this.deps.eventCoverage;
    if (!coverage) return { commit: () => undefined };
    const { looks, now } = coverage.recorder();
    hc.coverage = {
      beginLook: () => {
        const from = now();
        return () => void looks.looks.push(from);
      },
      acted: (id, action) => void looks.calls.push({ id, action, at: now() }),
    };
    return { commit: (key, host) => coverage.commit(key, host, looks) };
  }

  /**
   * The host is not Ready or not connected yet: right after a restart, a host
   * the object was Ready on keeps its entry while connections warm up
   * (connection-warmup.ts); otherwise HostNotReady.
   */
  private notConnectedOutcome(on: OnHost<T>, message: string): HostOutcome {
    const { obj, host, previous } = on;
    if (getCondition(host.status?.conditions, 'Ready')?.reason === Reason.AgentDisconnected)
      return agentDisconnectedOutcome(host, previous, host.status?.agent?.lastSeenTime);
    const warming =
      isTrue(host.status?.conditions, 'Ready') &&
      warmupOutcome({
        previous,
        objectReady:
          isTrue(obj.status?.conditions, 'Ready') &&
          obj.status?.observedGeneration === obj.metadata.generation,
        sinceStartMs: performance.now() - this.startedAt,
      });
    if (warming) return warming;
    return {
      entry: { ...(previous ?? {}), name: host.metadata.name, phase: Reason.HostNotReady, message },
      ready: false,
      failure: { reason: Reason.HostNotReady, message },
    };
  }

  /** The kind's reconcileHost threw: a hung daemon is HostNotReady, any other error backs off. */
  private failedOutcome(
    ctx: ReconcileContext,
    on: OnHost<T>,
    f: { err: unknown; backoffKey: string; backoff: HostBackoff | undefined },
  ): HostOutcome {
    const { obj, previous, now } = on;
    const name = on.host.metadata.name;
    const message = errorMessage(f.err);
    if (isAgentDisconnectedError(f.err)) {
      // The tunnel dropped before the host's heartbeat said so: the same as a
      // host already marked AgentDisconnected (the heartbeat follows at once),
      // but without a time: while connected, the host's recorded last-seen
      // time is only refreshed now and then, so it is not when the agent went.
      return {
        ...agentDisconnectedOutcome(on.host, previous, undefined),
        requeueAfterMs: FAILURE_REQUEUE_MS,
      };
    }
    if (isUnresponsiveHostError(f.err)) {
      // The daemon is hung, not this object's fault: report it like a host
      // that is not Ready and look again soon, without growing this
      // object's backoff (it would delay recovery long after the host is back).
      return {
        entry: { ...(previous ?? {}), name, phase: Reason.HostNotReady, message },
        ready: false,
        failure: { reason: Reason.HostNotReady, message },
        requeueAfterMs: FAILURE_REQUEUE_MS,
      };
    }
    // One host's Docker failure is reported for that host and retried with
    // backoff; it never blocks the others.
    const failures = (f.backoff?.failures ?? 0) + 1;
    const delay = Math.min(MAX_HOST_BACKOFF_MS, 1000 * 2 ** (failures - 1));
    this.backoff.set(f.backoffKey, {
      failures,
      until: now.getTime() + delay,
      message,
      generation: obj.metadata.generation,
    });
    ctx.logger.warn({ host: name, err: message, retryInMs: delay }, 'reconcile on host failed');
    return {
      entry: { ...(previous ?? { phase: 'Pending' }), name, message },
      ready: false,
      failure: { reason: Reason.DockerError, message },
      requeueAfterMs: delay,
    };
  }

  private async finalizeOn(
    ctx: ReconcileContext,
    off: {
      obj: T;
      namespace: string;
      hostName: string;
      /** The host's entry in status.hosts, if any. */
      entry: HostStatusEntry | undefined;
      policy: DeletionPolicy;
      now: Date;
    },
  ): Promise<FinalizeOutcome> {
    const { obj, namespace, hostName, entry, policy, now } = off;
    const host = this.deps.hosts.getByName(hostName);
    // The DockerHost itself is gone: nothing is left to clean up through. One that is
    // being deleted is still there (its finalizer waits for objects placed on it):
    // clean up through it, or a Delete-policy object would be left unmanaged.
    if (!host) return { done: true };
    const hc = this.hostContext(ctx, { obj, namespace, host, previous: entry, paused: false, now });
    if (typeof hc === 'string')
      return { done: false, message: `${hc}: waiting to ${policy === 'Delete' ? 'delete' : 'release'} here` };
    try {
      const outcome = await this.deps.kind.finalizeHost(hc, policy);
      // Released: say so where the orphan sweep looks, before status or the
      // finalizer lets go of this host (the object's labels may still say Delete).
      if (outcome.done && policy === 'Orphan') await this.recordRelease(off);
      if (outcome.done) await this.dropClaims(obj, host);
      return outcome;
    } catch (err) {
      return { done: false, message: errorMessage(err) };
    }
  }

  /** Lets go of what the object adopted on the host (the cached host says whether it holds any claim). */
  private async dropClaims(obj: T, host: DockerHost): Promise<void> {
    const uid = obj.metadata.uid ?? '';
    if (!this.deps.adoption || !host.status?.adoptedObjects?.some((a) => a.uid === uid)) return;
    await dropClaims(
      { api: this.deps.adoption.api, fieldManager: this.deps.fieldManager },
      host.metadata.name,
      uid,
    );
  }

  private async recordRelease(off: {
    obj: T;
    namespace: string;
    hostName: string;
    now: Date;
  }): Promise<void> {
    const { obj, namespace, hostName, now } = off;
    // Images carry no owner labels; the sweep never looks at them.
    if (!this.deps.releases || this.deps.kind.dockerEventType === 'image') return;
    await recordRelease(
      this.deps.releases,
      hostName,
      { uid: obj.metadata.uid ?? '', kind: this.deps.kind.kind, namespace, name: obj.metadata.name },
      { now, fieldManager: this.deps.fieldManager },
    );
  }

  private async finalize(
    ctx: ReconcileContext,
    obj: T,
    namespace: string,
    previous: HostStatusEntry[],
  ): Promise<ReconcileResult> {
    if (!hasFinalizer(obj, FINALIZER)) return {};
    const now = this.now();
    const policy = obj.spec.deletionPolicy ?? this.deps.kind.defaultDeletionPolicy;
    // Every host it may be on: those in status and those placement names now
    // (a crash can lose the status write after a create), refused ones too: a
    // host cordoned, drained or no longer admitting the namespace since then
    // (whose labels are not even read here) may still hold the object.
    const placement = resolvePlacement({
      spec: obj.spec,
      namespace,
      namespaceLabels: {},
      hosts: placementCandidates(obj.spec, previous, this.deps.hosts),
      previouslyPlaced: previous.map((h) => h.name),
    });
    const names = [
      ...new Set([
        ...previous.map((p) => p.name),
        ...placement.placed.map((h) => h.metadata.name),
        ...placement.refused.map((r) => r.host),
      ]),
    ].sort();
    if (!this.participates(obj, namespace, names)) return {};
    const remaining: HostStatusEntry[] = [];
    for (const hostName of names) {
      const entry = previous.find((p) => p.name === hostName);
      if (this.deps.ownership && !this.deps.ownership.owns(hostName)) {
        // Another replica's host: it finalizes it; one named by placement only
        // is that replica's to find (waiting for it here could wait forever).
        if (entry) remaining.push(entry);
        continue;
      }
      const result = await this.withHostSlot(hostName, () =>
        this.ownedWork(hostName, () =>
          this.finalizeOn(ctx, { obj, namespace, hostName, entry, policy, now }),
        ),
      );
      if (!result.done)
        remaining.push({
          ...(entry ?? { name: hostName }),
          phase: 'Deleting',
          ...(result.message ? { message: result.message } : {}),
        });
    }
    if (remaining.length === 0) {
      // A stale cache can finalize twice; the object being gone already is success.
      await ignoreGone(
        removeFinalizer(this.deps.finalizers, {
          resource: this.deps.kind.resource,
          object: obj,
          finalizer: FINALIZER,
          fieldManager: this.deps.fieldManager,
        }),
      );
      this.deps.events.event(
        obj,
        'Normal',
        policy === 'Delete' ? EventReason.Deleted : EventReason.Orphaned,
        'Delete',
        policy === 'Delete'
          ? `removed from ${names.length} host(s)`
          : `left in place on ${names.length} host(s) (deletionPolicy Orphan)`,
      );
      return {};
    }
    const status: ManagedStatus = { ...(obj.status ?? {}), phase: 'Deleting', hosts: remaining };
    await ignoreGone(
      patchStatus(this.deps.status, {
        ref: { ...this.deps.kind.resource, namespace, name: obj.metadata.name },
        current: obj.status,
        desired: status,
        fieldManager: this.deps.fieldManager,
        // Sharded, other replicas remove their hosts' entries meanwhile.
        ...(this.deps.ownership && obj.metadata.resourceVersion
          ? { resourceVersion: obj.metadata.resourceVersion }
          : {}),
      }),
    );
    return { requeueAfterMs: FAILURE_REQUEUE_MS };
  }
}

/** One object on one host in one reconcile. */
interface OnHost<T> {
  obj: T;
  namespace: string;
  host: DockerHost;
  /** The host's entry in status.hosts before this reconcile. */
  previous: HostStatusEntry | undefined;
  paused: boolean;
  now: Date;
}

/** The status a reconcile writes: the summary, and every placed host's entry plus those still being left. */
function statusOf<T extends ManagedObject>(r: {
  obj: T;
  placement: Placement;
  outcomes: ReadonlyArray<{ host: string; outcome: HostOutcome }>;
  pendingRemoval: HostStatusEntry[];
  previous: HostStatusEntry[];
  now: Date;
  /** Entries record their outcome, and the summary is made from what they record (host-shards.ts). */
  sharded?: boolean;
}): ManagedStatus {
  const { obj, placement, pendingRemoval, previous, now } = r;
  const outcomes = r.sharded ? r.outcomes.map(withResult) : r.outcomes;
  const summary = summarize({
    outcomes: r.sharded ? outcomes.map(recorded) : outcomes,
    refused: placement.refused,
    pendingRemoval: pendingRemoval.map((p) => ({ host: p.name, message: p.message ?? 'removing' })),
    generation: obj.metadata.generation,
    previous: obj.status?.conditions,
    now,
    kept: placement.kept,
  });
  return {
    ...(obj.metadata.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {}),
    conditions: summary.conditions,
    hostsReady: summary.hostsReady,
    phase: summary.phase,
    hosts: [
      ...outcomes.map((o) =>
        stamp(
          { ...o.outcome.entry, placementHash: placement.placementHashes[o.host] ?? placement.hash },
          previous,
          now,
        ),
      ),
      ...pendingRemoval,
    ].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/**
 * A host's outcome as its entry records it: what every replica of a sharded
 * controller summarises, whoever worked on the host (host-shards.ts).
 */
function recorded(o: HostResultPair): HostResultPair {
  return { host: o.host, outcome: carriedOutcome(o.host, o.outcome.entry) };
}

type HostResultPair = { host: string; outcome: HostOutcome };

/** The outcome with its entry recording it (a carried entry records the same again). */
function withResult(o: HostResultPair): HostResultPair {
  return {
    host: o.host,
    outcome: { ...o.outcome, entry: { ...o.outcome.entry, result: resultOf(o.outcome) } },
  };
}

/**
 * When to look again: the soonest time a host asked for (work in progress, a
 * back-off), capped at the poll interval; otherwise the poll interval once
 * converged, sooner while failing or progressing.
 */
function requeueAfterMs(
  outcomes: ReadonlyArray<{ host: string; outcome: HostOutcome }>,
  pendingRemoval: readonly HostStatusEntry[],
  pollIntervalMs: number,
): number {
  const converged =
    outcomes.every((o) => o.outcome.ready) && pendingRemoval.length === 0 && outcomes.length > 0;
  const asked = outcomes.map((o) => o.outcome.requeueAfterMs).filter((ms): ms is number => ms !== undefined);
  const failing = outcomes.some((o) => o.outcome.failure);
  const base = converged ? pollIntervalMs : failing ? FAILURE_REQUEUE_MS : PROGRESS_REQUEUE_MS;
  // A host that asked for a time (work in progress, a back-off) decides; otherwise the defaults.
  return asked.length > 0 ? Math.min(pollIntervalMs, ...asked) : base;
}

interface HostBackoff {
  failures: number;
  until: number;
  message: string;
  generation: number | undefined;
}

/** Kubernetes 404 on our own object: it was deleted meanwhile, nothing left to do. */
async function ignoreGone(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 404)) throw err;
  }
}

/** Keeps lastUpdateTime stable unless the entry changed, so unchanged hosts cause no status write. */
function stamp(entry: HostStatusEntry, previous: HostStatusEntry[], now: Date): HostStatusEntry {
  const before = previous.find((p) => p.name === entry.name);
  const { lastUpdateTime: _ignored, ...rest } = entry;
  if (before?.lastUpdateTime) {
    const { lastUpdateTime, ...prevRest } = before;
    if (jsonEqual(prevRest, rest)) return { ...rest, lastUpdateTime };
  }
  return { ...rest, lastUpdateTime: formatTime(now) };
}

/** The generic mapping of a Docker event to its owner, from the owner labels containers carry. */
export function ownerKeyFromEvent(attributes: Record<string, string>, kind: string): string | undefined {
  if (attributes[OWNER_LABELS.kind] !== kind) return undefined;
  const ns = attributes[OWNER_LABELS.namespace];
  const name = attributes[OWNER_LABELS.name];
  return ns && name ? `${ns}/${name}` : undefined;
}

/**
 * An object on a host whose agent is disconnected: its last observed state may
 * no longer hold (the agent repairs drift on its own meanwhile), so it is
 * reported unknown since the agent was last seen, never as it was.
 */
function agentDisconnectedOutcome(
  host: DockerHost,
  previous: HostStatusEntry | undefined,
  since: string | undefined,
): HostOutcome {
  const message = since
    ? `the agent is disconnected: state unknown since ${since}`
    : 'the agent is disconnected: state unknown';
  return {
    entry: { ...(previous ?? {}), name: host.metadata.name, phase: Reason.AgentDisconnected, message },
    ready: false,
    unknown: { reason: Reason.AgentDisconnected, message },
  };
}
