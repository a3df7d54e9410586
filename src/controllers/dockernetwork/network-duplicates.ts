import type { ObservedNetwork } from '../../docker/network-client.js';
import { ownership, type Ownership } from '../../managed/ownership.js';

export interface SortedNetworks {
  /** Our network with the wanted name: the one recorded in status, else the oldest. */
  keeper?: ObservedNetwork;
  /** Networks with the wanted name that are not ours (never touched). */
  conflicting: ObservedNetwork[];
  /** Ours with the wanted name besides the keeper (racing creates on Engine < 25). */
  duplicates: ObservedNetwork[];
  /** Ours under another name (spec.networkName changed). */
  renamed: ObservedNetwork[];
}

/** Nanosecond-exact order of Docker's RFC 3339 timestamps (Date keeps only milliseconds). */
export function createdOrder(a: string, b: string): number {
  const key = (s: string): [number, string] => {
    const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(s);
    if (!m) return [Date.parse(s) || 0, ''];
    return [Date.parse(`${m[1]}${m[3]}`) || 0, (m[2] ?? '').padEnd(9, '0')];
  };
  const [sa, fa] = key(a);
  const [sb, fb] = key(b);
  return sa - sb || (fa < fb ? -1 : fa > fb ? 1 : 0);
}

/**
 * Pure: sorts what observe() found for one DockerNetwork on one host. Two
 * networks of ours with the same name can exist (Engine 20.10 lets racing
 * creates through); the one in status wins, else the oldest (ties by id), so
 * every reconcile picks the same one.
 */
export function sortNetworks(
  networks: readonly ObservedNetwork[],
  want: { name: string; uid: string; statusId?: string | undefined },
): SortedNetworks {
  const ours = networks.filter((n) => ownership(n.labels, { uid: want.uid }) === 'ours');
  const named = ours
    .filter((n) => n.name === want.name)
    .sort((a, b) => createdOrder(a.created, b.created) || a.id.localeCompare(b.id));
  const keeper = named.find((n) => n.id === want.statusId) ?? named[0];
  return {
    ...(keeper ? { keeper } : {}),
    conflicting: networks.filter(
      (n) => n.name === want.name && ownership(n.labels, { uid: want.uid }) !== 'ours',
    ),
    duplicates: named.filter((n) => n !== keeper),
    renamed: ours.filter((n) => n.name !== want.name),
  };
}

/** 'foreign' outranks 'otherOwner': a network without Dockyard's labels is the stronger claim to report. */
export function conflictOwnership(
  conflicting: readonly ObservedNetwork[],
  uid: string,
): Ownership | undefined {
  const kinds = conflicting.map((n) => ownership(n.labels, { uid }));
  if (kinds.includes('foreign')) return 'foreign';
  return kinds.includes('otherOwner') ? 'otherOwner' : undefined;
}

/**
 * Containers attached to a network, for a message to this namespace's
 * tenant: a name of another namespace's default form (`<namespace>.<name>`)
 * is only counted, since it names that tenant's namespace and object (item
 * 7 of the safety issue); other names (this namespace's, hand-made) are shown.
 */
export function describeAttached(names: readonly string[], namespace: string, max = 5): string {
  const shown = names.filter((n) => !otherNamespaceDefault(n, namespace));
  const others = names.length - shown.length;
  const parts = shown.length > 0 ? [describeContainers(shown, max)] : [];
  if (others > 0) parts.push(`${others} container${others === 1 ? '' : 's'} of other namespaces`);
  return parts.join(' and ');
}

function otherNamespaceDefault(name: string, namespace: string): boolean {
  const dot = name.indexOf('.');
  if (dot < 0) return false;
  const prefix = name.slice(0, dot);
  return prefix !== namespace && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(prefix);
}

/** `a, b and 2 more`: container names for messages, bounded. */
export function describeContainers(names: readonly string[], max = 5): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
