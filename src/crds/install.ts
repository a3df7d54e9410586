import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { crdName, toCrd } from './crd-yaml.js';
import { ALL_KINDS } from './index.js';
import type { KindDefinition } from './kit.js';

const FIELD_MANAGER = 'dockyard-crd-installer';

/**
 * Server-side applies the Dockyard CRDs and waits until the API server has
 * accepted and established each (a CEL rule that does not compile, or costs
 * too much, shows up here as a clear error rather than later as a 404).
 */
export async function installCrds(
  kc: KubeConfig,
  defs: readonly KindDefinition[] = ALL_KINDS,
  timeoutMs = 60_000,
): Promise<void> {
  // The generic custom-objects client sends the body as it is. The typed
  // clients would run it through client-node's model serializer, which drops
  // JSON keys it does not know by their JSON name (enum, default,
  // x-kubernetes-validations), silently weakening the schema.
  const raw = kc.makeApiClient(CustomObjectsApi);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  for (const def of defs) {
    await raw.patchClusterCustomObject(
      {
        group: 'apiextensions.k8s.io',
        version: 'v1',
        plural: 'customresourcedefinitions',
        name: crdName(def),
        body: toCrd(def),
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      apply,
    );
  }
  const deadline = Date.now() + timeoutMs;
  for (const def of defs) {
    const name = crdName(def);
    for (;;) {
      const crd: V1CustomResourceDefinition = await ext.readCustomResourceDefinition({ name });
      const conditions = crd.status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
      const refused = conditions.find(
        (c) => c.type === 'NonStructuralSchema' || (c.type === 'NamesAccepted' && c.status === 'False'),
      );
      if (refused) throw new Error(`CRD ${name} was not accepted: ${refused.type}: ${refused.message ?? ''}`);
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
