// The shapes the DockerService controller's pure parts pass each other:
//   children (DockerContainers) → replica.ts → Replica[]
//   hosts + replicas            → schedule.ts → Slot[] (where each replica belongs)
//   slots + target + strategy   → rollout-plan.ts → RolloutPlan (what to create and delete)
//   plan + saved machine        → rollout-machine.ts → phase, conditions
// Only service-reconciler.ts does I/O.

/** Labels on every replica's DockerContainer object (besides the template's own). */
export const SERVICE_LABELS = {
  /** The owning DockerService's name. */
  service: 'dockyard.io/service',
  /** The template hash (revision) the replica was created from. */
  revision: 'dockyard.io/revision',
} as const;

/**
 * Annotation on a replica: its slot, a number (Replicated) or the host name
 * (Global). An annotation, not a label, because a DockerHost name may be
 * longer than a label value's 63 characters.
 */
export const SLOT_ANNOTATION = 'dockyard.io/slot';

/** Annotation on a replica: the hash of the service's hostSelector it was placed under. */
export const PLACEMENT_HASH_ANNOTATION = 'dockyard.io/placement-hash';

/**
 * How a replica is doing, as the rollout counts it.
 *   Starting     created, not Ready yet (or Ready for less than minReadySeconds)
 *   Available    Ready for minReadySeconds on a Ready host: counts for availability
 *   Failed       exited, restarted, unhealthy, refused (policy, name, engine): counts as a failure
 *   HostDown     its DockerHost is not Ready: not Available, not a failure of the revision
 *   Terminating  being deleted: counts for surge until gone, never for availability
 */
export type ReplicaState = 'Starting' | 'Available' | 'Failed' | 'HostDown' | 'Terminating';

export interface Replica {
  /** The DockerContainer's name. */
  name: string;
  slot: string;
  host: string;
  /** The template hash it runs. */
  revision: string;
  state: ReplicaState;
  /** Ready (running, healthy when it has a healthcheck), whether or not minReadySeconds have passed. */
  ready: boolean;
  /** Failed: why, in words (the DockerContainer's phase and message). */
  failure?: string;
  /** The service hostSelector hash it was placed under (annotation), when known. */
  placementHash?: string;
  /** When its host was last seen going NotReady (HostDown only). */
  hostDownSince?: Date;
  /** Since when it has been Ready (its Ready condition's lastTransitionTime), when ready. */
  readySince?: Date;
  /** The DockerContainer's creationTimestamp: of two replicas in one slot, the newer one decides the slot's host. */
  createdAt?: Date;
}

/**
 * Where one replica belongs. A Replicated service has slots "0".."replicas-1";
 * a Global service one slot per host, named after the host.
 */
export interface Slot {
  id: string;
  /** The host the slot's replica runs (or is to run) on; undefined when no host can take it. */
  host?: string;
  /** The replicas now in the slot (any revision, terminating included). */
  replicas: Replica[];
  /**
   * Its host has been NotReady longer than the grace period: a Replicated slot
   * moves to another host; a Global one waits and is left out of the
   * rollout's budget and completion.
   */
  outOfService: boolean;
}

/** What one reconcile asks of the API server, in order. */
export type PlanAction =
  | { type: 'create'; slot: string; host: string; revision: string }
  | { type: 'delete'; name: string; why: string };

export interface RolloutCounts {
  /** Desired replicas (slots in service). */
  desired: number;
  /** Replicas that exist and are not terminating, any revision. */
  current: number;
  ready: number;
  available: number;
  /** Replicas at the target revision (not terminating). */
  updated: number;
  updatedReady: number;
  updatedAvailable: number;
  /** Replicas at the target revision that failed. */
  updatedFailed: number;
}

export interface RolloutPlan {
  actions: PlanAction[];
  counts: RolloutCounts;
  /** Every in-service slot holds exactly one replica, at the target, Available. */
  complete: boolean;
  /** Slots that no host can take (Replicated: too few hosts for maxPerHost). */
  unplaced: number;
}
