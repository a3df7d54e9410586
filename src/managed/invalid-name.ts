import { Reason } from '../crds/reasons.js';
import { explicitNameProblem } from './ownership.js';
import type { HostContext, HostOutcome, ManagedObject } from './types.js';

/**
 * The outcome for an explicit Docker name another namespace's default naming
 * uses (see explicitNameProblem), or undefined when the name is fine. Nothing
 * is done in Docker; the Warning Event is recorded when the host first enters
 * this phase (named after the reason), not on every poll.
 */
export function invalidNameOutcome<T extends ManagedObject>(
  ctx: HostContext<T>,
  opts: { explicit: string | undefined; field: string },
): HostOutcome | undefined {
  const message = explicitNameProblem({ namespace: ctx.namespace, ...opts });
  if (!message) return undefined;
  if (ctx.previous?.phase !== Reason.InvalidName)
    ctx.events.event(ctx.obj, 'Warning', Reason.InvalidName, 'Create', message);
  return {
    entry: { ...(ctx.previous ?? {}), name: ctx.host.metadata.name, phase: Reason.InvalidName, message },
    ready: false,
    stalled: { reason: Reason.InvalidName, message },
  };
}
