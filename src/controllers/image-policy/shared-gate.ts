import type { CoreV1Api } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { KubeRefReader } from '../dockercontainer/env-resolver.js';
import { ImagePolicyGate } from './image-policy-gate.js';
import { createImagePolicyMetrics } from './image-policy-metrics.js';
import { SignerMaterials } from './signer-materials.js';

const perScope = new WeakMap<object, ImagePolicyGate>();

/**
 * The one gate of a process, shared by the DockerImage and DockerContainer
 * kinds (keyed by an object they share, the HostRuntime): one verification
 * cache, one set of metrics.
 */
export function imagePolicyGateFor(
  scope: object,
  deps: { core: Pick<CoreV1Api, 'readNamespacedSecret' | 'readNamespacedConfigMap'>; registry: Registry },
): ImagePolicyGate {
  let gate = perScope.get(scope);
  if (!gate) {
    gate = new ImagePolicyGate({
      materials: new SignerMaterials((namespace) => new KubeRefReader(deps.core, namespace)),
      metrics: createImagePolicyMetrics(deps.registry),
    });
    perScope.set(scope, gate);
  }
  return gate;
}
