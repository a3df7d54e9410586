// Reads and writes the coordination.k8s.io/v1 Lease that leader election
// uses, with optimistic concurrency: an update carries the resourceVersion it
// was decided on and fails with 409 when someone else wrote first.

import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { isNotFound } from './api-errors.js';

/** The election record, times in epoch milliseconds. */
export interface LeaderElectionRecord {
  /** Empty when the lease is free (released). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: number;
  renewTime?: number;
  leaseTransitions: number;
}

export interface ObservedLease {
  record: LeaderElectionRecord;
  resourceVersion: string;
}

export interface LeaseClient {
  /** The lease, or undefined when it does not exist. */
  get(): Promise<ObservedLease | undefined>;
  create(record: LeaderElectionRecord): Promise<ObservedLease>;
  /** Replaces the record; rejects (409) when the lease changed since `resourceVersion`. */
  update(record: LeaderElectionRecord, resourceVersion: string): Promise<ObservedLease>;
  /** For logs: namespace/name. */
  describe(): string;
}

export type LeaseApi = Pick<
  CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

/** MicroTime fields are typed as Date but arrive from the API as strings; accept both. */
function toMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export function recordFromLease(lease: V1Lease): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: toMs(spec.acquireTime),
    renewTime: toMs(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

export function leaseSpecFromRecord(record: LeaderElectionRecord): NonNullable<V1Lease['spec']> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    ...(record.acquireTime !== undefined ? { acquireTime: new V1MicroTime(record.acquireTime) } : {}),
    ...(record.renewTime !== undefined ? { renewTime: new V1MicroTime(record.renewTime) } : {}),
  };
}

export class KubeLeaseClient implements LeaseClient {
  constructor(
    private readonly api: LeaseApi,
    private readonly namespace: string,
    private readonly name: string,
    private readonly fieldManager = 'dockyard',
  ) {}

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  async get(): Promise<ObservedLease | undefined> {
    try {
      return observed(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(record: LeaderElectionRecord): Promise<ObservedLease> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: leaseSpecFromRecord(record),
    };
    return observed(
      await this.api.createNamespacedLease({
        namespace: this.namespace,
        body,
        fieldManager: this.fieldManager,
      }),
    );
  }

  async update(record: LeaderElectionRecord, resourceVersion: string): Promise<ObservedLease> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, resourceVersion },
      spec: leaseSpecFromRecord(record),
    };
    return observed(
      await this.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body,
        fieldManager: this.fieldManager,
      }),
    );
  }
}

function observed(lease: V1Lease): ObservedLease {
  return { record: recordFromLease(lease), resourceVersion: lease.metadata?.resourceVersion ?? '' };
}
