// The Events the rollout machine asks for, one handler per effect: a
// missing or misspelt one fails the type-check.
import type { DockerService } from '../../crds/dockerservice.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { RolloutContext, RolloutEffect } from './rollout-machine.js';

export interface EffectRun {
  service: DockerService;
  /** The context after the step. */
  context: RolloutContext;
  /** Revision numbers by hash, for messages. */
  revisionOf: (hash: string | undefined) => number | undefined;
}

export type RolloutEffectTable = Record<RolloutEffect, (run: EffectRun) => void>;

/** Rollout outcomes for the dockyard_service_rollouts_total metric. */
export type RolloutResult = 'started' | 'complete' | 'rolled_back' | 'failed';

export function rolloutEffects(opts: {
  events: EventRecorder;
  countRollout: (result: RolloutResult) => void;
}): RolloutEffectTable {
  const { events } = opts;
  const name = (run: EffectRun, hash: string | undefined) =>
    `revision ${run.revisionOf(hash) ?? '?'} (${(hash ?? '').slice(0, 10)})`;
  const normal = (reason: Reason | EventReason, note: (run: EffectRun) => string) => (run: EffectRun) =>
    events.event(run.service, 'Normal', reason, 'Rollout', note(run));
  const warning = (reason: Reason | EventReason, note: (run: EffectRun) => string) => (run: EffectRun) =>
    events.event(run.service, 'Warning', reason, 'Rollout', note(run));
  const counted =
    (result: RolloutResult, record: (run: EffectRun) => void) =>
    (run: EffectRun): void => {
      opts.countRollout(result);
      record(run);
    };
  return {
    recordRolloutStarted: counted(
      'started',
      normal(EventReason.RolloutStarted, (r) => `rolling out ${name(r, r.context.target)}`),
    ),
    recordComplete: counted(
      'complete',
      normal(Reason.RolloutComplete, (r) => `${name(r, r.context.target)} is Available on every replica`),
    ),
    recordRollbackStarted: warning(
      Reason.RollingBack,
      (r) =>
        `${name(r, r.context.abandoned)} failed (${r.context.failure ?? Reason.RolloutFailed}); rolling back to ${name(r, r.context.target)}`,
    ),
    recordRolledBack: counted(
      'rolled_back',
      warning(
        Reason.RolledBack,
        (r) =>
          `rolled back to ${name(r, r.context.target)}; the spec still asks for ${name(r, r.context.abandoned)}`,
      ),
    ),
    recordFailed: counted(
      'failed',
      warning(
        Reason.RolloutFailed,
        (r) =>
          `${name(r, r.context.target)} failed (${r.context.failure ?? Reason.RolloutFailed}); the rollout stops until the template changes`,
      ),
    ),
    recordPaused: normal(Reason.RolloutPaused, () => 'rollout paused'),
    recordResumed: normal(
      EventReason.RolloutStarted,
      (r) => `rollout of ${name(r, r.context.target)} resumed`,
    ),
    recordCanaryPaused: normal(
      Reason.CanaryPaused,
      (r) => `the canary of ${name(r, r.context.target)} is Available; waiting for dockyard.io/promote`,
    ),
    recordPromoted: normal(
      EventReason.CanaryPromoted,
      (r) => `the canary of ${name(r, r.context.target)} was promoted`,
    ),
    recordRollbackRequested: normal(
      EventReason.RollbackRequested,
      (r) =>
        `rolling back from ${name(r, r.context.abandoned)} to ${name(r, r.context.target)} as asked (dockyard.io/rollback)`,
    ),
  };
}
