import type { DockerNetworkStatus } from '../../crds/dockernetwork.js';
import { Reason } from '../../crds/reasons.js';
import { machineEntry } from '../../managed/machine-state.js';
import { phaseIn } from '../../managed/host-flow.js';
import type { HostOutcome } from '../../managed/types.js';
import { conflictMessage, recreateRequired, type NetworkRun } from './network-effects.js';
import { networkMessages } from './network-messages.js';

/** This kind's status.hosts[] entry, as its CRD declares it. */
type NetworkHostEntry = NonNullable<DockerNetworkStatus['hosts']>[number];

/** Stalled phases (nothing changes until the user acts), each reported under the reason it is named after. */
const STALLED = {
  [Reason.PolicyViolation]: ({ work }: NetworkRun) => work.violation ?? '',
  [Reason.NameConflict]: conflictMessage,
  [Reason.RecreateRequired]: recreateRequired,
} satisfies Partial<Record<Reason, (run: NetworkRun) => string | undefined>>;

function hostEntry({ ctx, work, step }: NetworkRun): NetworkHostEntry {
  const { current } = work;
  return {
    name: ctx.host.metadata.name,
    phase: step.saved.state,
    networkName: work.name,
    ...(current ? { id: current.id, subnets: current.subnets } : {}),
    ...(work.adopted && current === work.adopted ? { adopted: true } : {}),
    machine: machineEntry(step.saved),
  };
}

/**
 * The host's status entry and outcome. Extras of ours that stay (in use) are
 * noted after the phase's own message; a duplicate that stays keeps a Ready
 * network from being ready, since Docker resolves a duplicated name
 * ambiguously (retried until the other one is free).
 */
export function reportNetwork(run: NetworkRun): HostOutcome {
  const { work } = run;
  const state = run.step.saved.state;
  const entry = hostEntry(run);
  const notes = [...work.keptDuplicates, ...work.keptRenamed];
  const withNotes = (message?: string): NetworkHostEntry => {
    const text = [...(message ? [message] : []), ...notes].join('; ');
    return text ? { ...entry, message: text } : entry;
  };
  const stalled = phaseIn(STALLED, state) ? { reason: state, message: STALLED[state](run) } : undefined;
  if (stalled?.message !== undefined)
    return {
      entry: withNotes(stalled.message),
      ready: false,
      stalled: { ...stalled, message: stalled.message },
    };
  if (state === 'Paused') {
    const ready = work.keeper !== undefined && work.conflict === undefined && work.upToDate;
    return { entry: withNotes(networkMessages.paused), ready };
  }
  if (work.keptDuplicates.length > 0 && state === 'Ready')
    return {
      entry: { ...withNotes(), phase: Reason.DuplicateNetworks },
      ready: false,
      failure: {
        reason: Reason.DuplicateNetworks,
        message: networkMessages.duplicated(work.keptDuplicates, work.name),
      },
    };
  return { entry: withNotes(), ready: state === 'Ready' };
}
