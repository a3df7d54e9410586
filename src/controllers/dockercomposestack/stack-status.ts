// A DockerComposeStack's status from one reconcile's findings. Pure.
//
//   found                                   Ready    reason                  also
//   --------------------------------------  -------  ----------------------  ----------------
//   every resource Ready                    True     Converged
//   some still starting (or waiting)        Unknown  ResourcesNotReady       Reconciling=True
//   one failed (its Ready=False reason)     False    ResourcesFailed         Reconciling=True
//   files do not load / unsupported keys /  False    InvalidCompose,         Stalled=True
//     a name taken by another resource               UnsupportedComposeKeys,
//                                                    ResourceConflict
//   ConfigMap missing                       False    ConfigMapNotFound       Reconciling=True
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DockerComposeStack, DockerComposeStackStatus } from '../../crds/dockercomposestack.js';
import type { Condition } from '../../crds/kit.js';
import { Reason, WAITING_REASONS } from '../../crds/reasons.js';
import { markReady, markReconciling, markRetrying, markStalled } from '../../runtime/conditions.js';
import { SERVICE_LABEL } from '../../compose/convert.js';

/** A Dockyard resource the stack owns, as its cache shows it. */
export type OwnedResource = KubernetesObject & {
  metadata: { name: string };
  status?: { conditions?: Condition[]; observedGeneration?: number };
};

export type StackProblem =
  | {
      reason:
        typeof Reason.InvalidCompose | typeof Reason.UnsupportedComposeKeys | typeof Reason.ResourceConflict;
      message: string;
    }
  | { reason: typeof Reason.ConfigMapNotFound; message: string };

export interface StackFindings {
  stack: DockerComposeStack;
  /** What stopped the stack before its resources (the last good ones are kept). */
  problem?: StackProblem;
  projectName?: string;
  projectHash?: string;
  /** The Dockyard resources it owns (not ConfigMaps and Secrets, which have no status). */
  resources: OwnedResource[];
  /** Every resource the stack owns, ConfigMaps and Secrets included. */
  inventory: Array<{ kind: string; name: string }>;
  unsupportedKeys: string[];
  now: Date;
}

type Health = 'True' | 'False' | 'Unknown';

interface ResourceHealth {
  resource: OwnedResource;
  ready: Health;
  reason: string | undefined;
  failed: boolean;
}

const WAITING: ReadonlySet<string> = new Set(WAITING_REASONS);

function healthOf(resource: OwnedResource): ResourceHealth {
  const ready = resource.status?.conditions?.find((c) => c.type === 'Ready');
  const stalled =
    resource.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True') ?? false;
  // A status from before the last spec change says nothing about the new spec yet.
  const current = (resource.status?.observedGeneration ?? -1) === (resource.metadata.generation ?? 0);
  const status: Health = current && ready ? ready.status : 'Unknown';
  const failed = current && (stalled || (status === 'False' && !WAITING.has(ready?.reason ?? '')));
  return { resource, ready: status, reason: current ? ready?.reason : undefined, failed };
}

const describeResource = (h: ResourceHealth) =>
  `${h.resource.kind} ${h.resource.metadata.name}${h.reason ? ` (${h.reason})` : ''}`;

function services(health: ResourceHealth[]): NonNullable<DockerComposeStackStatus['services']> {
  return health
    .filter((h) => h.resource.kind === 'DockerContainer' || h.resource.kind === 'DockerService')
    .map((h) => ({
      name: h.resource.metadata.labels?.[SERVICE_LABEL] ?? h.resource.metadata.name,
      kind: h.resource.kind as 'DockerContainer' | 'DockerService',
      resource: h.resource.metadata.name,
      ready: h.ready,
      ...(h.reason ? { reason: h.reason } : {}),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function conditionsFor(f: StackFindings, health: ResourceHealth[]): Condition[] {
  const before = f.stack.status?.conditions;
  const generation = f.stack.metadata.generation;
  const detail = (reason: string, message: string) => ({ reason, message, observedGeneration: generation });
  if (f.problem) {
    const d = detail(f.problem.reason, f.problem.message);
    return f.problem.reason === Reason.ConfigMapNotFound
      ? markRetrying(before, d, f.now)
      : markStalled(before, d, f.now);
  }
  const failed = health.filter((h) => h.failed);
  if (failed.length > 0) {
    return markRetrying(
      before,
      detail(Reason.ResourcesFailed, `failed: ${failed.map(describeResource).join(', ')}`),
      f.now,
    );
  }
  const waiting = health.filter((h) => h.ready !== 'True');
  if (waiting.length > 0) {
    const message = `${health.length - waiting.length}/${health.length} resources Ready; waiting for ${waiting.map(describeResource).join(', ')}`;
    return markReconciling(before, detail(Reason.ResourcesNotReady, message), f.now);
  }
  return markReady(before, detail(Reason.Converged, `all ${health.length} resources Ready`), f.now);
}

export function stackStatus(f: StackFindings): DockerComposeStackStatus {
  const health = f.resources.map(healthOf);
  const serviceList = services(health);
  const previous = f.stack.status ?? {};
  return {
    observedGeneration: f.stack.metadata.generation,
    conditions: conditionsFor(f, health),
    // After a problem the last good project's facts stay: its resources still run.
    projectName: f.projectName ?? previous.projectName,
    projectHash: f.projectHash ?? previous.projectHash,
    services: f.problem ? (previous.services ?? serviceList) : serviceList,
    readySummary: `${serviceList.filter((s) => s.ready === 'True').length}/${serviceList.length}`,
    resources: f.inventory.length,
    inventory: [...f.inventory].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`)),
    ...(f.unsupportedKeys.length > 0 ? { unsupportedKeys: f.unsupportedKeys } : {}),
  };
}
