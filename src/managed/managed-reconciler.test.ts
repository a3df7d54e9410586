import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { AdoptedObject, DockerHost } from '../crds/dockerhost.js';
import { ANNOTATIONS, OWNER_LABELS } from '../crds/kit.js';
import type { Reason } from '../crds/reasons.js';
import type { HostConnection } from '../docker/connection-pool.js';
import { UnresponsiveHostError } from '../docker/responsiveness.js';
import { formatTime } from '../runtime/conditions.js';
import type { ReconcileResult } from '../runtime/controller.js';
import type { AdoptionRequest, AdoptionResult } from './adoption.js';
import { WARMUP_REQUEUE_MS } from './connection-warmup.js';
import { EventCoverage } from './event-coverage.js';
import { FINALIZER, ownerKeyFromEvent } from './managed-reconciler.js';
import { placementHash } from './placement.js';
import type { HostStatusApi } from './released-owners.js';
import { condition, fakeKind, fakeObject, fakeWorld } from './test-support.js';
import type {
  DeletionPolicy,
  FinalizeOutcome,
  HostOutcome,
  HostStatusEntry,
  ManagedKind,
  ManagedObject,
  ManagedSpec,
  ManagedStatus,
} from './types.js';

// The generic reconciler, branch by branch, after crossplane-runtime's
// reconciler_test.go: named cases, each a world (the object, its DockerHosts,
// the namespace's labels, what the fake kind answers on each host) and what
// must come of one reconcile (status written, finalizer, which hosts the kind
// was called for, events, host status writes, requeue). Kubernetes and Docker
// are fakes answering in memory: these tests drive the flow only.

const NOW = new Date('2026-12-01T00:00:00Z');
const NOW_TEXT = formatTime(NOW);
/** An earlier reconcile's stamp: rewriting it would make an unchanged status look changed. */
const EARLIER_TEXT = '2026-11-30T12:00:00Z';
/** The fixture's poll interval, and the reconciler's own requeue classes (managed-reconciler.ts). */
const REQUEUE = { poll: 60_000, progress: 2_000, failure: 5_000 } as const;

const HASH_H1 = placementHash({ hostName: 'h1' });
const HASH_H2 = placementHash({ hostName: 'h2' });
const POOL_A = { hostSelector: { matchLabels: { pool: 'a' } } };
const POOL_B = { hostSelector: { matchLabels: { pool: 'b' } } };
const HASH_POOL_A = placementHash(POOL_A);
const BY_SELECTOR = (s: typeof POOL_A): Partial<ManagedSpec> => ({ hostName: undefined, ...s });
const DELETING = { deletionTimestamp: new Date('2026-11-30T23:59:00Z') };
const NO_FINALIZER = { finalizers: [] as string[] };
const PAUSED = { annotations: { [ANNOTATIONS.paused]: 'true' } };

// ---------------------------------------------------------------- the world

interface HostFixture {
  labels?: Record<string, string>;
  notReady?: boolean;
  /** This process has no connection to it (yet). */
  disconnected?: boolean;
  unschedulable?: boolean;
  drain?: boolean;
  /** The DockerHost is being deleted. */
  terminating?: boolean;
  /** spec.allowedNamespaces from Selector, matching these namespace labels. */
  namespacesLabelled?: Record<string, string>;
  adoptedObjects?: AdoptedObject[];
}

/** What the fake kind's reconcileHost answers on a host (its entry's name is filled in). */
type HostScript = (Omit<HostOutcome, 'entry'> & { entry?: Partial<HostStatusEntry> }) | Error;
type FinalizeScript = FinalizeOutcome | Error;

interface World {
  /** The object in the cache; absent: not found. */
  object?: {
    metadata?: Partial<ManagedObject['metadata']>;
    spec?: Partial<ManagedSpec>;
    status?: ManagedStatus;
  };
  absent?: boolean;
  hosts?: Record<string, HostFixture>;
  namespaceLabels?: Record<string, string>;
  /** reconcileHost per host; converged (`ready()`) when not scripted. */
  reconcile?: Record<string, HostScript>;
  /** finalizeHost per host; done when not scripted. */
  finalize?: Record<string, FinalizeScript>;
  kind?: Partial<Pick<ManagedKind<ManagedObject>, 'defaultDeletionPolicy' | 'dockerEventType'>>;
  finalizerWrite?: Error;
  statusWrite?: Error;
  /** Leave deps.releases unset (it is set outside unit tests). */
  noReleases?: boolean;
  clusterId?: string;
}

interface StatusWant {
  phase: string;
  hostsReady?: string;
  observedGeneration?: number;
  /** Every condition, as `type → "status reason"`. */
  conditions?: Record<string, string>;
  /** Substrings of condition messages. */
  messages?: Record<string, string>;
  /** status.hosts: every entry, in order, each matched partially. */
  hosts?: Array<Partial<HostStatusEntry>>;
  /** The resourceVersion the patch is locked to; null for none. */
  lock?: string | null;
}

interface Want {
  /** requeueAfterMs: a class, a number, or 'none' for `{}`; 'poll' when unsaid. */
  requeue?: 'none' | keyof typeof REQUEUE | number;
  throws?: RegExp;
  /** Hosts reconcileHost was called for, with ` paused` / ` cluster=<id>` when it was told so. */
  reconciled?: string[];
  /** `host policy` for each finalizeHost call. */
  finalized?: string[];
  finalizer?: 'added' | 'removed' | 'none';
  /** 'none': no status write; unsaid: not checked (cases about something else). */
  status?: 'none' | StatusWant;
  /** `type reason: note`. */
  events?: string[];
  /** DockerHost status writes: `host field=uid,uid`. */
  hostWrites?: string[];
  namespaceReads?: number;
  backoffEntries?: number;
}

interface Case {
  reason: string;
  world: World;
  want: Want;
}

function ready(phase = 'Ready'): HostScript {
  return { entry: { phase }, ready: true };
}
function progressing(phase: string, requeueAfterMs?: number): HostScript {
  return { entry: { phase, message: `${phase.toLowerCase()}…` }, ready: false, requeueAfterMs };
}
function failing(reason: Reason, message: string, phase = 'Failed'): HostScript {
  return { entry: { phase, message }, ready: false, failure: { reason, message } };
}
function stalled(reason: Reason, message: string): HostScript {
  return { entry: { phase: 'Stalled', message }, ready: false, stalled: { reason, message } };
}
function previousEntry(name: string, placementHash?: string, phase = 'Ready'): HostStatusEntry {
  return { name, phase, ...(placementHash ? { placementHash } : {}) };
}

/** Exactly what the reconciler writes for an object converged on `hosts`: reconciling it again changes nothing. */
function convergedStatus(hosts: string[], hash: string): ManagedStatus {
  const n = `${hosts.length}/${hosts.length}`;
  return {
    observedGeneration: 1,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Converged',
        message: `ready on ${n} hosts`,
        observedGeneration: 1,
        lastTransitionTime: EARLIER_TEXT,
      },
    ],
    hostsReady: n,
    phase: 'Ready',
    hosts: hosts.map((name) => ({ name, phase: 'Ready', placementHash: hash, lastUpdateTime: EARLIER_TEXT })),
  };
}

function dockerHost(name: string, f: HostFixture): DockerHost {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: {
      name,
      labels: f.labels ?? {},
      resourceVersion: '1',
      ...(f.terminating ? { deletionTimestamp: new Date('2026-11-30T00:00:00Z') } : {}),
    },
    spec: {
      endpoint: 'unix:///nowhere.sock',
      ...(f.unschedulable ? { unschedulable: true } : {}),
      ...(f.drain ? { drain: true } : {}),
      ...(f.namespacesLabelled
        ? { allowedNamespaces: { from: 'Selector', selector: { matchLabels: f.namespacesLabelled } } }
        : {}),
    },
    status: {
      conditions: [f.notReady ? condition('False', 'Unreachable') : condition('True', 'Connected')],
      ...(f.adoptedObjects ? { adoptedObjects: f.adoptedObjects } : {}),
    },
  };
}

/** DockerHost status reads and writes (releases, adoption claims), recorded as `host field=uids`. */
function hostStatusApi(hosts: DockerHost[], writes: string[]): HostStatusApi {
  return {
    listClusterCustomObject: (p: { fieldSelector?: string }) => {
      const name = p.fieldSelector?.replace('metadata.name=', '');
      return Promise.resolve({
        items: hosts.filter((h) => h.metadata.name === name).map((h) => structuredClone(h)),
      });
    },
    patchClusterCustomObjectStatus: (p: {
      name: string;
      body: { status: Record<string, Array<{ uid: string }>> };
    }) => {
      for (const [field, list] of Object.entries(p.body.status))
        writes.push(`${p.name} ${field}=${list.map((e) => e.uid).join(',')}`);
      return Promise.resolve({});
    },
    listNamespacedCustomObject: () => Promise.reject(new Error('no owner reads expected')),
  } as unknown as HostStatusApi;
}

/** RFC 7386 merge patch applied to what the cache held: the status the API server ends up with. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

interface Observed {
  result?: ReconcileResult;
  error?: unknown;
  reconciled: string[];
  finalized: string[];
  finalizer: 'added' | 'removed' | 'none';
  statuses: Array<{ status: ManagedStatus; lock: string | null }>;
  events: string[];
  hostWrites: string[];
  namespaceReads: number;
  backoffEntries: number;
}

function build(world: World) {
  const hosts = Object.entries(world.hosts ?? { h1: {} }).map(([name, f]) => dockerHost(name, f));
  const obj = fakeObject({
    metadata: { generation: 1, resourceVersion: '7', ...world.object?.metadata },
    spec: world.object?.spec ?? {},
    ...(world.object?.status ? { status: world.object.status } : {}),
  });
  const seen: Observed = {
    reconciled: [],
    finalized: [],
    finalizer: 'none',
    statuses: [],
    events: [],
    hostWrites: [],
    namespaceReads: 0,
    backoffEntries: 0,
  };
  const kind = fakeKind({
    ...world.kind,
    reconcileHost: (ctx) => {
      const name = ctx.host.metadata.name;
      seen.reconciled.push(
        [
          name,
          ...(ctx.paused ? ['paused'] : []),
          ...(ctx.clusterId ? [`cluster=${ctx.clusterId}`] : []),
        ].join(' '),
      );
      const script = world.reconcile?.[name] ?? ready();
      if (script instanceof Error) return Promise.reject(script);
      return Promise.resolve({ ...script, entry: { name, phase: 'Ready', ...script.entry } });
    },
    finalizeHost: (ctx, policy: DeletionPolicy) => {
      seen.finalized.push(`${ctx.host.metadata.name} ${policy}`);
      const script = world.finalize?.[ctx.host.metadata.name] ?? { done: true };
      return script instanceof Error ? Promise.reject(script) : Promise.resolve(script);
    },
  });
  const disconnected = new Set(
    Object.entries(world.hosts ?? {})
      .filter(([, f]) => f.disconnected)
      .map(([n]) => n),
  );
  const api = hostStatusApi(hosts, seen.hostWrites);
  const { reconciler, reconcile } = fakeWorld({
    kind,
    object: (name) => (world.absent || name !== 'o' ? undefined : obj),
    hosts,
    connection: (host) => (disconnected.has(host) ? undefined : ({} as HostConnection)),
    namespaceLabels: () => {
      seen.namespaceReads++;
      return Promise.resolve(world.namespaceLabels ?? {});
    },
    onStatus: (body) => {
      if (world.statusWrite) throw world.statusWrite;
      const b = body as { status: unknown; metadata?: { resourceVersion?: string } };
      seen.statuses.push({
        status: applyMergePatch(obj.status ?? {}, b.status) as ManagedStatus,
        lock: b.metadata?.resourceVersion ?? null,
      });
    },
    onFinalizer: (body) => {
      if (world.finalizerWrite) throw world.finalizerWrite;
      const list = (body as Array<{ path: string; value?: string[] }>).find(
        (op) => op.path === '/metadata/finalizers',
      );
      seen.finalizer = list?.value?.includes(FINALIZER) ? 'added' : 'removed';
    },
    onEvent: (type, reason, note) => seen.events.push(`${type} ${reason}: ${note}`),
    now: () => NOW,
    ...(world.noReleases ? {} : { releases: api }),
    adoption: { api: api as never, adoptPrevious: false },
    ...(world.clusterId ? { clusterId: world.clusterId } : {}),
  });
  return { reconciler, reconcile, seen };
}

async function run(world: World): Promise<Observed> {
  const { reconciler, reconcile, seen } = build(world);
  try {
    seen.result = await reconcile();
  } catch (err) {
    seen.error = err;
  }
  seen.backoffEntries = reconciler.backoffEntries();
  return seen;
}

function conditionsOf(status: ManagedStatus): Record<string, string> {
  return Object.fromEntries((status.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));
}

function check(seen: Observed, want: Want): void {
  if (want.throws) {
    expect(String(seen.error)).toMatch(want.throws);
  } else {
    expect(seen.error).toBeUndefined();
    const requeue = want.requeue ?? 'poll';
    expect(seen.result?.requeueAfterMs).toBe(
      requeue === 'none' ? undefined : typeof requeue === 'number' ? requeue : REQUEUE[requeue],
    );
  }
  expect(seen.reconciled.sort()).toEqual(want.reconciled ?? []);
  expect(seen.finalized.sort()).toEqual(want.finalized ?? []);
  expect(seen.finalizer).toBe(want.finalizer ?? 'none');
  expect(seen.events).toEqual(want.events ?? []);
  expect(seen.hostWrites).toEqual(want.hostWrites ?? []);
  if (want.namespaceReads !== undefined) expect(seen.namespaceReads).toBe(want.namespaceReads);
  if (want.backoffEntries !== undefined) expect(seen.backoffEntries).toBe(want.backoffEntries);
  if (want.status === undefined) return;
  if (want.status === 'none') {
    expect(seen.statuses).toEqual([]);
    return;
  }
  expect(seen.statuses).toHaveLength(1);
  const { status, lock } = seen.statuses[0] ?? { status: {}, lock: null };
  const w = want.status;
  expect(status.phase).toBe(w.phase);
  if (w.hostsReady !== undefined) expect(status.hostsReady).toBe(w.hostsReady);
  if ('observedGeneration' in w) expect(status.observedGeneration).toBe(w.observedGeneration);
  if (w.conditions) expect(conditionsOf(status)).toEqual(w.conditions);
  for (const [type, text] of Object.entries(w.messages ?? {}))
    expect(status.conditions?.find((c) => c.type === type)?.message).toContain(text);
  if (w.hosts) expect(status.hosts).toMatchObject(w.hosts);
  if (w.lock !== undefined) expect(lock).toBe(w.lock);
}

function runTable(cases: Record<string, Case>): void {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const seen = await run(c.world);
      try {
        check(seen, c.want);
      } catch (err) {
        // Like crossplane's `reason`: say what the case is about when it fails.
        if (err instanceof Error) err.message = `${c.reason}\n${err.message}`;
        throw err;
      }
    });
  }
}

// ---------------------------------------------------------------- the tables

const READY_TRUE = { Ready: 'True Converged' };

describe('ManagedReconciler: get', () => {
  runTable({
    NotFound: {
      reason: 'An object gone from the cache is not an error: nothing is read, written or called.',
      world: { absent: true },
      want: { requeue: 'none', status: 'none' },
    },
  });
});

describe('ManagedReconciler: deletion (finalize on every host, then drop the finalizer)', () => {
  runTable({
    DeletingWithoutOurFinalizer: {
      reason: 'Our cleanup already ran (or never started): nothing to do.',
      world: {
        object: { metadata: { ...DELETING, ...NO_FINALIZER }, status: { hosts: [previousEntry('h1')] } },
      },
      want: { requeue: 'none', status: 'none' },
    },
    DeleteOnEveryHostInStatus: {
      reason:
        'Delete: every host status names is finalized, then the finalizer goes and a Deleted event says where.',
      world: {
        hosts: { h1: {}, h2: {} },
        object: { metadata: DELETING, status: { hosts: [previousEntry('h1'), previousEntry('h2')] } },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Delete', 'h2 Delete'],
        finalizer: 'removed',
        status: 'none',
        events: ['Normal Deleted: removed from 2 host(s)'],
      },
    },
    OrphanBySpecRecordsTheRelease: {
      reason:
        'Orphan: released on the host, the release recorded in the DockerHost status, an Orphaned event.',
      world: {
        object: {
          metadata: DELETING,
          spec: { deletionPolicy: 'Orphan' },
          status: { hosts: [previousEntry('h1')] },
        },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Orphan'],
        finalizer: 'removed',
        status: 'none',
        hostWrites: ['h1 releasedOwners=u1'],
        events: ['Normal Orphaned: left in place on 1 host(s) (deletionPolicy Orphan)'],
      },
    },
    KindDefaultPolicyWhenSpecSaysNothing: {
      reason: "spec.deletionPolicy unset: the kind's default (Orphan for volumes) applies.",
      world: {
        kind: { defaultDeletionPolicy: 'Orphan' },
        object: { metadata: DELETING, status: { hosts: [previousEntry('h1')] } },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Orphan'],
        finalizer: 'removed',
        status: 'none',
        hostWrites: ['h1 releasedOwners=u1'],
        events: ['Normal Orphaned: left in place on 1 host(s) (deletionPolicy Orphan)'],
      },
    },
    OrphanOfAnImageRecordsNoRelease: {
      reason: 'Images carry no owner labels: the orphan sweep never looks at them, so nothing is recorded.',
      world: {
        kind: { dockerEventType: 'image' },
        object: {
          metadata: DELETING,
          spec: { deletionPolicy: 'Orphan' },
          status: { hosts: [previousEntry('h1')] },
        },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Orphan'],
        finalizer: 'removed',
        status: 'none',
        events: ['Normal Orphaned: left in place on 1 host(s) (deletionPolicy Orphan)'],
      },
    },
    OrphanWithoutReleaseRecorder: {
      reason:
        'Without deps.releases (unit setups only) the release is not recorded, and deletion still completes.',
      world: {
        noReleases: true,
        object: {
          metadata: DELETING,
          spec: { deletionPolicy: 'Orphan' },
          status: { hosts: [previousEntry('h1')] },
        },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Orphan'],
        finalizer: 'removed',
        status: 'none',
        events: ['Normal Orphaned: left in place on 1 host(s) (deletionPolicy Orphan)'],
      },
    },
    HostPlacementNamesButStatusLost: {
      reason:
        'A crash can lose the status write after a create: the host placement names now is finalized too.',
      world: { object: { metadata: DELETING } },
      want: {
        requeue: 'none',
        finalized: ['h1 Delete'],
        finalizer: 'removed',
        status: 'none',
        events: ['Normal Deleted: removed from 1 host(s)'],
      },
    },
    StatusLostOnHostAdmittingByNamespaceLabel: {
      reason:
        'Status lost after a create on a host that admits namespaces by label: the host must still be finalized.',
      world: {
        hosts: { h1: { namespacesLabelled: { team: 'a' } } },
        namespaceLabels: { team: 'a' },
        object: { metadata: DELETING },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Delete'],
        finalizer: 'removed',
        status: 'none',
        events: ['Normal Deleted: removed from 1 host(s)'],
      },
    },
    StatusLostOnHostNowUnschedulable: {
      reason: 'Status lost after a create, then the host was cordoned: the host must still be finalized.',
      world: { hosts: { h1: { unschedulable: true } }, object: { metadata: DELETING } },
      want: {
        requeue: 'none',
        finalized: ['h1 Delete'],
        finalizer: 'removed',
        status: 'none',
        events: ['Normal Deleted: removed from 1 host(s)'],
      },
    },
    DeletingPausedStillCleansUp: {
      reason:
        'docs/api.md: deleting a paused object still cleans up (paused is not consulted while deleting).',
      world: { object: { metadata: { ...DELETING, ...PAUSED }, status: { hosts: [previousEntry('h1')] } } },
      want: {
        requeue: 'none',
        finalized: ['h1 Delete'],
        finalizer: 'removed',
        status: 'none',
        events: ['Normal Deleted: removed from 1 host(s)'],
      },
    },
    DockerHostGone: {
      reason:
        'A DockerHost deleted altogether leaves nothing to clean up through: done there without a call.',
      world: {
        object: { metadata: DELETING, status: { hosts: [previousEntry('h1'), previousEntry('gone')] } },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Delete'],
        finalizer: 'removed',
        status: 'none',
        events: ['Normal Deleted: removed from 2 host(s)'],
      },
    },
    HostNotReadyHoldsTheFinalizer: {
      reason: 'A host that is not Ready cannot be cleaned up through: the finalizer stays, status says why.',
      world: {
        hosts: { h1: { notReady: true } },
        object: { metadata: DELETING, status: { phase: 'Ready', hosts: [previousEntry('h1')] } },
      },
      want: {
        requeue: 'failure',
        status: {
          phase: 'Deleting',
          hosts: [
            { name: 'h1', phase: 'Deleting', message: 'DockerHost h1 is not Ready: waiting to delete here' },
          ],
          lock: null,
        },
      },
    },
    NoConnectionHoldsTheFinalizerOrphan: {
      reason: 'No connection yet (no warm-up grace while deleting): the release waits, the finalizer stays.',
      world: {
        hosts: { h1: { disconnected: true } },
        object: {
          metadata: DELETING,
          spec: { deletionPolicy: 'Orphan' },
          status: { hosts: [previousEntry('h1')] },
        },
      },
      want: {
        requeue: 'failure',
        status: {
          phase: 'Deleting',
          hosts: [
            {
              name: 'h1',
              phase: 'Deleting',
              message: 'no connection to DockerHost h1 yet: waiting to release here',
            },
          ],
        },
      },
    },
    FinalizeNotDoneOnOneHost: {
      reason:
        'One host still working (a long stop): only it stays in status; the other is released and recorded.',
      world: {
        hosts: { h1: {}, h2: {} },
        finalize: { h1: { done: false, message: 'stopping (grace period 30 s)' } },
        object: {
          metadata: DELETING,
          spec: { deletionPolicy: 'Orphan' },
          status: { hosts: [previousEntry('h1'), previousEntry('h2')] },
        },
      },
      want: {
        requeue: 'failure',
        finalized: ['h1 Orphan', 'h2 Orphan'],
        hostWrites: ['h2 releasedOwners=u1'],
        status: {
          phase: 'Deleting',
          hosts: [{ name: 'h1', phase: 'Deleting', message: 'stopping (grace period 30 s)' }],
        },
      },
    },
    FinalizeThrows: {
      reason: "A Docker error while finalizing is reported with Docker's message and retried.",
      world: {
        finalize: { h1: new Error('remove container: device busy') },
        object: { metadata: DELETING, status: { hosts: [previousEntry('h1')] } },
      },
      want: {
        requeue: 'failure',
        finalized: ['h1 Delete'],
        status: {
          phase: 'Deleting',
          hosts: [{ name: 'h1', phase: 'Deleting', message: 'remove container: device busy' }],
        },
      },
    },
    AdoptionClaimsDropped: {
      reason:
        'What the object adopted on a host is let go (claim removed from status.adoptedObjects) once done.',
      world: {
        hosts: {
          h1: {
            adoptedObjects: [
              {
                type: 'volume',
                dockerName: 'o',
                uid: 'u1',
                kind: 'Fake',
                namespace: 'ns',
                name: 'o',
                adoptedAt: NOW_TEXT,
              },
              {
                type: 'volume',
                dockerName: 'x',
                uid: 'u9',
                kind: 'Fake',
                namespace: 'ns',
                name: 'x',
                adoptedAt: NOW_TEXT,
              },
            ],
          },
        },
        object: { metadata: DELETING, status: { hosts: [previousEntry('h1')] } },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Delete'],
        finalizer: 'removed',
        status: 'none',
        hostWrites: ['h1 adoptedObjects=u9'],
        events: ['Normal Deleted: removed from 1 host(s)'],
      },
    },
    FinalizerAlreadyGone404: {
      reason:
        'A stale cache can finalize twice: the object being gone (404) when the finalizer is dropped is success.',
      world: {
        finalizerWrite: new ApiException(404, 'not found', {}, {}),
        object: { metadata: DELETING, status: { hosts: [previousEntry('h1')] } },
      },
      want: {
        requeue: 'none',
        finalized: ['h1 Delete'],
        status: 'none',
        events: ['Normal Deleted: removed from 1 host(s)'],
      },
    },
    FinalizerRemovalFails: {
      reason:
        'Any other error dropping the finalizer is thrown: the queue retries with backoff, no event claims success.',
      world: {
        finalizerWrite: new ApiException(409, 'conflict', {}, {}),
        object: { metadata: DELETING, status: { hosts: [previousEntry('h1')] } },
      },
      want: { throws: /conflict/, finalized: ['h1 Delete'] },
    },
    DeletingStatusWriteOnGoneObject: {
      reason: 'The Deleting status written to an object already gone (404) is ignored.',
      world: {
        statusWrite: new ApiException(404, 'not found', {}, {}),
        hosts: { h1: { notReady: true } },
        object: { metadata: DELETING, status: { hosts: [previousEntry('h1')] } },
      },
      want: { requeue: 'failure' },
    },
  });
});

describe('ManagedReconciler: finalizer', () => {
  runTable({
    AddsFinalizerThenStatusUnlocked: {
      reason:
        'The finalizer is added under the cached resourceVersion; that write proves the cache current, so the status write needs no lock.',
      world: { object: { metadata: NO_FINALIZER } },
      want: {
        reconciled: ['h1'],
        finalizer: 'added',
        status: { phase: 'Ready', conditions: READY_TRUE, lock: null },
      },
    },
    FinalizerPresentStatusLocked: {
      reason:
        'Without a finalizer write the cache may be stale: the status write is locked to its resourceVersion.',
      world: {},
      want: { reconciled: ['h1'], status: { phase: 'Ready', conditions: READY_TRUE, lock: '7' } },
    },
    NoResourceVersionNoLock: {
      reason: 'An object without a resourceVersion (never from the API server) is written without a lock.',
      world: { object: { metadata: { resourceVersion: undefined } } },
      want: { reconciled: ['h1'], status: { phase: 'Ready', lock: null } },
    },
    FinalizerAddFails: {
      reason: 'The finalizer could not be added (stale cache, 409): thrown before anything touches Docker.',
      world: {
        object: { metadata: NO_FINALIZER },
        finalizerWrite: new ApiException(409, 'conflict', {}, {}),
      },
      want: { throws: /conflict/ },
    },
  });
});

describe('ManagedReconciler: placement of a new object', () => {
  runTable({
    HostNotFound: {
      reason: 'spec.hostName names no DockerHost: Unplaced, Ready=False HostNotFound, looked at again soon.',
      world: { object: { spec: { hostName: 'nope' } } },
      want: {
        requeue: 'progress',
        status: {
          phase: 'Unplaced',
          hostsReady: '0/0',
          conditions: { Ready: 'False HostNotFound', Reconciling: 'True HostNotFound' },
          messages: { Ready: 'nope: DockerHost nope does not exist' },
          hosts: [],
        },
      },
    },
    NoMatchingHosts: {
      reason: 'A selector matching no DockerHost: Unplaced, Ready=False NoMatchingHosts.',
      world: { hosts: { h1: { labels: { pool: 'b' } } }, object: { spec: BY_SELECTOR(POOL_A) } },
      want: {
        requeue: 'progress',
        status: {
          phase: 'Unplaced',
          conditions: { Ready: 'False NoMatchingHosts', Reconciling: 'True NoMatchingHosts' },
          messages: { Ready: 'no DockerHost matches spec.hostSelector' },
        },
      },
    },
    NamespaceNotAllowed: {
      reason: "The host admits namespaces by label and this namespace's labels do not match: refused.",
      world: { hosts: { h1: { namespacesLabelled: { team: 'a' } } }, namespaceLabels: { team: 'b' } },
      want: {
        requeue: 'progress',
        namespaceReads: 1,
        status: {
          phase: 'Unplaced',
          conditions: { Ready: 'False NamespaceNotAllowed', Reconciling: 'True NamespaceNotAllowed' },
        },
      },
    },
    NamespaceAllowedByLabels: {
      reason: "The namespace's labels match the host's allowedNamespaces selector: placed.",
      world: { hosts: { h1: { namespacesLabelled: { team: 'a' } } }, namespaceLabels: { team: 'a' } },
      want: { reconciled: ['h1'], namespaceReads: 1, status: { phase: 'Ready', conditions: READY_TRUE } },
    },
    Unschedulable: {
      reason: 'An unschedulable host takes no new placement.',
      world: { hosts: { h1: { unschedulable: true } } },
      want: {
        requeue: 'progress',
        status: {
          phase: 'Unplaced',
          conditions: { Ready: 'False HostUnschedulable', Reconciling: 'True HostUnschedulable' },
        },
      },
    },
    Draining: {
      reason: 'A draining host takes no new placement.',
      world: { hosts: { h1: { drain: true } } },
      want: {
        requeue: 'progress',
        status: {
          phase: 'Unplaced',
          conditions: { Ready: 'False HostDraining', Reconciling: 'True HostDraining' },
        },
      },
    },
    HostBeingDeleted: {
      reason: 'A DockerHost being deleted takes no new placement.',
      world: { hosts: { h1: { terminating: true } } },
      want: {
        requeue: 'progress',
        status: {
          phase: 'Unplaced',
          conditions: { Ready: 'False HostTerminating', Reconciling: 'True HostTerminating' },
        },
      },
    },
    OneOfTwoRefuses: {
      reason:
        'Of two matching hosts one is unschedulable: Ready on the other, the refusal named in the message.',
      world: {
        hosts: { h1: { labels: { pool: 'a' } }, h2: { labels: { pool: 'a' }, unschedulable: true } },
        object: { spec: BY_SELECTOR(POOL_A) },
      },
      want: {
        reconciled: ['h1'],
        namespaceReads: 0,
        status: {
          phase: 'Ready',
          hostsReady: '1/1',
          conditions: READY_TRUE,
          messages: { Ready: 'ready on 1/1 hosts; not placed on h2 (HostUnschedulable)' },
          hosts: [{ name: 'h1', phase: 'Ready', placementHash: HASH_POOL_A }],
        },
      },
    },
  });
});

describe('ManagedReconciler: a host the object is on that no longer admits it (IgnoredDuringExecution)', () => {
  const wasOnH1 = (spec: Partial<ManagedSpec>, hash?: string) => ({
    spec,
    status: { hosts: [{ ...previousEntry('h1', hash), lastUpdateTime: NOW_TEXT }] },
  });
  runTable({
    UnschedulableAfterPlacementKeeps: {
      reason: 'unschedulable only refuses new placements: the object stays and is reconciled there.',
      world: { hosts: { h1: { unschedulable: true } }, object: wasOnH1({}, HASH_H1) },
      want: { reconciled: ['h1'], status: { phase: 'Ready', conditions: READY_TRUE } },
    },
    HostNoLongerMatches: {
      reason:
        'Host labels changed under it: kept and reconciled there, PlacementMatched=False, Ready stays True.',
      world: { hosts: { h1: { labels: { pool: 'b' } } }, object: wasOnH1(BY_SELECTOR(POOL_A), HASH_POOL_A) },
      want: {
        reconciled: ['h1'],
        status: {
          phase: 'Ready',
          conditions: { Ready: 'True Converged', PlacementMatched: 'False HostNoLongerMatches' },
          messages: {
            Ready: 'kept on h1 (HostNoLongerMatches)',
            PlacementMatched: 'h1: DockerHost h1 no longer matches',
          },
          hosts: [{ name: 'h1', phase: 'Ready', placementHash: HASH_POOL_A }],
        },
      },
    },
    EntryWithoutHashIsUnchanged: {
      reason: 'An entry without a placement hash predates it: a non-matching host is kept, never left.',
      world: { hosts: { h1: { labels: { pool: 'b' } } }, object: wasOnH1(BY_SELECTOR(POOL_A)) },
      want: {
        reconciled: ['h1'],
        status: {
          phase: 'Ready',
          conditions: { Ready: 'True Converged', PlacementMatched: 'False HostNoLongerMatches' },
          hosts: [{ name: 'h1', placementHash: HASH_POOL_A }],
        },
      },
    },
    NamespaceNoLongerAllowed: {
      reason: "The namespace's labels changed: kept, PlacementMatched=False NamespaceNoLongerAllowed.",
      world: {
        hosts: { h1: { namespacesLabelled: { team: 'a' } } },
        namespaceLabels: { team: 'b' },
        object: wasOnH1({}, HASH_H1),
      },
      want: {
        reconciled: ['h1'],
        status: {
          phase: 'Ready',
          conditions: { Ready: 'True Converged', PlacementMatched: 'False NamespaceNoLongerAllowed' },
        },
      },
    },
    HostBeingDeletedKeeps: {
      reason:
        'A DockerHost being deleted keeps what is on it until drained: PlacementMatched=False HostTerminating.',
      world: { hosts: { h1: { terminating: true } }, object: wasOnH1({}, HASH_H1) },
      want: {
        reconciled: ['h1'],
        status: {
          phase: 'Ready',
          conditions: { Ready: 'True Converged', PlacementMatched: 'False HostTerminating' },
        },
      },
    },
    MatchesAgainClearsPlacementMatched: {
      reason: 'Once the host matches again PlacementMatched is removed, not left False.',
      world: {
        object: {
          spec: {},
          status: {
            conditions: [{ ...condition('False', 'HostNoLongerMatches'), type: 'PlacementMatched' }],
            hosts: [previousEntry('h1', HASH_H1)],
          },
        },
      },
      want: { reconciled: ['h1'], status: { phase: 'Ready', conditions: READY_TRUE } },
    },
  });
});

describe('ManagedReconciler: per-host outcomes, aggregated', () => {
  const twoHosts = { h1: { labels: { pool: 'a' } }, h2: { labels: { pool: 'a' } } };
  const onTwo = { spec: BY_SELECTOR(POOL_A) };
  runTable({
    ConvergedOnOneHost: {
      reason:
        'Converged: Ready=True Converged, observedGeneration, the entry stamped, requeue at the poll interval.',
      world: {},
      want: {
        reconciled: ['h1'],
        status: {
          phase: 'Ready',
          hostsReady: '1/1',
          observedGeneration: 1,
          conditions: READY_TRUE,
          hosts: [{ name: 'h1', phase: 'Ready', placementHash: HASH_H1, lastUpdateTime: NOW_TEXT }],
        },
      },
    },
    NoGenerationNoObservedGeneration: {
      reason: 'An object without metadata.generation gets no observedGeneration.',
      world: { object: { metadata: { generation: undefined } } },
      want: { reconciled: ['h1'], status: { phase: 'Ready', observedGeneration: undefined } },
    },
    UnchangedStatusIsNotWritten: {
      reason: 'Reconciling a converged object again computes the same status: no write (no watcher woken).',
      world: { object: { status: convergedStatus(['h1'], HASH_H1) } },
      want: { reconciled: ['h1'], status: 'none' },
    },
    ConvergedOnTwoHosts: {
      reason: 'Both hosts converged: 2/2, entries sorted by host name.',
      world: { hosts: twoHosts, object: onTwo },
      want: {
        reconciled: ['h1', 'h2'],
        status: {
          phase: 'Ready',
          hostsReady: '2/2',
          conditions: READY_TRUE,
          hosts: [{ name: 'h1' }, { name: 'h2' }],
        },
      },
    },
    OneFailing: {
      reason:
        "A failure on one host: Ready=False with its reason, naming the host; the failing host's phase; failure requeue.",
      world: {
        hosts: twoHosts,
        object: onTwo,
        reconcile: { h2: failing('PullError', 'pull access denied', 'Pulling') },
      },
      want: {
        requeue: 'failure',
        reconciled: ['h1', 'h2'],
        status: {
          phase: 'Pulling',
          hostsReady: '1/2',
          conditions: { Ready: 'False PullError', Reconciling: 'True PullError' },
          messages: { Ready: 'h2: PullError: pull access denied' },
          hosts: [
            { name: 'h1', phase: 'Ready' },
            { name: 'h2', phase: 'Pulling', message: 'pull access denied' },
          ],
        },
      },
    },
    StalledWinsOverFailing: {
      reason:
        'Stalled on one host and failing on the other: Stalled=True (needs the user), Reconciling removed.',
      world: {
        hosts: twoHosts,
        object: onTwo,
        reconcile: {
          h1: stalled('PolicyViolation', 'privileged is not allowed'),
          h2: failing('PullError', 'denied'),
        },
      },
      want: {
        requeue: 'failure',
        reconciled: ['h1', 'h2'],
        status: {
          phase: 'Stalled',
          hostsReady: '0/2',
          conditions: { Ready: 'False PolicyViolation', Stalled: 'True PolicyViolation' },
          messages: { Stalled: 'h1: privileged is not allowed' },
        },
      },
    },
    StalledOnly: {
      reason: 'Stalled alone: no failure, so the progress requeue (Stalled waits for a spec change).',
      world: { reconcile: { h1: stalled('RecreateRequired', 'recreate needed') } },
      want: {
        requeue: 'progress',
        reconciled: ['h1'],
        status: {
          phase: 'Stalled',
          conditions: { Ready: 'False RecreateRequired', Stalled: 'True RecreateRequired' },
        },
      },
    },
    InProgressAskingForATime: {
      reason: 'Work in progress asking to be looked at in 500 ms: Ready=Unknown Progressing, requeue 500 ms.',
      world: { hosts: twoHosts, object: onTwo, reconcile: { h2: progressing('Starting', 500) } },
      want: {
        requeue: 500,
        reconciled: ['h1', 'h2'],
        status: {
          phase: 'Starting',
          hostsReady: '1/2',
          conditions: { Ready: 'Unknown Progressing', Reconciling: 'True Progressing' },
          messages: { Ready: 'waiting on h2: starting…' },
        },
      },
    },
    InProgressWithoutATime: {
      reason: 'Work in progress that asks for no time: the progress requeue.',
      world: { reconcile: { h1: progressing('Creating') } },
      want: { requeue: 'progress', reconciled: ['h1'], status: { phase: 'Creating' } },
    },
    AskedTimeCappedAtPoll: {
      reason: 'A host asking for longer than the poll interval is looked at again at the poll interval.',
      world: { reconcile: { h1: { ready: true, requeueAfterMs: 600_000 } } },
      want: { requeue: 'poll', reconciled: ['h1'], status: { phase: 'Ready' } },
    },
    HostNotReady: {
      reason: 'A host that is not Ready is reported HostNotReady; the other host converges regardless.',
      world: { hosts: { ...twoHosts, h2: { labels: { pool: 'a' }, notReady: true } }, object: onTwo },
      want: {
        requeue: 'failure',
        reconciled: ['h1'],
        status: {
          phase: 'HostNotReady',
          hostsReady: '1/2',
          conditions: { Ready: 'False HostNotReady', Reconciling: 'True HostNotReady' },
          hosts: [
            { name: 'h1', phase: 'Ready' },
            { name: 'h2', phase: 'HostNotReady', message: 'DockerHost h2 is not Ready' },
          ],
        },
      },
    },
    NoConnectionObjectNotReady: {
      reason: 'No connection and nothing healthy to keep (object not Ready): HostNotReady at once.',
      world: {
        hosts: { h1: { disconnected: true } },
        object: {
          status: {
            conditions: [condition('False', 'Pending')],
            hosts: [previousEntry('h1', HASH_H1, 'Pending')],
          },
        },
      },
      want: {
        requeue: 'failure',
        status: {
          phase: 'HostNotReady',
          conditions: { Ready: 'False HostNotReady', Reconciling: 'True HostNotReady' },
          hosts: [{ name: 'h1', phase: 'HostNotReady', message: 'no connection to DockerHost h1 yet' }],
        },
      },
    },
    NoConnectionDuringWarmup: {
      reason:
        'Right after start, a Ready object on a Ready host without a connection yet keeps its state: no write, short requeue.',
      world: { hosts: { h1: { disconnected: true } }, object: { status: convergedStatus(['h1'], HASH_H1) } },
      want: { requeue: WARMUP_REQUEUE_MS, status: 'none' },
    },
    HostNotReadyRightAfterStart: {
      reason:
        'The warm-up grace is for a Ready host whose connection is not open yet, not for a host that is down.',
      world: { hosts: { h1: { notReady: true } }, object: { status: convergedStatus(['h1'], HASH_H1) } },
      want: {
        requeue: 'failure',
        status: {
          phase: 'HostNotReady',
          conditions: { Ready: 'False HostNotReady', Reconciling: 'True HostNotReady' },
          hosts: [{ name: 'h1', phase: 'HostNotReady', lastUpdateTime: NOW_TEXT }],
        },
      },
    },
    NoConnectionObjectReadyForOldGeneration: {
      reason: 'Ready for an older generation is not Ready now: no warm-up grace, HostNotReady.',
      world: {
        hosts: { h1: { disconnected: true } },
        object: { metadata: { generation: 2 }, status: convergedStatus(['h1'], HASH_H1) },
      },
      want: {
        requeue: 'failure',
        status: {
          phase: 'HostNotReady',
          conditions: { Ready: 'False HostNotReady', Reconciling: 'True HostNotReady' },
        },
      },
    },
    KindThrowsDockerError: {
      reason:
        "The kind throws: DockerError with Docker's message, the entry keeps its last phase, retried in 1 s.",
      world: {
        reconcile: { h1: new Error('Conflict. The container name "/o" is already in use') },
        object: { status: { hosts: [previousEntry('h1', HASH_H1, 'Running')] } },
      },
      want: {
        requeue: 1_000,
        reconciled: ['h1'],
        backoffEntries: 1,
        status: {
          phase: 'Running',
          conditions: { Ready: 'False DockerError', Reconciling: 'True DockerError' },
          hosts: [
            { name: 'h1', phase: 'Running', message: 'Conflict. The container name "/o" is already in use' },
          ],
        },
      },
    },
    KindThrowsOnNewHost: {
      reason: 'A Docker error on a host never reported before: the entry is Pending.',
      world: { reconcile: { h1: new Error('boom') } },
      want: {
        requeue: 1_000,
        reconciled: ['h1'],
        status: { phase: 'Pending', hosts: [{ name: 'h1', phase: 'Pending', message: 'boom' }] },
      },
    },
    KindThrowsOnOneOfTwo: {
      reason: "One host's Docker error never blocks the other: it converges, the error host backs off.",
      world: { hosts: twoHosts, object: onTwo, reconcile: { h1: new Error('boom') } },
      want: {
        requeue: 1_000,
        reconciled: ['h1', 'h2'],
        backoffEntries: 1,
        status: {
          phase: 'Pending',
          hostsReady: '1/2',
          conditions: { Ready: 'False DockerError', Reconciling: 'True DockerError' },
        },
      },
    },
    HungDaemon: {
      reason:
        'A hung daemon is the host’s fault, not the object’s: HostNotReady, failure requeue, no backoff grows.',
      world: { reconcile: { h1: new UnresponsiveHostError('h1', 2_000) } },
      want: {
        requeue: 'failure',
        reconciled: ['h1'],
        backoffEntries: 0,
        status: {
          phase: 'HostNotReady',
          conditions: { Ready: 'False HostNotReady', Reconciling: 'True HostNotReady' },
          hosts: [
            { name: 'h1', phase: 'HostNotReady', message: expect.stringMatching(/not responding/) as string },
          ],
        },
      },
    },
    ClusterIdHandedToTheKind: {
      reason: '--cluster-id reaches the kind (for the owner labels it writes).',
      world: { clusterId: 'prod-eu' },
      want: { reconciled: ['h1 cluster=prod-eu'], status: { phase: 'Ready' } },
    },
    Paused: {
      reason: 'dockyard.io/paused: the kind is told to observe and change nothing; status is still reported.',
      world: { object: { metadata: PAUSED } },
      want: { reconciled: ['h1 paused'], status: { phase: 'Ready', conditions: READY_TRUE } },
    },
  });
});

describe('ManagedReconciler: leaving hosts (make before break, then per deletionPolicy)', () => {
  const movedToH2 = (
    extra: { metadata?: Partial<ManagedObject['metadata']>; policy?: DeletionPolicy } = {},
  ) => ({
    metadata: extra.metadata ?? {},
    spec: { hostName: 'h2', ...(extra.policy ? { deletionPolicy: extra.policy } : {}) },
    status: { hosts: [previousEntry('h1', HASH_H1)] },
  });
  const drainH1 = { h1: { labels: { pool: 'a' }, drain: true }, h2: { labels: { pool: 'a' } } };
  const onBoth = {
    spec: BY_SELECTOR(POOL_A),
    status: { hosts: [previousEntry('h1', HASH_POOL_A), previousEntry('h2', HASH_POOL_A)] },
  };
  runTable({
    MovedNewHostNotReadyYet: {
      reason:
        'spec.hostName moved h1 → h2 and h2 is not Ready yet: h1 is kept (Removing), nothing finalized.',
      world: { hosts: { h1: {}, h2: {} }, object: movedToH2(), reconcile: { h2: progressing('Creating') } },
      want: {
        requeue: 'progress',
        reconciled: ['h2'],
        status: {
          phase: 'Creating',
          hostsReady: '0/1',
          conditions: { Ready: 'Unknown Progressing', Reconciling: 'True Progressing' },
          hosts: [
            {
              name: 'h1',
              phase: 'Removing',
              placementHash: HASH_H1,
              message: 'waiting for h2 to be Ready before removing here (PlacementChanged)',
            },
            { name: 'h2', phase: 'Creating', placementHash: HASH_H2 },
          ],
        },
      },
    },
    MovedNewHostReady: {
      reason: 'h2 Ready: h1 is left under the policy (Delete), a Moved event, only h2 remains; converged.',
      world: { hosts: { h1: {}, h2: {} }, object: movedToH2() },
      want: {
        reconciled: ['h2'],
        finalized: ['h1 Delete'],
        events: ['Normal Moved: removed from DockerHost h1 (PlacementChanged)'],
        status: {
          phase: 'Ready',
          hostsReady: '1/1',
          conditions: READY_TRUE,
          hosts: [{ name: 'h2', placementHash: HASH_H2 }],
        },
      },
    },
    MovedUnderOrphan: {
      reason: 'Moved under Orphan: released on h1 and the release recorded there before it is dropped.',
      world: { hosts: { h1: {}, h2: {} }, object: movedToH2({ policy: 'Orphan' }) },
      want: {
        reconciled: ['h2'],
        finalized: ['h1 Orphan'],
        hostWrites: ['h1 releasedOwners=u1'],
        events: ['Normal Moved: left unmanaged on (deletionPolicy Orphan) DockerHost h1 (PlacementChanged)'],
        status: { phase: 'Ready', hosts: [{ name: 'h2' }] },
      },
    },
    MovedToARefusingHost: {
      reason:
        'The new host refuses (unschedulable): the old one is kept until the new placement takes the object.',
      world: { hosts: { h1: {}, h2: { unschedulable: true } }, object: movedToH2() },
      want: {
        requeue: 'progress',
        status: {
          phase: 'Unplaced',
          conditions: { Ready: 'False HostUnschedulable', Reconciling: 'True HostUnschedulable' },
          hosts: [
            {
              name: 'h1',
              phase: 'Removing',
              message:
                'kept until the new placement takes the object on at least one host (PlacementChanged)',
            },
          ],
        },
      },
    },
    MovedOldHostStillRemoving: {
      reason:
        'finalizeHost on the old host not done (and says nothing): kept Removing with the removal reason.',
      world: { hosts: { h1: {}, h2: {} }, object: movedToH2(), finalize: { h1: { done: false } } },
      want: {
        requeue: 'progress',
        reconciled: ['h2'],
        finalized: ['h1 Delete'],
        status: {
          phase: 'Ready',
          hostsReady: '1/1',
          conditions: { Ready: 'Unknown Progressing', Reconciling: 'True Progressing' },
          messages: { Ready: 'waiting on h1: removing (PlacementChanged)' },
          hosts: [{ name: 'h1', phase: 'Removing', message: 'removing (PlacementChanged)' }, { name: 'h2' }],
        },
      },
    },
    MovedOldHostFinalizeThrows: {
      reason: "A Docker error removing from the old host: kept Removing with Docker's message, no event.",
      world: { hosts: { h1: {}, h2: {} }, object: movedToH2(), finalize: { h1: new Error('device busy') } },
      want: {
        requeue: 'progress',
        reconciled: ['h2'],
        finalized: ['h1 Delete'],
        status: {
          phase: 'Ready',
          hosts: [{ name: 'h1', phase: 'Removing', message: 'device busy' }, { name: 'h2' }],
        },
      },
    },
    MovedOldHostNotReady: {
      reason: 'The old host is not Ready: nothing can be removed through it, it stays Removing.',
      world: { hosts: { h1: { notReady: true }, h2: {} }, object: movedToH2() },
      want: {
        requeue: 'progress',
        reconciled: ['h2'],
        status: {
          phase: 'Ready',
          hosts: [
            { name: 'h1', phase: 'Removing', message: 'DockerHost h1 is not Ready: waiting to delete here' },
            { name: 'h2' },
          ],
        },
      },
    },
    MovedWhilePaused: {
      reason: 'Paused: observed only, nothing is removed; the old host stays Removing (paused).',
      world: { hosts: { h1: {}, h2: {} }, object: movedToH2({ metadata: PAUSED }) },
      want: {
        requeue: 'progress',
        reconciled: ['h2 paused'],
        status: {
          phase: 'Ready',
          hosts: [{ name: 'h1', phase: 'Removing', message: 'paused' }, { name: 'h2' }],
        },
      },
    },
    DrainOtherHostReady: {
      reason: 'spec.drain on h1: left once h2 is Ready, with a Drained event.',
      world: { hosts: drainH1, object: onBoth },
      want: {
        reconciled: ['h2'],
        finalized: ['h1 Delete'],
        events: ['Normal Drained: removed from DockerHost h1 (HostDraining)'],
        status: { phase: 'Ready', hostsReady: '1/1', hosts: [{ name: 'h2' }] },
      },
    },
    DrainWaitsForTheOtherHost: {
      reason: 'spec.drain on h1 while h2 is still creating: h1 kept until h2 is Ready.',
      world: { hosts: drainH1, object: onBoth, reconcile: { h2: progressing('Creating') } },
      want: {
        requeue: 'progress',
        reconciled: ['h2'],
        status: {
          phase: 'Creating',
          hosts: [
            {
              name: 'h1',
              phase: 'Removing',
              message: 'waiting for h2 to be Ready before removing here (HostDraining)',
            },
            { name: 'h2', phase: 'Creating' },
          ],
        },
      },
    },
    DrainOfTheOnlyHost: {
      reason:
        'Draining the only host removes the object even with nowhere else to go (the administrator asked).',
      world: {
        object: { status: { hosts: [previousEntry('h1', HASH_H1)] } },
        hosts: { h1: { drain: true } },
      },
      want: {
        requeue: 'progress',
        finalized: ['h1 Delete'],
        events: ['Normal Drained: removed from DockerHost h1 (HostDraining)'],
        status: { phase: 'Unplaced', hostsReady: '0/0', hosts: [] },
      },
    },
    KeptHostDoesNotHoldUpARemoval: {
      reason:
        'Only hosts the spec selects count for make-before-break: a kept (no longer matching) host that is not Ready does not block leaving h1.',
      world: {
        hosts: {
          h1: { labels: { pool: 'a' } },
          h2: { labels: { pool: 'b' } },
          h3: { labels: { pool: 'a' } },
        },
        object: {
          spec: BY_SELECTOR(POOL_B),
          status: { hosts: [previousEntry('h1', HASH_POOL_A), previousEntry('h3')] },
        },
        reconcile: { h3: progressing('Restarting') },
      },
      want: {
        requeue: 'progress',
        reconciled: ['h2', 'h3'],
        finalized: ['h1 Delete'],
        events: ['Normal Moved: removed from DockerHost h1 (PlacementChanged)'],
        status: {
          phase: 'Restarting',
          conditions: {
            Ready: 'Unknown Progressing',
            Reconciling: 'True Progressing',
            PlacementMatched: 'False HostNoLongerMatches',
          },
          hosts: [{ name: 'h2' }, { name: 'h3', phase: 'Restarting' }],
        },
      },
    },
  });
});

// ------------------------------------------------- sequences: the backoff

interface Step {
  /** Advance the clock before this reconcile. */
  advanceMs?: number;
  /** A new metadata.generation (a spec change) before this reconcile. */
  generation?: number;
  /** reconcileHost answers this time: throws, or converges. */
  fails: boolean;
  want: { requeue: number; called: boolean; message?: string };
}

describe('ManagedReconciler: per-host Docker error backoff over several reconciles', () => {
  const sequences: Record<string, Step[]> = {
    DoublesOnConsecutiveFailures: [
      { fails: true, want: { requeue: 1_000, called: true } },
      { advanceMs: 1_000, fails: true, want: { requeue: 2_000, called: true } },
      { advanceMs: 2_000, fails: true, want: { requeue: 4_000, called: true } },
    ],
    WaitsItOutWithoutCallingTheKind: [
      { fails: true, want: { requeue: 1_000, called: true } },
      {
        advanceMs: 400,
        fails: false,
        want: { requeue: 600, called: false, message: 'boom (retrying in 1 s)' },
      },
      { advanceMs: 600, fails: false, want: { requeue: REQUEUE.poll, called: true } },
    ],
    NewGenerationRetriesAtOnce: [
      { fails: true, want: { requeue: 1_000, called: true } },
      // The spec change may be the fix: tried at once, without waiting out the backoff.
      { advanceMs: 100, generation: 2, fails: false, want: { requeue: REQUEUE.poll, called: true } },
    ],
    NewGenerationFailureStartsBackoffAfresh: [
      { fails: true, want: { requeue: 1_000, called: true } },
      { advanceMs: 1_000, fails: true, want: { requeue: 2_000, called: true } },
      // The entry of the failed generation is dropped, so a failure of the new one is its first.
      { advanceMs: 100, generation: 2, fails: true, want: { requeue: 1_000, called: true } },
    ],
    SuccessResetsIt: [
      { fails: true, want: { requeue: 1_000, called: true } },
      { advanceMs: 1_000, fails: false, want: { requeue: REQUEUE.poll, called: true } },
      { fails: true, want: { requeue: 1_000, called: true } },
    ],
    // The requeue never exceeds the poll interval; the backoff itself (until the
    // next call reaches the kind) grows to 300 s, not 512 s, after ten failures.
    CappedAtFiveMinutes: [
      ...[1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((s, i) => ({
        ...(i > 0 ? { advanceMs: s * 500 } : {}),
        fails: true,
        want: { requeue: Math.min(REQUEUE.poll, s * 1_000), called: true },
      })),
      {
        advanceMs: 299_000,
        fails: true,
        want: { requeue: 1_000, called: false, message: 'boom (retrying in 1 s)' },
      },
      { advanceMs: 1_000, fails: true, want: { requeue: REQUEUE.poll, called: true } },
    ],
  };
  for (const [name, steps] of Object.entries(sequences)) {
    it(name, async () => {
      let clock = NOW.getTime();
      let fails = false;
      let calls = 0;
      let obj = fakeObject({ metadata: { generation: 1, resourceVersion: '7' } });
      const statuses: string[] = [];
      const { reconcile } = fakeWorld({
        kind: fakeKind({
          reconcileHost: () => {
            calls++;
            return fails
              ? Promise.reject(new Error('boom'))
              : Promise.resolve({ entry: { name: 'h1', phase: 'Ready' }, ready: true });
          },
        }),
        object: () => obj,
        onStatus: (body) => statuses.push(JSON.stringify(body)),
        now: () => new Date(clock),
      });
      for (const step of steps) {
        clock += step.advanceMs ?? 0;
        fails = step.fails;
        if (step.generation)
          obj = fakeObject({ metadata: { generation: step.generation, resourceVersion: '8' } });
        const before = calls;
        const written = statuses.length;
        const result = await reconcile();
        expect(result.requeueAfterMs).toBe(step.want.requeue);
        expect(calls > before).toBe(step.want.called);
        if (step.want.message) expect(statuses.slice(written).join()).toContain(step.want.message);
      }
    });
  }
});

// --------------------------------------------- Docker events a look saw

describe('ManagedReconciler: Docker events held while the object is reconciled', () => {
  // The kind's reconcileHost starts a container, receives its start event
  // (as Docker's arrives during the reconcile) and maybe looks afterwards.
  const START = { id: 'c1', action: 'start' };
  const cases: Array<{ name: string; look: 'after' | 'before' | 'none'; throws?: boolean; wakes: boolean }> =
    [
      { name: 'a look after the start covers its event: not woken again', look: 'after', wakes: false },
      { name: 'a look before the start does not: woken again', look: 'before', wakes: true },
      { name: 'a kind that reports no look: woken again, as without coverage', look: 'none', wakes: true },
      {
        name: 'a reconcile that throws on the host commits nothing: woken again',
        look: 'after',
        throws: true,
        wakes: true,
      },
    ];
  for (const c of cases) {
    it(c.name, async () => {
      const woken: string[] = [];
      const coverage = new EventCoverage({ wake: (key) => woken.push(key) });
      const { reconcile } = fakeWorld({
        kind: fakeKind({
          reconcileHost: async (ctx) => {
            const early = c.look === 'before' ? ctx.coverage?.beginLook() : undefined;
            await new Promise((resolve) => setTimeout(resolve, 2));
            ctx.coverage?.acted('c1', 'start');
            expect(coverage.hold('ns/o', 'h1', START)).toBe(true);
            await new Promise((resolve) => setTimeout(resolve, 2));
            const late = c.look === 'after' ? ctx.coverage?.beginLook() : undefined;
            (early ?? late)?.();
            if (c.throws) throw new Error('daemon said no');
            return { entry: { name: 'h1', phase: 'Ready' }, ready: true };
          },
        }),
        object: () => fakeObject({ metadata: { generation: 1, resourceVersion: '7' } }),
        eventCoverage: coverage,
      });
      await reconcile();
      expect(woken).toEqual(c.wakes ? ['ns/o'] : []);
      // Ended: the next start event of c1 wakes the object at once.
      expect(coverage.hold('ns/o', 'h1', START)).toBe(false);
    });
  }
});

// --------------------------------------------- adoption answered from cache

describe('ManagedReconciler: ctx.adopt', () => {
  const claim: AdoptedObject = {
    type: 'volume',
    dockerName: 'o',
    uid: 'u1',
    kind: 'Fake',
    namespace: 'ns',
    name: 'o',
    adoptedAt: NOW_TEXT,
  };
  const unlabelled: AdoptionRequest = { type: 'volume', dockerName: 'o', labels: {}, policy: 'IfOrphaned' };
  const labelled: AdoptionRequest = { ...unlabelled, labels: { [OWNER_LABELS.uid]: 'u-other' } };
  const cases: Record<
    string,
    {
      req: AdoptionRequest;
      claims?: AdoptedObject[];
      paused?: boolean;
      adoption?: boolean;
      want: AdoptionResult;
    }
  > = {
    OurOwnClaim: {
      req: unlabelled,
      claims: [claim],
      adoption: true,
      want: { owns: 'ours', adopted: 'before' },
    },
    NoAdoptionConfiguredUnlabelled: { req: unlabelled, want: { owns: 'foreign', refusal: 'notAsked' } },
    NoAdoptionConfiguredLabelled: { req: labelled, want: { owns: 'otherOwner', refusal: 'notAsked' } },
    Paused: { req: unlabelled, paused: true, adoption: true, want: { owns: 'foreign', refusal: 'notAsked' } },
    PolicyNever: {
      req: { ...unlabelled, policy: 'Never' },
      adoption: true,
      want: { owns: 'foreign', refusal: 'notAsked' },
    },
    IfOrphanedGoesToTheLiveRead: {
      req: unlabelled,
      adoption: true,
      want: { owns: 'foreign', refusal: 'unlabelledNotAllowed' },
    },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const host = dockerHost('h1', { ...(c.claims ? { adoptedObjects: c.claims } : {}) });
      let answer: AdoptionResult | undefined;
      const { reconcile } = fakeWorld({
        kind: fakeKind({
          reconcileHost: async (ctx) => {
            answer = await ctx.adopt?.(c.req);
            return { entry: { name: 'h1', phase: 'Ready' }, ready: true };
          },
        }),
        object: () => fakeObject({ metadata: { resourceVersion: '7', ...(c.paused ? PAUSED : {}) } }),
        host,
        now: () => NOW,
        ...(c.adoption
          ? { adoption: { api: hostStatusApi([host], []) as never, adoptPrevious: false } }
          : {}),
      });
      await reconcile();
      expect(answer).toEqual(c.want);
    });
  }
});

describe('ownerKeyFromEvent', () => {
  const labels = { [OWNER_LABELS.kind]: 'Fake', [OWNER_LABELS.namespace]: 'ns', [OWNER_LABELS.name]: 'o' };
  const cases: Record<string, { attributes: Record<string, string>; want: string | undefined }> = {
    OwnerLabels: { attributes: labels, want: 'ns/o' },
    OtherKind: { attributes: { ...labels, [OWNER_LABELS.kind]: 'Other' }, want: undefined },
    NoName: { attributes: { [OWNER_LABELS.kind]: 'Fake', [OWNER_LABELS.namespace]: 'ns' }, want: undefined },
    Unlabelled: { attributes: {}, want: undefined },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      expect(ownerKeyFromEvent(c.attributes, 'Fake')).toBe(c.want);
    });
  }
});
