// Helpers shared by this folder's unit tests of the generic reconciler (not
// part of the build: tsconfig.build.json leaves test-support.ts out). A fake
// kind whose reconcileHost/finalizeHost the test scripts, DockerHosts, and
// the few API calls the reconciler makes, each answered in memory. No
// Kubernetes or Docker is involved: these tests drive the flow only.

import { pino } from 'pino';
import type { DockerHost } from '../crds/dockerhost.js';
import type { Condition } from '../crds/kit.js';
import type { HostConnection } from '../docker/connection-pool.js';
import type { ReconcileResult } from '../runtime/controller.js';
import type { FinalizerPatchApi } from '../runtime/finalizers.js';
import type { StatusPatchApi } from '../runtime/status-patch.js';
import { FINALIZER, ManagedReconciler, type ManagedReconcilerDeps } from './managed-reconciler.js';
import type { HostStatusApi } from './released-owners.js';
import { managedMetricsNoop } from './managed-metrics.js';
import type { HostContext, HostStatusEntry, ManagedKind, ManagedObject } from './types.js';

export const CONDITION_TIME = '2026-01-01T00:00:00Z';

export function condition(status: 'True' | 'False', reason: string): Condition {
  return { type: 'Ready', status, reason, message: '', lastTransitionTime: CONDITION_TIME };
}

/** DockerHost `h1`, Ready (the DockerHost controller reached it). */
export function readyHost(
  extra: { resourceVersion?: string; status?: DockerHost['status'] } = {},
): DockerHost {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: {
      name: 'h1',
      labels: {},
      ...(extra.resourceVersion ? { resourceVersion: extra.resourceVersion } : {}),
    },
    spec: { endpoint: 'unix:///nowhere.sock' },
    status: { conditions: [condition('True', 'Connected')], ...extra.status },
  };
}

/** A kind `Fake` that converges at once and finalizes at once unless the test scripts otherwise. */
export function fakeKind(overrides: Partial<ManagedKind<ManagedObject>> = {}): ManagedKind<ManagedObject> {
  return {
    kind: 'Fake',
    resource: { group: 'dockyard.io', version: 'v1alpha1', plural: 'fakes' },
    dockerEventType: 'container',
    defaultDeletionPolicy: 'Delete',
    reconcileHost: (ctx) =>
      Promise.resolve({ entry: { name: ctx.host.metadata.name, phase: 'Ready' }, ready: true }),
    finalizeHost: () => Promise.resolve({ done: true }),
    dockerNameOf: (o) => o.metadata.name,
    ...overrides,
  };
}

/** `ns/o` of the fake kind on `h1`, with the finalizer; metadata, spec and status merged in. */
export function fakeObject(
  extra: {
    kind?: string;
    metadata?: Partial<ManagedObject['metadata']>;
    spec?: Partial<ManagedObject['spec']>;
    status?: ManagedObject['status'];
  } = {},
): ManagedObject {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: extra.kind ?? 'Fake',
    metadata: { name: 'o', namespace: 'ns', uid: 'u1', finalizers: [FINALIZER], ...extra.metadata },
    spec: { hostName: 'h1', ...extra.spec },
    ...(extra.status ? { status: extra.status } : {}),
  };
}

/** One host's context for a kind's flow: host `h1`, no Docker behind the connection, Events kept in memory. */
export function hostContext(
  opts: { obj?: ManagedObject; previous?: HostStatusEntry | undefined; paused?: boolean } = {},
): HostContext<ManagedObject> & { recorded: string[] } {
  const recorded: string[] = [];
  return {
    obj: opts.obj ?? fakeObject(),
    namespace: opts.obj?.metadata.namespace ?? 'ns',
    host: readyHost(),
    conn: {} as HostConnection,
    previous: opts.previous,
    paused: opts.paused ?? false,
    logger: pino({ level: 'silent' }),
    events: { event: (_obj, type, reason) => void recorded.push(`${type} ${reason}`) },
    metrics: managedMetricsNoop,
    now: new Date(CONDITION_TIME),
    signal: new AbortController().signal,
    recorded,
  };
}

export interface FakeWorldOptions {
  kind: ManagedKind<ManagedObject>;
  /** The object cache: what the reconciler reads for `ns/<name>`. */
  object: (name: string, namespace?: string) => ManagedObject | undefined;
  /** The name reconciled (namespace `ns`). */
  name?: string;
  host?: DockerHost;
  /** Several DockerHosts instead of the one `host` (table tests of placement). */
  hosts?: DockerHost[];
  /** This process's connection to a host; connected unless the test says otherwise. */
  connection?: (host: string) => HostConnection | undefined;
  /** Every namespaced status patch body the reconciler writes; throwing fails the write. */
  onStatus?: (body: unknown) => void;
  /** Every finalizer patch (the fixture answers add and remove alike); throwing fails the write. */
  onFinalizer?: (body: unknown) => void;
  /** Every Event recorded. */
  onEvent?: (type: string, reason: string, note: string) => void;
  /** The namespace's labels (read only when a host selects namespaces by label). */
  namespaceLabels?: (namespace: string) => Promise<Record<string, string>>;
  now?: () => Date;
  releases?: HostStatusApi;
  adoption?: ManagedReconcilerDeps<ManagedObject>['adoption'];
  clusterId?: string;
  hostSlots?: ManagedReconcilerDeps<ManagedObject>['hostSlots'];
  ownership?: ManagedReconcilerDeps<ManagedObject>['ownership'];
  eventCoverage?: ManagedReconcilerDeps<ManagedObject>['eventCoverage'];
}

/** A fake API call: the callback's throw becomes the call's rejection, as a real client's would. */
function answer(callback: () => void): Promise<unknown> {
  try {
    callback();
    return Promise.resolve({});
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

/** A ManagedReconciler over the fake APIs, and `reconcile()` of `ns/<name>`. */
export function fakeWorld(opts: FakeWorldOptions): {
  reconciler: ManagedReconciler<ManagedObject>;
  reconcile: () => Promise<ReconcileResult>;
} {
  const hosts = opts.hosts ?? [opts.host ?? readyHost()];
  const reconciler = new ManagedReconciler<ManagedObject>({
    kind: opts.kind,
    objects: { getByName: opts.object },
    hosts: { list: () => hosts, getByName: (n) => hosts.find((h) => h.metadata.name === n) },
    namespaces: { get: opts.namespaceLabels ?? (() => Promise.resolve({})) },
    hostRuntime: { connection: opts.connection ?? (() => ({}) as HostConnection) },
    status: {
      patchNamespacedCustomObjectStatus: (param: { body: unknown }) =>
        answer(() => opts.onStatus?.(param.body)),
      patchClusterCustomObjectStatus: () => Promise.resolve({}),
    } as unknown as StatusPatchApi,
    finalizers: {
      patchNamespacedCustomObject: (param: { body: unknown }) => answer(() => opts.onFinalizer?.(param.body)),
    } as unknown as FinalizerPatchApi,
    events: { event: (_obj, type, reason, _action, note) => opts.onEvent?.(type, reason, note) },
    fieldManager: 'test',
    pollIntervalMs: 60_000,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.releases ? { releases: opts.releases } : {}),
    ...(opts.adoption ? { adoption: opts.adoption } : {}),
    ...(opts.clusterId ? { clusterId: opts.clusterId } : {}),
    ...(opts.hostSlots ? { hostSlots: opts.hostSlots } : {}),
    ...(opts.ownership ? { ownership: opts.ownership } : {}),
    ...(opts.eventCoverage ? { eventCoverage: opts.eventCoverage } : {}),
  });
  const ctx = { logger: pino({ level: 'silent' }), signal: new AbortController().signal, reconcileID: 'r' };
  const name = opts.name ?? 'o';
  return { reconciler, reconcile: () => reconciler.reconcile(ctx, { namespace: 'ns', name }) };
}
