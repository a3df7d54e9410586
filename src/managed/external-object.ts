import { OWNER_LABELS } from '../crds/kit.js';
import { Reason } from '../crds/reasons.js';
import type { HostContext, HostOutcome, HostStatusEntry, ManagedObject } from './types.js';

// An external DockerVolume or DockerNetwork (Compose `external: true`): a
// Docker object that exists on the host already, which Dockyard only looks
// at. It is never created, changed, labelled or removed, and never adopted:
// there is no machine, only this one look per reconcile.
//
//   on the host                     | outcome
//   --------------------------------+--------------------------------------------
//   host policy refuses the name    | Stalled PolicyViolation (until spec/host change)
//   nothing of that name            | Ready=False ExternalNotFound, retried (it may appear)
//   an object Dockyard manages      | Stalled NameConflict (take it through its own resource)
//   an object Dockyard does not     | Ready

/** What one look at the host found under the external name. */
export interface ExternalLook {
  /** `volume` or `network`, for messages. */
  what: 'volume' | 'network';
  name: string;
  /** The object's labels, or undefined when there is none of that name. */
  labels: Record<string, string> | undefined;
  /** The host policy's refusal, described; undefined when it allows the name. */
  violation: string | undefined;
  /** Extra fields of the host entry when it is there (volumeName, networkName, id…). */
  fields: Partial<HostStatusEntry>;
}

function outcomeOf(look: ExternalLook, host: string): { reason?: Reason; stalled: boolean; message: string } {
  const { what, name } = look;
  if (look.violation) return { reason: Reason.PolicyViolation, stalled: true, message: look.violation };
  if (!look.labels)
    return {
      reason: Reason.ExternalNotFound,
      stalled: false,
      message: `no Docker ${what} named ${name} on ${host}; an external ${what} is never created by Dockyard: create it on the host, or fix the name`,
    };
  // Whose it is stays unsaid: it may be another tenant's.
  if (look.labels[OWNER_LABELS.uid] !== undefined)
    return {
      reason: Reason.NameConflict,
      stalled: true,
      message: `the Docker ${what} ${name} on ${host} is managed by Dockyard for a resource; an external ${what} refers only to ${what}s Dockyard does not manage`,
    };
  return {
    stalled: false,
    message: `the existing Docker ${what} ${name} is there (external: never changed)`,
  };
}

/**
 * The host's outcome for an external object. A Warning Event is recorded
 * when the host first enters a failing phase (named after its reason), not
 * on every poll, as invalidNameOutcome does.
 */
export function externalOutcome<T extends ManagedObject>(
  ctx: HostContext<T>,
  look: ExternalLook,
): HostOutcome {
  const hostName = ctx.host.metadata.name;
  const { reason, stalled, message } = outcomeOf(look, hostName);
  if (!reason) {
    return { entry: { name: hostName, phase: 'Ready', ...look.fields }, ready: true };
  }
  if (ctx.previous?.phase !== reason) ctx.events.event(ctx.obj, 'Warning', reason, 'Observe', message);
  const entry: HostStatusEntry = { name: hostName, phase: reason, message };
  return {
    entry,
    ready: false,
    ...(stalled ? { stalled: { reason, message } } : { failure: { reason, message } }),
  };
}
