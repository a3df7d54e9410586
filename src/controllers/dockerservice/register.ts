// Wires the DockerService controller: its informers (services, their
// ControllerRevisions; the DockerContainer and DockerHost informers are the
// ones the other controllers already keep), the reconciler, and what wakes a
// service: itself, a replica or revision it controls, a host.
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  type V1ControllerRevision,
} from '@kubernetes/client-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerService } from '../../crds/dockerservice.js';
import { GROUP } from '../../crds/kit.js';
import type { ControllerDeps } from '../../managed/controller-deps.js';
import { hostPlacementChanged } from '../../managed/host-predicate.js';
import { NamespaceLabels } from '../../managed/namespace-labels.js';
import { enqueueForObject, enqueueForOwner, enqueueMapped } from '../../runtime/enqueue.js';
import type { Informer } from '../../runtime/informer.js';
import { customResourceListWatcher } from '../../runtime/kube-list-watcher.js';
import { specOrMetadataChanged } from '../../runtime/predicates.js';
import { controllerUidOf } from './replica-object.js';
import { CONTROLLER_REVISIONS } from './revisions.js';
import { rolloutEffects, type RolloutResult } from './service-effects.js';
import { SERVICES, ServiceReconciler } from './service-reconciler.js';
import { SERVICE_LABELS } from './types.js';

export const DOCKERSERVICE_CONTROLLER = 'dockerservice';
const OWNER_UID_INDEX = 'controllerUid';

export interface ServiceMetrics {
  rollout(result: RolloutResult): void;
  available(service: DockerService, available: number): void;
}

/** The DockerService metrics, registered into `registry` (also by scripts/docs/metrics-doc.ts). */
export function serviceMetrics(registry: Registry): ServiceMetrics {
  const rollouts = new Counter({
    name: 'dockyard_service_rollouts_total',
    help: 'DockerService rollouts by what happened: started, complete, rolled_back, failed',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const available = new Gauge({
    name: 'dockyard_service_available_replicas',
    help: 'Available replicas of each DockerService, as its last reconcile counted them',
    labelNames: ['namespace', 'service'] as const,
    registers: [registry],
  });
  return {
    rollout: (result) => rollouts.inc({ result }),
    available: (s, n) =>
      available.set({ namespace: s.metadata.namespace ?? '', service: s.metadata.name }, n),
  };
}

export function registerDockerServiceController(opts: {
  deps: ControllerDeps;
  hosts: Informer<DockerHost>;
  containers: Informer<DockerContainer>;
}): { services: Informer<DockerService> } {
  const { deps, hosts, containers } = opts;
  const { kc, manager } = deps;
  const namespace = deps.watchNamespace ? { namespace: deps.watchNamespace } : {};
  const resync = deps.syncPeriodMs !== undefined ? { resyncPeriodMs: deps.syncPeriodMs } : {};
  const services = manager.createInformer<DockerService>({
    resource: `${SERVICES.plural}.${GROUP}`,
    listWatcher: customResourceListWatcher<DockerService>(kc, {
      ...SERVICES,
      kind: 'DockerService',
      ...namespace,
    }),
    ...resync,
  });
  // Only the revisions services keep: the label every one of them carries.
  const revisions = manager.createInformer<V1ControllerRevision & { metadata: { name: string } }>({
    resource: `${CONTROLLER_REVISIONS.plural}.${CONTROLLER_REVISIONS.group}`,
    listWatcher: customResourceListWatcher(
      kc,
      { ...CONTROLLER_REVISIONS, ...namespace },
      { labelSelector: SERVICE_LABELS.service },
    ),
    ...resync,
  });
  const byOwner = (obj: KubernetesObject) => {
    const uid = controllerUidOf(obj);
    return uid ? [uid] : [];
  };
  containers.addIndexer(OWNER_UID_INDEX, byOwner);
  revisions.addIndexer(OWNER_UID_INDEX, byOwner);
  const metrics = serviceMetrics(manager.metrics.registry);
  const events = manager.eventRecorderFor(DOCKERSERVICE_CONTROLLER);
  const reconciler = new ServiceReconciler({
    services,
    replicasOf: (uid) => containers.byIndex(OWNER_UID_INDEX, uid),
    revisionsOf: (uid) => revisions.byIndex(OWNER_UID_INDEX, uid),
    hosts,
    namespaces: new NamespaceLabels(kc.makeApiClient(CoreV1Api)),
    api: kc.makeApiClient(CustomObjectsApi),
    status: kc.makeApiClient(CustomObjectsApi),
    events,
    effects: rolloutEffects({ events, countRollout: metrics.rollout }),
    fieldManager: `dockyard-${DOCKERSERVICE_CONTROLLER}-controller`,
    observeAvailable: metrics.available,
  });
  const owned = enqueueForOwner<DockerContainer>('DockerService', { group: GROUP, onlyController: true });
  const allServices = () =>
    services.list().map((s) => ({ namespace: s.metadata.namespace ?? '', name: s.metadata.name }));
  manager
    .createController({
      name: DOCKERSERVICE_CONTROLLER,
      reconciler,
      maxConcurrentReconciles: deps.maxConcurrentReconciles,
    })
    .watch(services, enqueueForObject(), { updatePredicate: specOrMetadataChanged })
    // A replica's status is what the rollout reads: every change of it counts.
    .watch(containers, owned)
    .watch(revisions, enqueueForOwner('DockerService', { group: GROUP, onlyController: true }))
    .watch(hosts, enqueueMapped<DockerHost>(allServices), { updatePredicate: hostPlacementChanged });
  return { services };
}
