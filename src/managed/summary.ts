import type { Condition } from '../crds/kit.js';
import { Reason } from '../crds/reasons.js';
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
  placement: { kept: readonly Mismatch[]; generation: number | undefined; now: Date },
): Condition[] {
  const { kept, generation, now } = placement;
  if (kept.length === 0) return removeCondition(conditions, PLACEMENT_MATCHED);
  return setCondition(
    conditions,
    {
      type: PLACEMENT_MATCHED,
      status: 'False',
      reason: kept[0]?.reason ?? Reason.HostNoLongerMatches,
      message: describeHosts(kept.map((k) => ({ host: k.host, text: k.message }))),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    },
    now,
  );
}

type HostResult = { host: string; outcome: HostOutcome };
type PendingRemoval = string | { host: string; message: string };

/** What summarize reads: the per-host outcomes of one reconcile and the object's previous conditions. */
export interface SummaryInput {
  /** One outcome per placed host. */
  outcomes: ReadonlyArray<HostResult>;
  /** Hosts the object was not placed on, and why (shown when nothing was placed, or beside Ready). */
  refused?: readonly Refusal[];
  /** Hosts the object is still being removed from: a bare name, or a name with what it waits for. */
  pendingRemoval?: ReadonlyArray<PendingRemoval>;
  /** metadata.generation, written as each condition's observedGeneration. */
  generation?: number | undefined;
  previous?: readonly Condition[] | undefined;
  now: Date;
  /** Hosts kept although they no longer match (IgnoredDuringExecution). */
  kept?: readonly Mismatch[];
}

/**
 * The object's Ready/Reconciling/Stalled conditions and printer summary from
 * its per-host outcomes. Pure. Ready only when every placed host is done; the
 * message names the hosts that are not. Hosts kept although they no longer
 * match count like any placed host, and add PlacementMatched=False.
 */
export function summarize(input: SummaryInput): Summary {
  const { generation, now, kept = [] } = input;
  const base = summarizeReadiness(input);
  const note =
    kept.length > 0 && base.conditions.some((c) => c.type === 'Ready' && c.status === 'True')
      ? `; kept on ${kept.map((k) => `${k.host} (${k.reason})`).join(', ')}`
      : '';
  const conditions = note
    ? base.conditions.map((c) => (c.type === 'Ready' ? { ...c, message: c.message + note } : c))
    : base.conditions;
  return { ...base, conditions: withPlacementMatched(conditions, { kept, generation, now }) };
}

/** The placed hosts sorted by how far they are from done. */
interface Tally {
  total: number;
  hostsReady: string;
  notReady: HostResult[];
  stalled: HostResult[];
  failed: HostResult[];
  unknown: HostResult[];
}

function tally(outcomes: ReadonlyArray<HostResult>): Tally {
  const ready = outcomes.filter((o) => o.outcome.ready);
  const notReady = outcomes.filter((o) => !o.outcome.ready);
  return {
    total: outcomes.length,
    hostsReady: `${ready.length}/${outcomes.length}`,
    notReady,
    stalled: notReady.filter((o) => o.outcome.stalled),
    failed: notReady.filter((o) => o.outcome.failure && !o.outcome.stalled),
    unknown: notReady.filter((o) => o.outcome.unknown),
  };
}

function phaseOf(t: Tally): string {
  if (t.total === 0) return 'Unplaced';
  if (t.notReady.length === 0) return 'Ready';
  return t.notReady[0]?.outcome.entry.phase ?? 'Pending';
}

/** Which of the kstatus condition sets applies, with its reason and message. */
interface Verdict {
  mark: typeof markReady;
  reason: string;
  message: string;
}

function stalledVerdict(stalled: readonly HostResult[]): Verdict {
  const message = describeHosts(
    stalled.map((s) => ({ host: s.host, text: s.outcome.stalled?.message ?? '' })),
  );
  return { mark: markStalled, reason: stalled[0]?.outcome.stalled?.reason ?? Reason.Stalled, message };
}

function unplacedVerdict(refused: readonly Refusal[]): Verdict {
  const message =
    refused.length > 0
      ? describeHosts(refused.map((r) => ({ host: r.host, text: r.message })))
      : 'no DockerHost matches spec.hostSelector';
  return { mark: markRetrying, reason: refused[0]?.reason ?? Reason.NoMatchingHosts, message };
}

function failedVerdict(failed: readonly HostResult[]): Verdict {
  const message = describeHosts(
    failed.map((f) => ({
      host: f.host,
      text: `${f.outcome.failure?.reason}: ${f.outcome.failure?.message}`,
    })),
  );
  return { mark: markRetrying, reason: failed[0]?.outcome.failure?.reason ?? Reason.Failed, message };
}

/** Hosts whose agent is disconnected: Ready=Unknown with their reason, the rest still in progress. */
function unknownVerdict(unknown: readonly HostResult[]): Verdict {
  const message = describeHosts(
    unknown.map((u) => ({ host: u.host, text: u.outcome.unknown?.message ?? '' })),
  );
  return {
    mark: markReconciling,
    reason: unknown[0]?.outcome.unknown?.reason ?? Reason.Progressing,
    message,
  };
}

function progressingVerdict(
  notReady: readonly HostResult[],
  pendingRemoval: ReadonlyArray<PendingRemoval>,
): Verdict {
  const items = notReady.map((n) => ({
    host: n.host,
    text: n.outcome.entry.message ?? n.outcome.entry.phase,
  }));
  for (const p of pendingRemoval) {
    if (typeof p === 'string') items.push({ host: p, text: 'removing (no longer placed here)' });
    else items.push({ host: p.host, text: p.message });
  }
  return { mark: markReconciling, reason: Reason.Progressing, message: `waiting on ${describeHosts(items)}` };
}

function readyVerdict(hostsReady: string, refused: readonly Refusal[]): Verdict {
  const note =
    refused.length > 0 ? `; not placed on ${refused.map((r) => `${r.host} (${r.reason})`).join(', ')}` : '';
  return { mark: markReady, reason: Reason.Converged, message: `ready on ${hostsReady} hosts${note}` };
}

/** In priority order: a host needing the user, nothing placed, a failure, a host nobody can see, work left, done. */
function verdictOf(
  t: Tally,
  refused: readonly Refusal[],
  pendingRemoval: ReadonlyArray<PendingRemoval>,
): Verdict {
  if (t.stalled.length > 0) return stalledVerdict(t.stalled);
  if (t.total === 0) return unplacedVerdict(refused);
  if (t.failed.length > 0) return failedVerdict(t.failed);
  if (t.unknown.length > 0) return unknownVerdict(t.unknown);
  if (t.notReady.length > 0 || pendingRemoval.length > 0)
    return progressingVerdict(t.notReady, pendingRemoval);
  return readyVerdict(t.hostsReady, refused);
}

function summarizeReadiness(input: SummaryInput): Summary {
  const { refused = [], pendingRemoval = [], generation, previous, now } = input;
  const t = tally(input.outcomes);
  const { mark, reason, message } = verdictOf(t, refused, pendingRemoval);
  const gen = generation !== undefined ? { observedGeneration: generation } : {};
  return {
    conditions: mark(previous, { reason, message, ...gen }, now),
    hostsReady: t.hostsReady,
    phase: phaseOf(t),
  };
}
