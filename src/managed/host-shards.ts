import type { HostResult } from '../crds/kit.js';
import type { Reason } from '../crds/reasons.js';
import type { HostOutcome, HostStatusEntry } from './types.js';

// Sharding (--shards, docs/scale.md) from the generic reconciler's side. A
// replica works only on the hosts whose shard it holds; an object placed on
// hosts of several shards is reconciled by each of their replicas, each doing
// the Docker work on its own hosts and carrying the others' status entries as
// they are. So that the entries never fight:
//  - every status write is locked to the resourceVersion it was computed from
//    (a 409 retries from a fresher cache), so no replica overwrites an entry
//    written since;
//  - each entry records its outcome (`result`), and every replica summarises
//    the conditions from the same entries the same way, whoever writes last;
//  - the replica holding the object's own key's shard (its "home") speaks for
//    it while no host of it is held anywhere (unplaced, or every host's shard
//    between replicas), so its status is still written.

/** Which keys this replica works on now (runtime's ShardGate). */
export interface HostOwnership {
  owns(key: string): boolean;
  run<R>(key: string, work: () => Promise<R>): Promise<R>;
}

/** Whether this replica reconciles the object at all: it holds one of its hosts, or its home. */
export function participates(
  ownership: HostOwnership,
  o: { objectKey: string; hostNames: Iterable<string> },
): boolean {
  if (ownership.owns(o.objectKey)) return true;
  for (const host of o.hostNames) if (ownership.owns(host)) return true;
  return false;
}

/** What a host entry records of its outcome. */
export function resultOf(outcome: HostOutcome): HostResult {
  const why = outcome.stalled ?? outcome.unknown ?? outcome.failure;
  const state = outcome.ready
    ? 'Ready'
    : outcome.stalled
      ? 'Stalled'
      : outcome.unknown
        ? 'Unknown'
        : outcome.failure
          ? 'Failed'
          : 'Progressing';
  return { state, ...(why ? { reason: why.reason, message: why.message } : {}) };
}

/**
 * A host another replica works on, as its entry says: the outcome that
 * replica recorded, or Progressing while it has recorded none yet.
 */
export function carriedOutcome(host: string, entry: HostStatusEntry | undefined): HostOutcome {
  if (!entry)
    return {
      entry: { name: host, phase: 'Pending', message: `waiting for the replica holding ${host}'s shard` },
      ready: false,
    };
  const result = entry.result;
  if (!result) return { entry, ready: false };
  const why = { reason: (result.reason ?? result.state) as Reason, message: result.message ?? '' };
  switch (result.state) {
    case 'Ready':
      return { entry, ready: true };
    case 'Stalled':
      return { entry, ready: false, stalled: why };
    case 'Unknown':
      return { entry, ready: false, unknown: why };
    case 'Failed':
      return { entry, ready: false, failure: why };
    case 'Progressing':
      return { entry, ready: false };
  }
}
