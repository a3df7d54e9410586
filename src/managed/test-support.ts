// Helpers shared by this folder's unit tests of the generic reconciler (not
// part of the build: tsconfig.build.json leaves test-support.ts out). A fake
// kind whose reconcileHost/finalizeHost the test scripts, one DockerHost, and
// the few API calls the reconciler makes, each answered in memory. No
// Kubernetes or Docker is involved: these tests drive the flow only.

import { pino } from 'pino';
import type { DockerHost } from '../crds/dockerhost.js';
import type { Condition } from '../crds/kit.js';
import type { HostConnection } from '../docker/connection-pool.js';
import type { ReconcileResult } from '../runtime/controller.js';
import type { FinalizerPatchApi } from '../runtime/finalizers.js';
import type { StatusPatchApi } from '../runtime/status-patch.js';
import { FINALIZER, ManagedReconciler } from './managed-reconciler.js';
import type { HostStatusApi } from './released-owners.js';
import type { ManagedKind, ManagedObject } from './types.js';

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

export interface FakeWorldOptions {
  kind: ManagedKind<ManagedObject>;
  /** The object cache: what the reconciler reads for `ns/<name>`. */
  object: (name: string, namespace?: string) => ManagedObject | undefined;
  /** The name reconciled (namespace `ns`). */
  name?: string;
  host?: DockerHost;
  /** This process's connection to `h1`; connected unless the test says otherwise. */
  connection?: () => HostConnection | undefined;
  /** Every namespaced status patch body the reconciler writes. */
  onStatus?: (body: unknown) => void;
  /** Every finalizer patch (the fixture answers add and remove alike). */
  onFinalizer?: () => void;
  now?: () => Date;
  releases?: HostStatusApi;
}

/** A ManagedReconciler over the fake APIs, and `reconcile()` of `ns/<name>`. */
export function fakeWorld(opts: FakeWorldOptions): {
  reconciler: ManagedReconciler<ManagedObject>;
  reconcile: () => Promise<ReconcileResult>;
} {
  const host = opts.host ?? readyHost();
  const reconciler = new ManagedReconciler<ManagedObject>({
    kind: opts.kind,
    objects: { getByName: opts.object },
    hosts: { list: () => [host], getByName: (n) => (n === host.metadata.name ? host : undefined) },
    namespaces: { get: () => Promise.resolve({}) },
    hostRuntime: { connection: opts.connection ?? (() => ({}) as HostConnection) },
    status: {
      patchNamespacedCustomObjectStatus: (param: { body: unknown }) => {
        opts.onStatus?.(param.body);
        return Promise.resolve({});
      },
      patchClusterCustomObjectStatus: () => Promise.resolve({}),
    } as unknown as StatusPatchApi,
    finalizers: {
      patchNamespacedCustomObject: () => {
        opts.onFinalizer?.();
        return Promise.resolve({});
      },
    } as unknown as FinalizerPatchApi,
    events: { event: () => undefined },
    fieldManager: 'test',
    pollIntervalMs: 60_000,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.releases ? { releases: opts.releases } : {}),
  });
  const ctx = { logger: pino({ level: 'silent' }), signal: new AbortController().signal, reconcileID: 'r' };
  const name = opts.name ?? 'o';
  return { reconciler, reconcile: () => reconciler.reconcile(ctx, { namespace: 'ns', name }) };
}
