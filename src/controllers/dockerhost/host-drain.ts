import type { DockerHostStatus } from '../../crds/dockerhost.js';
import { Reason } from '../../crds/reasons.js';
import { removeCondition, setCondition } from '../../runtime/conditions.js';
import { describePlaced, type PlacedObjectsOnHost } from './placed-objects.js';

/** spec.drain progress: False while objects remain, True once none do. */
export const DRAINED = 'Drained';
/** The DockerHost is deleted and its finalizer waits for the objects placed on it. */
export const TERMINATING = 'Terminating';

export interface DrainInput {
  drain: boolean;
  deleting: boolean;
  placed: PlacedObjectsOnHost;
  generation: number | undefined;
  now: Date;
}

/**
 * Adds the drain and termination conditions and status.placedObjects to a
 * DockerHost status. Pure. Both only appear while they mean something (a
 * drain asked for, a deletion waiting), so an ordinary host's status is not
 * rewritten whenever objects come and go.
 */
export function withDrainStatus(status: DockerHostStatus, input: DrainInput): DockerHostStatus {
  const { placed, now } = input;
  const gen = input.generation !== undefined ? { observedGeneration: input.generation } : {};
  const what = describePlaced(placed);
  let conditions = status.conditions ?? [];
  if (input.drain) {
    conditions = setCondition(
      conditions,
      placed.total > 0
        ? {
            type: DRAINED,
            status: 'False',
            reason: Reason.Draining, // objects are being removed per their deletionPolicy
            message: `removing ${placed.total} Dockyard object(s) per their deletionPolicy: ${what}`,
            ...gen,
          }
        : {
            type: DRAINED,
            status: 'True',
            reason: Reason.Drained, // nothing of Dockyard's is left on the host
            message: 'no Dockyard objects are placed on this host',
            ...gen,
          },
      now,
    );
  } else conditions = removeCondition(conditions, DRAINED);
  if (input.deleting && placed.total > 0) {
    conditions = setCondition(
      conditions,
      {
        type: TERMINATING,
        status: 'True',
        reason: Reason.ObjectsStillPlaced, // held until the objects placed here are gone or moved
        message:
          `deletion waits for ${placed.total} Dockyard object(s) placed on this host: ${what}. ` +
          'Delete them, change their spec.hostName/hostSelector, or set spec.drain: true to remove them ' +
          'per their deletionPolicy',
        ...gen,
      },
      now,
    );
  } else conditions = removeCondition(conditions, TERMINATING);
  const next: DockerHostStatus = { ...status, conditions };
  if (input.drain || input.deleting) next.placedObjects = placed.total;
  else delete next.placedObjects;
  return next;
}

/** The finalizer may go once a deleted host has nothing placed on it. */
export function mayReleaseHost(deleting: boolean, placed: PlacedObjectsOnHost): boolean {
  return deleting && placed.total === 0;
}
