// A small custom resource for runtime tests: `gadgets.test.dockyard.io`,
// namespaced, with a status subresource. A gadget's spec holds one number; a
// converged gadget's status echoes it with the generation it was read at.

import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { customResourceListWatcher, type KubeListWatcher } from '../../src/runtime/kube-list-watcher.js';
import type { ResourceType } from '../../src/runtime/object-ref.js';

export const GADGETS: ResourceType & { kind: string; resource: string } = {
  group: 'test.dockyard.io',
  version: 'v1',
  plural: 'gadgets',
  kind: 'Gadget',
  resource: 'gadgets.test.dockyard.io',
};

export interface GadgetSpec {
  value: number;
}

export interface GadgetStatus {
  observedGeneration?: number;
  value?: number;
  /** The identity of the process whose reconcile wrote this status (leader election tests). */
  reconciledBy?: string;
}

export interface Gadget extends KubernetesObject {
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string; namespace: string };
  spec: GadgetSpec;
  status?: GadgetStatus;
}

const gadgetsCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: GADGETS.resource },
  spec: {
    group: GADGETS.group,
    scope: 'Namespaced',
    names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
    versions: [
      {
        name: GADGETS.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['value'],
                properties: { value: { type: 'integer' } },
              },
              status: {
                type: 'object',
                properties: {
                  observedGeneration: { type: 'integer' },
                  value: { type: 'integer' },
                  reconciledBy: { type: 'string' },
                },
              },
            },
          },
        },
      },
    ],
  },
};

/** Applies the CRD, waits for Established, and absorbs kube-apiserver's ~2 s first-create delay. */
export async function installGadgetCrd(kc: KubeConfig): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
    {
      group: 'apiextensions.k8s.io',
      version: 'v1',
      plural: 'customresourcedefinitions',
      name: GADGETS.resource,
      body: gadgetsCrd,
      fieldManager: 'dockyard-test',
      force: true,
    },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const crd = await ext.readCustomResourceDefinition({ name: GADGETS.resource });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
    if (Date.now() > deadline) throw new Error(`${GADGETS.resource} not Established after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The API server holds creates for a CRD established less than ~2 s ago; pay that here, once.
  await new GadgetClient(kc, 'default').create('warm-up', 0, { dryRun: true });
}

/** Gadget CRUD in one namespace, through CustomObjectsApi (bodies are sent as they are). */
export class GadgetClient {
  readonly api: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  private get where() {
    return {
      group: GADGETS.group,
      version: GADGETS.version,
      plural: GADGETS.plural,
      namespace: this.namespace,
    };
  }

  async create(name: string, value: number, opts: { dryRun?: boolean } = {}): Promise<Gadget> {
    const body = {
      apiVersion: `${GADGETS.group}/${GADGETS.version}`,
      kind: GADGETS.kind,
      metadata: { name, namespace: this.namespace },
      spec: { value },
    };
    return (await this.api.createNamespacedCustomObject({
      ...this.where,
      body,
      ...(opts.dryRun ? { dryRun: 'All' } : {}),
    })) as Gadget;
  }

  /** Sets spec.value (a merge patch, so no resourceVersion is involved). */
  async setValue(name: string, value: number): Promise<Gadget> {
    return this.mergePatch(name, { spec: { value } });
  }

  /** Changes the object without touching spec (so no new generation): makes cached copies stale. */
  async touch(name: string): Promise<Gadget> {
    return this.mergePatch(name, {
      metadata: { annotations: { 'test.dockyard.io/touched': String(Date.now()) } },
    });
  }

  async mergePatch(name: string, body: object): Promise<Gadget> {
    return (await this.api.patchNamespacedCustomObject(
      { ...this.where, name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Gadget;
  }

  /** Replaces the whole object: fails with 409 when `gadget`'s resourceVersion is not the latest. */
  async replace(gadget: Gadget): Promise<Gadget> {
    return (await this.api.replaceNamespacedCustomObject({
      ...this.where,
      name: gadget.metadata.name,
      body: gadget,
    })) as Gadget;
  }

  async delete(name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({ ...this.where, name });
  }

  async get(name: string): Promise<Gadget> {
    return (await this.api.getNamespacedCustomObject({ ...this.where, name })) as Gadget;
  }

  async list(): Promise<Gadget[]> {
    const list = (await this.api.listNamespacedCustomObject(this.where)) as { items: Gadget[] };
    return list.items;
  }
}

export function isConverged(gadget: Gadget): boolean {
  return (
    gadget.status?.observedGeneration === gadget.metadata.generation &&
    gadget.status?.value === gadget.spec.value
  );
}

/** The runtime's real list/watch transport for gadgets in `namespace`. */
export function gadgetListWatcher(
  kc: KubeConfig,
  namespace: string,
  options: { timeoutSeconds?: number; pageSize?: number } = {},
): KubeListWatcher<Gadget> {
  return customResourceListWatcher<Gadget>(kc, { ...GADGETS, namespace }, options);
}

export async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}
