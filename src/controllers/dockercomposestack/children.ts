// The resources a stack owns: the converted manifests stamped with the
// stack's controller ownerReference and label, and the plan that brings what
// exists to them. Pure.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { DockerComposeStack } from '../../crds/dockercomposestack.js';
import { API_VERSION } from '../../crds/kit.js';
import type { Manifest } from '../../compose/convert.js';

/** On every resource a stack owns: which stack (ownerReferences say it too; a label can be selected on). */
export const STACK_LABEL = 'compose.dockyard.io/stack';

/** The kinds a stack may own, in the order they are created (what others use first). */
export const CHILD_KINDS = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: API_VERSION, kind: 'DockerNetwork' },
  { apiVersion: API_VERSION, kind: 'DockerVolume' },
  { apiVersion: API_VERSION, kind: 'DockerContainer' },
  { apiVersion: API_VERSION, kind: 'DockerService' },
] as const;

/** A ConfigMap or Secret by name: they have no informer, so the stack reads them one by one. */
export interface CoreRef {
  kind: 'ConfigMap' | 'Secret';
  name: string;
}

export const isCoreKind = (kind: string | undefined): kind is CoreRef['kind'] =>
  kind === 'ConfigMap' || kind === 'Secret';

/** The ConfigMaps and Secrets to read: those the project wants and those the inventory says the stack made. */
export function coreRefs(
  desired: readonly KubernetesObject[],
  inventory: ReadonlyArray<{ kind: string; name: string }>,
): CoreRef[] {
  const refs = new Map<string, CoreRef>();
  for (const { kind, name } of [
    ...desired.map((d) => ({ kind: d.kind ?? '', name: d.metadata?.name ?? '' })),
    ...inventory,
  ]) {
    if (isCoreKind(kind)) refs.set(`${kind}/${name}`, { kind, name });
  }
  return [...refs.values()];
}

export type Child = KubernetesObject & { metadata: { name: string; namespace: string } };

/** kind/name: a stack's children are all in its namespace. */
export const childKey = (c: KubernetesObject) => `${c.kind ?? ''}/${c.metadata?.name ?? ''}`;

/** The manifests as the stack's children: its label, and it as their controller (garbage collection). */
export function desiredChildren(stack: DockerComposeStack, manifests: readonly Manifest[]): Child[] {
  const owner = {
    apiVersion: API_VERSION,
    kind: 'DockerComposeStack',
    name: stack.metadata.name,
    uid: stack.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
  return manifests.map((m) => ({
    ...m,
    metadata: {
      ...m.metadata,
      labels: { ...m.metadata.labels, [STACK_LABEL]: stack.metadata.name },
      ownerReferences: [owner],
    },
  }));
}

/** Whether `obj` is controlled by the stack with `uid`. */
export function controlledBy(obj: KubernetesObject, uid: string): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

export type ChildAction =
  | { type: 'create'; child: Child }
  | { type: 'apply'; child: Child }
  | { type: 'delete'; child: KubernetesObject };

/**
 * What to do: create what is missing, apply what exists (server-side apply
 * changes nothing when nothing changed), delete what the project no longer
 * has. Deletions come last, in reverse kind order (containers before the
 * networks and volumes they use).
 */
export function planChildren(desired: readonly Child[], owned: readonly KubernetesObject[]): ChildAction[] {
  const existing = new Set(owned.map(childKey));
  const wanted = new Set(desired.map(childKey));
  const order = (kind: string | undefined) => CHILD_KINDS.findIndex((k) => k.kind === kind);
  const deletions = owned
    .filter((o) => !wanted.has(childKey(o)))
    .sort((a, b) => order(b.kind) - order(a.kind) || childKey(a).localeCompare(childKey(b)))
    .map((child) => ({ type: 'delete' as const, child }));
  return [
    ...desired.map((child) =>
      existing.has(childKey(child)) ? { type: 'apply' as const, child } : { type: 'create' as const, child },
    ),
    ...deletions,
  ];
}
