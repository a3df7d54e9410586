import type { Condition } from '../crds/kit.js';
import { markReady, markReconciling, markRetrying, markStalled } from '../runtime/conditions.js';
import type { Refusal } from './placement.js';
import type { HostOutcome } from './types.js';

export interface Summary {
  conditions: Condition[];
  hostsReady: string;
  phase: string;
}

function describeHosts(items: Array<{ host: string; text: string }>): string {
  return items.map((i) => `${i.host}: ${i.text}`).join('; ');
}

/**
 * The object's Ready/Reconciling/Stalled conditions and printer summary from
 * its per-host outcomes. Pure. Ready only when every placed host is done; the
 * message names the hosts that are not.
 */
export function summarize(
  outcomes: ReadonlyArray<{ host: string; outcome: HostOutcome }>,
  refused: readonly Refusal[],
  pendingRemoval: readonly string[],
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
    for (const host of pendingRemoval) items.push({ host, text: 'removing (no longer placed here)' });
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
