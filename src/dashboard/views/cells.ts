// Small pieces every view builds rows from. Pure.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { ConditionCell } from './types.js';

/** What the views read of any Dockyard object: conditions and per-host entries. */
export interface StatusLike {
  conditions?: Array<{
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
  }>;
  hosts?: Array<{ name: string; phase: string; message?: string; lastUpdateTime?: string }>;
  phase?: string;
  hostsReady?: string;
}

export type DockyardObject = KubernetesObject & { spec?: Record<string, unknown>; status?: StatusLike };

const STATUSES = new Set(['True', 'False', 'Unknown']);

/** The condition `type` as a cell; Unknown with no reason when the object has none yet. */
export function conditionCell(status: StatusLike | undefined, type: string): ConditionCell {
  const c = status?.conditions?.find((x) => x.type === type);
  if (!c) return { status: 'Unknown' };
  return {
    status: STATUSES.has(c.status) ? (c.status as ConditionCell['status']) : 'Unknown',
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
    ...(c.lastTransitionTime ? { since: c.lastTransitionTime } : {}),
  };
}

/** namespace/name, or name for a cluster-scoped object: the key rows and links use. */
export function objectKey(kind: string, obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return `${kind}/${ns ? `${ns}/` : ''}${obj.metadata?.name ?? ''}`;
}

/** The controller owner (a DockerService or DockerComposeStack), if any. */
export function controllerOwner(obj: KubernetesObject): { kind: string; name: string } | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller) ?? obj.metadata?.ownerReferences?.[0];
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

/** An RFC 3339 time of any of the shapes the client hands back (string or Date). */
export function timeText(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return typeof value === 'string' && value !== '' ? value : undefined;
}
