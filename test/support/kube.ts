import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ALL_KINDS } from '../../src/crds/index.js';
import type { Condition } from '../../src/crds/kit.js';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { isNotFound } from '../../src/runtime/api-errors.js';
import type { Lab } from './lab.js';

export interface DockyardObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  spec: Record<string, unknown>;
  status?: {
    conditions?: Condition[];
    observedGeneration?: number;
    hostsReady?: string;
    phase?: string;
    hosts?: Array<Record<string, unknown> & { name: string; phase: string }>;
  };
}

/** Thin typed access to Dockyard objects through the real API server. */
export class Kube {
  readonly api: CustomObjectsApi;
  readonly core: CoreV1Api;

  constructor(readonly cp: ControlPlane) {
    this.api = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    this.core = cp.kubeConfig().makeApiClient(CoreV1Api);
  }

  private plural(kind: string): { plural: string; namespaced: boolean } {
    const def = ALL_KINDS.find((d) => d.kind === kind);
    if (!def) throw new Error(`unknown kind ${kind}`);
    return { plural: def.plural, namespaced: def.scope === 'Namespaced' };
  }

  async namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name, labels } } });
  }

  async create(
    kind: string,
    namespace: string | undefined,
    name: string,
    spec: Record<string, unknown>,
    meta: Partial<DockyardObject['metadata']> = {},
  ): Promise<DockyardObject> {
    const { plural, namespaced } = this.plural(kind);
    const body = { apiVersion: 'dockyard.io/v1alpha1', kind, metadata: { ...meta, name }, spec };
    const g = { group: 'dockyard.io', version: 'v1alpha1', plural };
    return (
      namespaced
        ? await this.api.createNamespacedCustomObject({ ...g, namespace: namespace ?? 'default', body })
        : await this.api.createClusterCustomObject({ ...g, body })
    ) as DockyardObject;
  }

  async get(kind: string, namespace: string | undefined, name: string): Promise<DockyardObject | undefined> {
    const { plural, namespaced } = this.plural(kind);
    const g = { group: 'dockyard.io', version: 'v1alpha1', plural, name };
    try {
      return (
        namespaced
          ? await this.api.getNamespacedCustomObject({ ...g, namespace: namespace ?? 'default' })
          : await this.api.getClusterCustomObject(g)
      ) as DockyardObject;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The objects of a Dockyard kind (in `namespace`, or all of a cluster-scoped kind), optionally by label. */
  async list(kind: string, namespace: string | undefined, labelSelector?: string): Promise<DockyardObject[]> {
    const { plural, namespaced } = this.plural(kind);
    const g = {
      group: 'dockyard.io',
      version: 'v1alpha1',
      plural,
      ...(labelSelector ? { labelSelector } : {}),
    };
    const res = (
      namespaced
        ? await this.api.listNamespacedCustomObject({ ...g, namespace: namespace ?? 'default' })
        : await this.api.listClusterCustomObject(g)
    ) as { items: DockyardObject[] };
    return res.items;
  }

  /** JSON merge patch on the object (spec, labels, annotations). */
  async patch(
    kind: string,
    namespace: string | undefined,
    name: string,
    body: Record<string, unknown>,
  ): Promise<void> {
    const { plural, namespaced } = this.plural(kind);
    const g = { group: 'dockyard.io', version: 'v1alpha1', plural, name, body };
    const opts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    if (namespaced)
      await this.api.patchNamespacedCustomObject({ ...g, namespace: namespace ?? 'default' }, opts);
    else await this.api.patchClusterCustomObject(g, opts);
  }

  async delete(kind: string, namespace: string | undefined, name: string): Promise<void> {
    const { plural, namespaced } = this.plural(kind);
    const g = { group: 'dockyard.io', version: 'v1alpha1', plural, name };
    if (namespaced) await this.api.deleteNamespacedCustomObject({ ...g, namespace: namespace ?? 'default' });
    else await this.api.deleteClusterCustomObject(g);
  }

  async waitFor(
    kind: string,
    namespace: string | undefined,
    name: string,
    predicate: (obj: DockyardObject) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<DockyardObject> {
    return waitFor(
      async () => {
        const obj = await this.get(kind, namespace, name);
        return obj && predicate(obj) ? obj : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `${kind} ${namespace ? `${namespace}/` : ''}${name} ${what}` },
    );
  }

  async waitForGone(
    kind: string,
    namespace: string | undefined,
    name: string,
    timeoutMs = 30_000,
  ): Promise<void> {
    await waitFor(async () => (await this.get(kind, namespace, name)) === undefined, {
      timeoutMs,
      intervalMs: 200,
      what: `${kind} ${name} to be gone`,
    });
  }
}

export function condition(obj: DockyardObject | undefined, type: string): Condition | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

export const isReady = (obj: DockyardObject) =>
  condition(obj, 'Ready')?.status === 'True' && obj.status?.observedGeneration === obj.metadata.generation;

/** DockerHosts for every lab node (labels `dockyard.io/test-node: <name>` plus extras), waited until Ready. */
/**
 * What lab hosts open up below privileged: the host ports and subnets the
 * tests use (18000-18999, 10.0.0.0/8). A real host opens only what it must.
 */
export const LAB_POLICY_SETTINGS = {
  allowedHostPorts: [{ from: 18000, to: 18999 }],
  allowedSubnets: ['10.0.0.0/8'],
};

export async function registerLabHosts(
  kube: Kube,
  lab: Lab,
  labels: Record<string, Record<string, string>> = {},
): Promise<void> {
  const direct = [...lab.nodes].filter(([, node]) => !node.unreachable);
  for (const [name, node] of direct) {
    const spec: Record<string, unknown> = {
      endpoint: node.endpoint,
      heartbeatIntervalSeconds: 2,
      securityPolicySettings: LAB_POLICY_SETTINGS,
    };
    if (node.tls) {
      await kube.core.createNamespacedSecret({
        namespace: 'default',
        body: {
          metadata: { name: `${name}-tls` },
          data: { 'ca.crt': b64(node.tls.ca), 'tls.crt': b64(node.tls.cert), 'tls.key': b64(node.tls.key) },
        },
      });
      spec.tls = { secretRef: { namespace: 'default', name: `${name}-tls` } };
    } else {
      spec.insecure = true;
    }
    await kube.create('DockerHost', undefined, name, spec, {
      labels: { 'dockyard.io/test-node': name, ...(labels[name] ?? {}) },
    });
  }
  await Promise.all(direct.map(([name]) => kube.waitFor('DockerHost', undefined, name, isReady, 'Ready')));
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
