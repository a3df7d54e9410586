// Revisions: each template a service has run is kept as an apps/v1
// ControllerRevision (as a StatefulSet or DaemonSet keeps its own), owned by
// the service, named <service>-<hash>, so a rollback has the exact template
// it goes back to. Pure: the reconciler does the writes.
import type { V1ControllerRevision } from '@kubernetes/client-node';
import type { ContainerTemplate, DockerService } from '../../crds/dockerservice.js';
import { specHash } from '../../docker/spec-hash.js';
import { controllerReference } from './replica-object.js';
import { SERVICE_LABELS } from './types.js';

export const CONTROLLER_REVISIONS = {
  group: 'apps',
  version: 'v1',
  plural: 'controllerrevisions',
  kind: 'ControllerRevision',
} as const;

export interface RevisionRecord {
  name: string;
  hash: string;
  revision: number;
  template: ContainerTemplate | undefined;
}

/** The revision of a template: the same template always hashes the same. */
export function templateHash(template: ContainerTemplate): string {
  return specHash(template);
}

export function revisionRecord(obj: V1ControllerRevision): RevisionRecord | undefined {
  const hash = obj.metadata?.labels?.[SERVICE_LABELS.revision];
  if (!hash || !obj.metadata?.name) return undefined;
  const data = obj.data as { template?: ContainerTemplate } | undefined;
  return { name: obj.metadata.name, hash, revision: obj.revision, template: data?.template };
}

/** The ControllerRevision to create for a template not recorded yet: one number above the newest. */
export function newRevision(opts: {
  service: DockerService;
  hash: string;
  template: ContainerTemplate;
  existing: readonly RevisionRecord[];
}): V1ControllerRevision {
  const { service, hash } = opts;
  const newest = Math.max(0, ...opts.existing.map((r) => r.revision));
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${service.metadata.name}-${hash.slice(0, 10)}`,
      namespace: service.metadata.namespace ?? '',
      labels: { [SERVICE_LABELS.service]: service.metadata.name, [SERVICE_LABELS.revision]: hash },
      ownerReferences: [controllerReference(service)],
    },
    data: { template: opts.template },
    revision: newest + 1,
  };
}

/**
 * The revisions beyond the history limit, oldest first; never one the
 * service still needs (the spec's, the target, the stable ones a rollback
 * goes to).
 */
export function revisionsToPrune(opts: {
  records: readonly RevisionRecord[];
  limit: number;
  keep: ReadonlySet<string>;
}): RevisionRecord[] {
  const newestFirst = [...opts.records].sort((a, b) => b.revision - a.revision);
  return newestFirst
    .slice(opts.limit)
    .filter((r) => !opts.keep.has(r.hash))
    .reverse();
}
