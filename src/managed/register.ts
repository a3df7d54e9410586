import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { DockerHost } from '../crds/dockerhost.js';
import type { HostRuntime } from '../docker/host-runtime.js';
import type { ControllerDeps } from './controller-deps.js';
import { enqueueForObject, enqueueMapped } from '../runtime/enqueue.js';
import type { Controller, ControllerLanes } from '../runtime/controller.js';
import { specOrMetadataChanged } from '../runtime/predicates.js';
import type { Informer } from '../runtime/informer.js';
import { customResourceListWatcher } from '../runtime/kube-list-watcher.js';
import { objectKey, requestFor, requestKey, type Request } from '../runtime/object-key.js';
import type { ShardGate } from '../runtime/shard-gate.js';
import { EventCoverage } from './event-coverage.js';
import { DEFAULT_RECONCILES_PER_HOST, HostSlots, singleHostOf } from './host-lanes.js';
import { hostPlacementChanged } from './host-predicate.js';
import { managedMetrics } from './managed-metrics.js';
import { ManagedReconciler, ownerKeyFromEvent } from './managed-reconciler.js';
import { NamespaceLabels } from './namespace-labels.js';
import type { DescribedKind } from './host-flow.js';
import type { ManagedObject } from './types.js';

export interface ManagedControllerHandle<T extends ManagedObject> {
  objects: Informer<T>;
  /** For extra watches (e.g. containers follow the networks and volumes they use). */
  controller: Controller;
  trigger(key: string): void;
}

const DOCKER_NAME_INDEX = 'dockerName';
const HOST_CANDIDATES_INDEX = 'hostCandidates';
/** The index value of objects with a hostSelector: any host may come to match it (not a valid host name). */
const ANY_HOST = '*';

/**
 * Every object that is or may be placed on a host, from an index: a scan of
 * every object per host change costs hosts × objects when a fleet's hosts
 * change at once (10^7 checks at 1,000 hosts and 10,000 objects).
 */
function objectsOnHost<T extends ManagedObject>(objects: Informer<T>): (host: string) => Request[] {
  objects.addIndexer(HOST_CANDIDATES_INDEX, hostCandidates);
  return (host) => {
    const found = new Map<string, Request>();
    for (const o of [
      ...objects.byIndex(HOST_CANDIDATES_INDEX, host),
      ...objects.byIndex(HOST_CANDIDATES_INDEX, ANY_HOST),
    ]) {
      const req = requestFor(o);
      if (req) found.set(requestKey(req), req);
    }
    return [...found.values()];
  };
}

/** The hosts an object is or may be placed on: its hostName, the hosts its status lists, any host for a selector. */
export function hostCandidates(o: ManagedObject): string[] {
  const hosts = new Set<string>(o.status?.hosts?.map((h) => h.name) ?? []);
  if (o.spec.hostName) hosts.add(o.spec.hostName);
  if (o.spec.hostSelector !== undefined) hosts.add(ANY_HOST);
  return [...hosts];
}

/** A managed kind's controller name: its metrics' `controller` label, Event reporter and field manager. */
export function managedControllerName(kind: string): string {
  return kind.toLowerCase();
}

/** Default drift safety net: re-verify converged objects every minute even without Docker events. */
export const DEFAULT_POLL_INTERVAL_MS = 60_000;

/** One work-queue lane per Docker host: the workers spread over the hosts (host-lanes.ts). */
function hostLanes<T extends ManagedObject>(
  objects: Informer<T>,
  perHost: number | undefined,
): ControllerLanes {
  return {
    of: (req) => {
      const obj = objects.getByName(req.name, req.namespace);
      return obj ? singleHostOf(obj) : undefined;
    },
    limit: perHost ?? DEFAULT_RECONCILES_PER_HOST,
  };
}

/**
 * Wires one managed kind: its informer, the generic reconciler, and the three
 * ways a key gets enqueued — the object changed, a DockerHost it may be placed
 * on changed, or a Docker event on a host concerns it.
 */
export function registerManagedController<T extends ManagedObject>(opts: {
  deps: ControllerDeps;
  hostRuntime: HostRuntime;
  hosts: Informer<DockerHost>;
  /** Made by defineKind: the host flow runs the kind, which cannot bring a reconcile loop of its own. */
  kind: DescribedKind<T>;
  pollIntervalMs?: number;
}): ManagedControllerHandle<T> {
  const { deps, hostRuntime, hosts, kind } = opts;
  const { kc, manager } = deps;
  const controllerName = managedControllerName(kind.kind);
  const objects = manager.createInformer<T>({
    resource: `${kind.resource.plural}.${kind.resource.group}`,
    listWatcher: customResourceListWatcher<T>(kc, {
      ...kind.resource,
      kind: kind.kind,
      ...(deps.watchNamespace ? { namespace: deps.watchNamespace } : {}),
    }),
    ...(deps.syncPeriodMs !== undefined ? { resyncPeriodMs: deps.syncPeriodMs } : {}),
  });
  const metrics = managedMetrics(manager.metrics.registry);
  // Sharded, each replica counts the objects whose own key's shard it holds
  // (their "home", host-shards.ts): a sum over the replicas counts each once.
  const shards = deps.shards;
  metrics.trackObjects(kind.kind, () =>
    shards ? objects.list().filter((o) => shards.owns(objectKey(o) ?? '')) : objects.list(),
  );
  // Made before the controller it wakes; no reconcile runs before the controller exists.
  const wake: { controller?: Controller } = {};
  const eventCoverage = new EventCoverage({ wake: (key) => wake.controller?.trigger(key) });
  const reconciler = buildReconciler({
    deps,
    kind,
    objects,
    hosts,
    hostRuntime,
    controllerName,
    metrics,
    pollIntervalMs: opts.pollIntervalMs,
    eventCoverage,
  });
  const controller = manager.createController({
    name: controllerName,
    reconciler,
    maxConcurrentReconciles: deps.maxConcurrentReconciles,
    lanes: hostLanes(objects, deps.maxConcurrentReconcilesPerHost),
    // Sharded, every replica works on the hosts of its own shards.
    needLeaderElection: deps.shards === undefined,
  });
  wake.controller = controller;
  // Our own status writes must not wake the object again (see specOrMetadataChanged).
  controller.watch(objects, enqueueForObject(), { updatePredicate: specOrMetadataChanged });
  const onHost = objectsOnHost(objects);
  // A host's readiness, labels or policy changed (not its heartbeat's container counts).
  controller.watch(
    hosts,
    enqueueMapped<DockerHost>((host) => onHost(host.metadata.name)),
    { updatePredicate: hostPlacementChanged },
  );
  // The host's event stream came back after a gap it may not have replayed in
  // full (Docker keeps 256 events): observe everything there again now rather
  // than at the next poll. Reconciles are level-based, so an extra one is cheap.
  hostRuntime.onHostResync((host) => {
    for (const key of onHost(host)) controller.trigger(key);
  });
  if (deps.shards) retriggerOnShardChange({ shards: deps.shards, objects, controller });
  objects.addIndexer(DOCKER_NAME_INDEX, (obj) => [kind.dockerNameOf(obj)]);
  hostRuntime.onDockerEvent(
    (host, event) => {
      if (event.type !== kind.dockerEventType) return;
      // An event its object's reconcile in flight may have seen already waits for it to end (event-coverage.ts).
      const wakeFor = (key: string | undefined) => {
        if (key && !eventCoverage.hold(key, host, event)) controller.trigger(key);
      };
      const owner = ownerKeyFromEvent(event.attributes, kind.kind);
      if (owner) return wakeFor(owner);
      for (const name of new Set([event.attributes.name, event.id])) {
        if (!name) continue;
        for (const obj of objects.byIndex(DOCKER_NAME_INDEX, name)) wakeFor(objectKey(obj));
      }
    },
    // Streams follow only the types registered kinds listen to.
    { types: [kind.dockerEventType] },
  );
  return { objects, controller, trigger: (key) => controller.trigger(key) };
}

/** A shard taken or handed back: its objects are looked at here now, or let go. */
function retriggerOnShardChange<T extends ManagedObject>(o: {
  shards: ShardGate;
  objects: Informer<T>;
  controller: Controller;
}): void {
  o.shards.onShardChange((shard) => {
    for (const obj of o.objects.list()) {
      const namespace = obj.metadata.namespace ?? '';
      const keys = [
        `${namespace}/${obj.metadata.name}`,
        ...(obj.spec.hostName ? [obj.spec.hostName] : []),
        ...(obj.status?.hosts ?? []).map((h) => h.name),
      ];
      if (obj.spec.hostSelector !== undefined || keys.some((k) => o.shards.shardOf(k) === shard))
        o.controller.trigger({ namespace, name: obj.metadata.name });
    }
  });
}

/** The generic reconciler for one kind, with the clients and bounds the flags ask for. */
function buildReconciler<T extends ManagedObject>(o: {
  deps: ControllerDeps;
  kind: DescribedKind<T>;
  objects: Informer<T>;
  hosts: Informer<DockerHost>;
  hostRuntime: HostRuntime;
  controllerName: string;
  metrics: ReturnType<typeof managedMetrics>;
  pollIntervalMs: number | undefined;
  eventCoverage: EventCoverage;
}): ManagedReconciler<T> {
  const { deps, kind, objects, hosts, hostRuntime, controllerName, metrics } = o;
  const { kc, manager } = deps;
  return new ManagedReconciler<T>({
    kind,
    objects,
    hosts,
    namespaces: new NamespaceLabels(kc.makeApiClient(CoreV1Api)),
    hostRuntime,
    status: kc.makeApiClient(CustomObjectsApi),
    finalizers: kc.makeApiClient(CustomObjectsApi),
    events: manager.eventRecorderFor(controllerName),
    metrics,
    fieldManager: `dockyard-${controllerName}-controller`,
    pollIntervalMs: o.pollIntervalMs ?? deps.syncPeriodMs ?? DEFAULT_POLL_INTERVAL_MS,
    clusterId: deps.clusterId,
    releases: kc.makeApiClient(CustomObjectsApi),
    adoption: { api: kc.makeApiClient(CustomObjectsApi), adoptPrevious: deps.adoptPrevious ?? false },
    // The lanes' bound again, for objects placed on several hosts (a selector).
    hostSlots: new HostSlots(deps.maxConcurrentReconcilesPerHost ?? DEFAULT_RECONCILES_PER_HOST),
    ...(deps.shards ? { ownership: deps.shards } : {}),
    eventCoverage: o.eventCoverage,
  });
}
