// After a restart or a failover the process has no Docker connections yet:
// the DockerHost controller opens them within seconds of its first reconcile.
// An object reconciled before then must not be reported HostNotReady when the
// DockerHost itself is Ready: Ready=False on a healthy object flips Argo CD
// and Flux health and wakes people for nothing. Its last observed state stands
// and it is looked at again shortly. The grace is bounded: a connection that
// still does not come is reported as before.

import type { HostOutcome, HostStatusEntry } from './types.js';

/** Look again this soon while connections warm up. */
export const WARMUP_REQUEUE_MS = 1_000;
/** From the reconciler's start: long enough for every DockerHost's first reconcile. */
export const CONNECTION_WARMUP_MS = 60_000;

export interface WarmupInput {
  /** This host's entry in the object's status, as last written. */
  previous: HostStatusEntry | undefined;
  /** The object's Ready condition is True for its current generation. */
  objectReady: boolean;
  /** Time since this reconciler started (monotonic). */
  sinceStartMs: number;
}

/**
 * The outcome for a Ready host with no connection yet: the last observed
 * state, unchanged, with a short requeue. Undefined when that does not apply
 * (the object was not Ready here, or the warm-up is over): report HostNotReady.
 */
export function warmupOutcome(input: WarmupInput): HostOutcome | undefined {
  if (!input.objectReady || !input.previous || input.sinceStartMs >= CONNECTION_WARMUP_MS) return undefined;
  return { entry: input.previous, ready: true, requeueAfterMs: WARMUP_REQUEUE_MS };
}
