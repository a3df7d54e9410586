import type { Condition } from '../crds/kit.js';
import {
  markReady,
  markReconciling,
  markRetrying,
  markStalled,
  removeCondition,
  setCondition,
} from '../runtime/conditions.js';
import type { Mismatch, Refusal } from './placement.js';
import type { HostOutcome } from './types.js';

export interface Summary {
  conditions: Condition[];
  hostsReady: string;
  phase: string;
}

function describeHosts(items: Array<{ host: string; text: string }>): string {
  return items.map((i) => `${i.host}: ${i.text}`).join('; ');
}

/** The condition that says an object stays on hosts it would not be placed on today. */
export const PLACEMENT_MATCHED = 'PlacementMatched';

/**
 * PlacementMatched=False while the object is kept on hosts that no longer
 * match (IgnoredDuringExecution), with the first reason and every host named;
 * absent otherwise. It is informational: Ready, Reconciling and Stalled (what
 * kstatus, Flux and Argo CD read) are decided without it, so a relabelled
 * host never turns a running object unhealthy.
 */
export function withPlacementMatched(
  conditions: readonly Condition[],
  kept: readonly Mismatch[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  if (kept.length === 0) return removeCondition(conditions, PLACEMENT_MATCHED);
  return setCondition(
    conditions,
    {
      type: PLACEMENT_MATCHED,
      status: 'False',
      reason: kept[0]?.reason ?? 'HostNoLongerMatches',
      message: describeHosts(kept.map((k) => ({ host: k.host, text: k.message }))),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    },
    now,
  );
}

/**
 * The object's Ready/Reconciling/Stalled conditions and printer summary from
 * its per-host outcomes. Pure. Ready only when every placed host is done; the
 * message names the hosts that are not. Hosts kept although they no longer
 * match count like any placed host, and add PlacementMatched=False.
 */
export function summarize(
  outcomes: ReadonlyArray<{ host: string; outcome: HostOutcome }>,
  refused: readonly Refusal[],
  pendingRemoval: ReadonlyArray<string | { host: string; message: string }>,
  generation: number | undefined,
  previous: readonly Condition[] | undefined,
  now: Date,
  kept: readonly Mismatch[] = [],
): Summary {
  const base = summarizeReadiness(outcomes, refused, pendingRemoval, generation, previous, now);
  const note =
    kept.length > 0 && base.conditions.some((c) => c.type === 'Ready' && c.status === 'True')
      ? `; kept on ${kept.map((k) => `${k.host} (${k.reason})`).join(', ')}`
      : '';
  const conditions = note
    ? base.conditions.map((c) => (c.type === 'Ready' ? { ...c, message: c.message + note } : c))
    : base.conditions;
  return { ...base, conditions: withPlacementMatched(conditions, kept, generation, now) };
}

function summarizeReadiness(
  outcomes: ReadonlyArray<{ host: string; outcome: HostOutcome }>,
  refused: readonly Refusal[],
  pendingRemoval: ReadonlyArray<string | { host: string; message: string }>,
  generation: number | undefined,
  previous: readonly Condition[] | undefined,
  now: Date,
): Summary {
  const gen = generation !== undefined ? { observedGeneration: generation } : {};
  const total = outcomes.length;
  const ready = outcomes.filter((o) => o.outcome.ready);
  const hostsReady = `${ready.length}/${total}`;
  const notReady = outcomes.filter((o) => !o.outcome.ready);
  const stalled = notReady.filter((o) => o.outcome.stalled);
  const failed = notReady.filter((o) => o.outcome.failure && !o.outcome.stalled);
  const phase =
    total === 0
      ? 'Unplaced'
      : notReady.length === 0
        ? 'Ready'
        : (notReady[0]?.outcome.entry.phase ?? 'Pending');

  if (stalled.length > 0) {
    const first = stalled[0]?.outcome.stalled;
    const message = describeHosts(
      stalled.map((s) => ({ host: s.host, text: s.outcome.stalled?.message ?? '' })),
    );
    return {
      conditions: markStalled(previous, { reason: first?.reason ?? 'Stalled', message, ...gen }, now),
      hostsReady,
      phase,
    };
  }
  if (total === 0) {
    const why =
      refused.length > 0
        ? describeHosts(refused.map((r) => ({ host: r.host, text: r.message })))
        : 'no DockerHost matches spec.hostSelector';
    return {
      conditions: markRetrying(
        previous,
        { reason: refused[0]?.reason ?? 'NoMatchingHosts', message: why, ...gen },
        now,
      ),
      hostsReady,
      phase,
    };
  }
  if (failed.length > 0) {
    const first = failed[0]?.outcome.failure;
    const message = describeHosts(
      failed.map((f) => ({
        host: f.host,
        text: `${f.outcome.failure?.reason}: ${f.outcome.failure?.message}`,
      })),
    );
    return {
      conditions: markRetrying(previous, { reason: first?.reason ?? 'Failed', message, ...gen }, now),
      hostsReady,
      phase,
    };
  }
  if (notReady.length > 0 || pendingRemoval.length > 0) {
    const items = notReady.map((n) => ({
      host: n.host,
      text: n.outcome.entry.message ?? n.outcome.entry.phase,
    }));
    for (const p of pendingRemoval) {
      if (typeof p === 'string') items.push({ host: p, text: 'removing (no longer placed here)' });
      else items.push({ host: p.host, text: p.message });
    }
    return {
      conditions: markReconciling(
        previous,
        { reason: 'Progressing', message: `waiting on ${describeHosts(items)}`, ...gen },
        now,
      ),
      hostsReady,
      phase,
    };
  }
  const note =
    refused.length > 0 ? `; not placed on ${refused.map((r) => `${r.host} (${r.reason})`).join(', ')}` : '';
  return {
    conditions: markReady(
      previous,
      { reason: 'Converged', message: `ready on ${hostsReady} hosts${note}`, ...gen },
      now,
    ),
    hostsReady,
    phase,
  };
}
