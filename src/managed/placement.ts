import type { DockerHost } from '../crds/dockerhost.js';
import type { LabelSelector } from '../crds/kit.js';
import { matchesSelector } from '../policy/label-selector.js';
import { admitNamespace } from '../policy/namespace-admission.js';

export interface PlacementSpec {
  hostName?: string;
  hostSelector?: LabelSelector;
}

export interface Refusal {
  host: string;
  reason: 'HostNotFound' | 'NamespaceNotAllowed' | 'HostUnschedulable';
  message: string;
}

export interface Placement {
  /** Hosts the object must exist on, sorted by name. */
  placed: DockerHost[];
  /** Hosts named or matched that will not take it, with why. */
  refused: Refusal[];
  /** Hosts it was on before and must now be removed from (per deletionPolicy). */
  removed: string[];
}

/**
 * Where an object goes. Pure. A named or matching host takes the object when
 * it admits the namespace and is schedulable; an unschedulable host keeps what
 * it already has (like a cordoned node keeps its pods).
 */
export function resolvePlacement(
  spec: PlacementSpec,
  namespace: string,
  namespaceLabels: Record<string, string> | undefined,
  hosts: readonly DockerHost[],
  previouslyPlaced: readonly string[],
): Placement {
  const before = new Set(previouslyPlaced);
  const refused: Refusal[] = [];
  let candidates: DockerHost[];
  if (spec.hostName !== undefined) {
    const host = hosts.find((h) => h.metadata.name === spec.hostName);
    if (!host) {
      refused.push({
        host: spec.hostName,
        reason: 'HostNotFound',
        message: `DockerHost ${spec.hostName} does not exist`,
      });
    }
    candidates = host ? [host] : [];
  } else {
    candidates = hosts.filter((h) => matchesSelector(spec.hostSelector, h.metadata.labels ?? {}));
  }
  const placed: DockerHost[] = [];
  for (const host of candidates) {
    const name = host.metadata.name;
    if (host.metadata.deletionTimestamp) continue;
    const admission = admitNamespace(name, host.spec, namespace, namespaceLabels);
    if (!admission.allowed) {
      refused.push({ host: name, reason: admission.reason, message: admission.message });
    } else if (host.spec.unschedulable && !before.has(name)) {
      refused.push({
        host: name,
        reason: 'HostUnschedulable',
        message: `DockerHost ${name} is unschedulable`,
      });
    } else {
      placed.push(host);
    }
  }
  placed.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const placedNames = new Set(placed.map((h) => h.metadata.name));
  const existing = new Set(hosts.map((h) => h.metadata.name));
  // A host that was deleted altogether is not "removed from": there is nothing left to clean up through.
  const removed = previouslyPlaced.filter((h) => !placedNames.has(h) && existing.has(h)).sort();
  return { placed, refused, removed };
}
