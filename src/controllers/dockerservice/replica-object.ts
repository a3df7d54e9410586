// The DockerContainer object of one replica, and the owner reference that
// makes it the service's (garbage collected with it, like a Deployment's
// Pods). Pure.
import { createHash } from 'node:crypto';
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { ContainerTemplate, DockerService } from '../../crds/dockerservice.js';
import { API_VERSION } from '../../crds/kit.js';
import { PLACEMENT_HASH_ANNOTATION, SERVICE_LABELS, SLOT_ANNOTATION } from './types.js';

/**
 * How much of the service's name a replica's name keeps: the Docker
 * container is named <namespace>.<replica> (at most 128 characters), and a
 * namespace is at most 63.
 */
const SERVICE_NAME_PREFIX = 40;

/** Deterministic: the same revision in the same slot on the same host is the same object, so a retried create is a no-op. */
export function replicaName(opts: { service: string; revision: string; slot: string; host: string }): string {
  const where = createHash('sha256').update(`${opts.slot}/${opts.host}`).digest('hex').slice(0, 5);
  const prefix = opts.service.slice(0, SERVICE_NAME_PREFIX).replace(/[-.]+$/, '');
  return `${prefix}-${opts.revision.slice(0, 8)}-${where}`;
}

export function controllerReference(service: DockerService): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'DockerService',
    name: service.metadata.name,
    uid: service.metadata.uid ?? '',
    controller: true,
  };
}

/** The UID of the DockerService that controls the object, if any. */
export function controllerUidOf(obj: {
  metadata?: { ownerReferences?: V1OwnerReference[] };
}): string | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true && r.kind === 'DockerService')?.uid;
}

export interface ReplicaObjectInput {
  service: DockerService;
  template: ContainerTemplate;
  revision: string;
  slot: string;
  host: string;
  /** Hash of the service's hostSelector it is placed under. */
  placementHash: string;
}

export function replicaObject(input: ReplicaObjectInput): DockerContainer {
  const { service, template, revision, slot, host } = input;
  return {
    apiVersion: API_VERSION,
    kind: 'DockerContainer',
    metadata: {
      name: replicaName({ service: service.metadata.name, revision, slot, host }),
      namespace: service.metadata.namespace ?? '',
      labels: {
        ...(template.metadata?.labels ?? {}),
        [SERVICE_LABELS.service]: service.metadata.name,
        [SERVICE_LABELS.revision]: revision,
      },
      annotations: {
        ...(template.metadata?.annotations ?? {}),
        [SLOT_ANNOTATION]: slot,
        [PLACEMENT_HASH_ANNOTATION]: input.placementHash,
      },
      ownerReferences: [controllerReference(service)],
    },
    // Every replica is removed when the rollout replaces it: a container left
    // behind (Orphan) would run next to its replacement.
    spec: { ...template.spec, hostName: host, deletionPolicy: 'Delete' },
  };
}
