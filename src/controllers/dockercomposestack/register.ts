// Wires the DockerComposeStack controller: its informer, the reconciler, and
// what wakes a stack: itself, and any Dockyard resource it controls (their
// status is its status). The DockerNetwork, DockerVolume, DockerContainer and
// DockerService informers are the ones the other controllers already keep.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { DockerComposeStack } from '../../crds/dockercomposestack.js';
import { GROUP } from '../../crds/kit.js';
import type { ControllerDeps } from '../../managed/controller-deps.js';
import { enqueueForObject, enqueueForOwner } from '../../runtime/enqueue.js';
import type { Informer } from '../../runtime/informer.js';
import { customResourceListWatcher } from '../../runtime/kube-list-watcher.js';
import { specOrMetadataChanged } from '../../runtime/predicates.js';
import { isNotFound } from '../../runtime/api-errors.js';
import { controlledBy, type CoreRef } from './children.js';
import type { OwnedResource } from './stack-status.js';
import { STACKS, StackReconciler } from './stack-reconciler.js';

export const DOCKERCOMPOSESTACK_CONTROLLER = 'dockercomposestack';

export function registerDockerComposeStackController(opts: {
  deps: ControllerDeps;
  /** The informers of the Dockyard kinds a stack owns. */
  owned: ReadonlyArray<Informer<OwnedResource>>;
}): void {
  const { deps, owned } = opts;
  const { kc, manager } = deps;
  const namespace = deps.watchNamespace ? { namespace: deps.watchNamespace } : {};
  const stacks = manager.createInformer<DockerComposeStack>({
    resource: `${STACKS.plural}.${GROUP}`,
    listWatcher: customResourceListWatcher<DockerComposeStack>(kc, {
      ...STACKS,
      kind: 'DockerComposeStack',
      ...namespace,
    }),
    ...(deps.syncPeriodMs !== undefined ? { resyncPeriodMs: deps.syncPeriodMs } : {}),
  });
  const core = kc.makeApiClient(CoreV1Api);
  const controlled = (stack: DockerComposeStack) => (o: KubernetesObject) =>
    controlledBy(o, stack.metadata.uid ?? '');
  const reconciler = new StackReconciler({
    stacks,
    ownedResources: (stack) =>
      owned.flatMap((informer) => informer.list(stack.metadata.namespace).filter(controlled(stack))),
    // Read by name, never listed: the controller may get Secrets, not list them.
    ownedCoreObjects: async (stack, refs) => {
      const namespace = stack.metadata.namespace ?? '';
      const found = await Promise.all(refs.map((ref) => readCoreObject(core, { ...ref, namespace })));
      return found.filter((o): o is KubernetesObject => o !== undefined).filter(controlled(stack));
    },
    core,
    objects: KubernetesObjectApi.makeApiClient(kc),
    status: kc.makeApiClient(CustomObjectsApi),
    events: manager.eventRecorderFor(DOCKERCOMPOSESTACK_CONTROLLER),
    fieldManager: `dockyard-${DOCKERCOMPOSESTACK_CONTROLLER}-controller`,
  });
  const controller = manager
    .createController({
      name: DOCKERCOMPOSESTACK_CONTROLLER,
      reconciler,
      maxConcurrentReconciles: deps.maxConcurrentReconciles,
    })
    .watch(stacks, enqueueForObject(), { updatePredicate: specOrMetadataChanged });
  for (const informer of owned) {
    controller.watch(informer, enqueueForOwner('DockerComposeStack', { group: GROUP, onlyController: true }));
  }
}

async function readCoreObject(
  core: CoreV1Api,
  ref: CoreRef & { namespace: string },
): Promise<KubernetesObject | undefined> {
  try {
    const args = { name: ref.name, namespace: ref.namespace };
    const found =
      ref.kind === 'Secret'
        ? await core.readNamespacedSecret(args)
        : await core.readNamespacedConfigMap(args);
    return { ...found, kind: ref.kind, apiVersion: 'v1' };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
