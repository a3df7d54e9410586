import type { Logger } from 'pino';
import type { DockerHost } from '../crds/dockerhost.js';
import type { Reason } from '../crds/reasons.js';
import type { Condition, HostResult, KubeObject, MachineState } from '../crds/kit.js';
import type { HostConnection } from '../docker/connection-pool.js';
import type { DockerObjectType } from '../docker/event-stream.js';
import type { EventRecorder } from '../runtime/events.js';
import type { ManagedMetrics } from './managed-metrics.js';
import type { ResourceType } from '../runtime/object-ref.js';
import type { AdoptionRequest, AdoptionResult } from './adoption.js';
import type { PlacementSpec } from './placement.js';

export type DeletionPolicy = 'Delete' | 'Orphan';

/** The per-host entry every managed kind reports in status.hosts. */
export interface HostStatusEntry {
  name: string;
  phase: string;
  id?: string;
  message?: string;
  lastUpdateTime?: string;
  machine?: MachineState;
  /** The hash of the spec's placement fields this host was last selected under (see placementHash). */
  placementHash?: string;
  /** With --shards: the outcome, for the replicas holding the object's other hosts (host-shards.ts). */
  result?: HostResult;
  [field: string]: unknown;
}

export interface ManagedStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  hostsReady?: string;
  phase?: string;
  hosts?: HostStatusEntry[];
}

export type ManagedSpec = PlacementSpec & { deletionPolicy?: DeletionPolicy };

export type ManagedObject<Spec extends ManagedSpec = ManagedSpec> = KubeObject<string, Spec, ManagedStatus>;

/** Everything a kind needs to act on one host. */
export interface HostContext<T extends ManagedObject> {
  obj: T;
  namespace: string;
  host: DockerHost;
  conn: HostConnection;
  /** This host's entry from the last status, if any. */
  previous: HostStatusEntry | undefined;
  /** `dockyard.io/paused`: observe and report, change nothing in Docker. */
  paused: boolean;
  logger: Logger;
  events: EventRecorder;
  /** Drift repairs and other counters every kind reports. */
  metrics: ManagedMetrics;
  now: Date;
  signal: AbortSignal;
  /** This controller's --cluster-id, labelled on every Docker object it creates (absent in unit tests). */
  clusterId?: string;
  /**
   * Whose an existing Docker object of the resource's name is, when its
   * labels do not say it is ours: ours by an earlier adoption, adopted now
   * (spec.adoptionPolicy IfOrphaned and nobody else's), or refused and why.
   */
  adopt?: (req: AdoptionRequest) => Promise<AdoptionResult>;
  /**
   * The host's Docker event stream is connected: a change of the object
   * there wakes it. False or absent: only polls and re-looks find changes.
   */
  eventsFollowed?: boolean;
  /**
   * Docker events this reconcile has seen already (event-coverage.ts).
   * `beginLook()` right before looking at the host's Docker object, then
   * what it returns once the outcome rests on that look: events that arrived
   * before the look began wake the object no more. `acted(id, action)` once
   * an own Docker call returned ('create', 'start'): its event, whenever it
   * arrives, is covered by a look that began after. Absent in unit tests;
   * kinds that never call it are woken by every event.
   */
  coverage?: {
    beginLook: () => () => void;
    acted: (dockerId: string, action: string) => void;
  };
}

/** The result of reconciling one object on one host. */
export interface HostOutcome {
  entry: HostStatusEntry;
  /** Converged on this host. */
  ready: boolean;
  /** A failure that is retried (pull failed, name conflict, daemon error): Ready=False, Reconciling=True. */
  failure?: { reason: Reason; message: string };
  /** Nothing will change until the user acts (policy violation, recreate required): Stalled=True. */
  stalled?: { reason: Reason; message: string };
  /**
   * Nobody can tell how the object is there now (its host's agent is
   * disconnected): Ready=Unknown, never the last state seen.
   */
  unknown?: { reason: Reason; message: string };
  /** Look again sooner than the poll interval (work in progress). */
  requeueAfterMs?: number;
}

/** Removing (or releasing) an object from a host. */
export interface FinalizeOutcome {
  done: boolean;
  message?: string;
}

/**
 * One Docker object kind, after crossplane-runtime's external client: the
 * generic ManagedReconciler handles order, placement, finalizers, status
 * aggregation and requeues; the kind observes and acts on one host at a time
 * (driving its own xstate machine inside reconcileHost).
 */
export interface ManagedKind<T extends ManagedObject> {
  kind: string;
  resource: ResourceType;
  /** The Docker object type whose events concern this kind. */
  dockerEventType: DockerObjectType;
  defaultDeletionPolicy: DeletionPolicy;
  reconcileHost(ctx: HostContext<T>): Promise<HostOutcome>;
  /** Delete (policy Delete) or leave (Orphan) the object on a host; done when nothing remains to do there. */
  finalizeHost(ctx: HostContext<T>, policy: DeletionPolicy): Promise<FinalizeOutcome>;
  /**
   * The name the object has in Docker on every host. Docker events that carry
   * no owner labels (volume and network events carry only names) are mapped
   * back to owners through it.
   */
  dockerNameOf(obj: T): string;
}
