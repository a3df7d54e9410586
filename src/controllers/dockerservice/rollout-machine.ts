import { assign, setup } from 'xstate';
import { effectSlots, type MachineSpec } from '../../managed/machine-spec.js';

export const ROLLOUT_MACHINE_VERSION = 1;

/** Why a rollout failed: the Ready/Stalled reason of phase Failed, and the RollingBack message. */
export type RolloutFailure = 'RolloutFailed' | 'ProgressDeadlineExceeded';

export interface RolloutContext {
  /** The revision (template hash) the replicas are being brought to; '' before the first look. */
  target: string;
  /** The last revision that became fully Available: where an automatic rollback goes. */
  stable?: string;
  /** The one fully Available before it: where a manual rollback from Complete goes. */
  previousStable?: string;
  /** RollingBack/RolledBack: the revision given up. The spec asking for it again does not restart it. */
  abandoned?: string;
  startedAt?: string;
  /** When a replica last became Available at the target: the progress deadline's clock. */
  lastProgressAt?: string;
  /** Available replicas at the target last time: more now is progress. */
  updatedAvailable: number;
  failure?: RolloutFailure;
  /** The last dockyard.io/rollback value acted on: each new value asks once. */
  rollbackHonoured?: string;
}

/**
 * One look at the service, relative to the saved target. The reconciler
 * computes it from the replicas (rollout-plan.ts) and the spec; time is in
 * the event, never in a timer.
 */
export interface RolloutObservation {
  type: 'OBSERVED';
  now: string;
  /** Hash of spec.template. */
  specHash: string;
  paused: boolean;
  /** Every in-service replica runs the target and is Available. */
  complete: boolean;
  updatedAvailable: number;
  /** More of the target's replicas failed than maxFailureRatio allows. */
  tooManyFailures: boolean;
  progressDeadlineMs: number;
  failureAction: 'Pause' | 'Rollback';
  /** none: no canary step or it is behind us; waiting: its replicas are not proven yet; passed: they are. */
  canary: 'none' | 'waiting' | 'passed';
  /** The canary waits for dockyard.io/promote (promotion Manual) and it does not name the target. */
  awaitingPromotion: boolean;
  /** The dockyard.io/rollback annotation's value. */
  rollbackRequest?: string;
}

export const ROLLOUT_EFFECTS = [
  'recordRolloutStarted',
  'recordComplete',
  'recordRollbackStarted',
  'recordRolledBack',
  'recordFailed',
  'recordPaused',
  'recordResumed',
  'recordCanaryPaused',
  'recordPromoted',
  'recordRollbackRequested',
] as const;
export type RolloutEffect = (typeof ROLLOUT_EFFECTS)[number];

const INITIAL: RolloutContext = { target: '', updatedAvailable: 0 };

const deadlinePassed = (context: RolloutContext, event: RolloutObservation) =>
  !event.complete &&
  context.lastProgressAt !== undefined &&
  Date.parse(event.now) - Date.parse(context.lastProgressAt) > event.progressDeadlineMs;

const newRollbackRequest = (context: RolloutContext, event: RolloutObservation) =>
  event.rollbackRequest !== undefined && event.rollbackRequest !== context.rollbackHonoured;

/** Where a manual rollback goes: the stable revision, or from a Complete one the one before it. */
const manualRollbackTarget = (context: RolloutContext): string | undefined =>
  context.stable !== undefined && context.stable !== context.target ? context.stable : context.previousStable;

const restartClock = (now: string) => ({ startedAt: now, lastProgressAt: now, updatedAvailable: 0 });

export const rolloutMachine = setup({
  types: {} as { context: RolloutContext; events: RolloutObservation },
  actions: {
    ...effectSlots(ROLLOUT_EFFECTS),
    startRollout: assign(({ event }) => ({
      target: event.specHash,
      abandoned: undefined,
      failure: undefined,
      ...restartClock(event.now),
    })),
    startRollback: assign(({ context, event }) => ({
      abandoned: context.target,
      target: context.stable ?? context.target,
      ...restartClock(event.now),
    })),
    startManualRollback: assign(({ context, event }) => ({
      abandoned: context.target,
      target: manualRollbackTarget(context) ?? context.target,
      rollbackHonoured: event.rollbackRequest,
      failure: undefined,
      ...restartClock(event.now),
    })),
    ignoreRollbackRequest: assign(({ event }) => ({ rollbackHonoured: event.rollbackRequest })),
    markStable: assign(({ context }) => ({
      previousStable: context.stable !== context.target ? context.stable : context.previousStable,
      stable: context.target,
    })),
    markRolledBack: assign(({ context }) => ({
      stable: context.target,
      previousStable: context.previousStable === context.target ? undefined : context.previousStable,
    })),
    clearAbandoned: assign({ abandoned: undefined }),
    noteFailure: assign(({ context, event }) => ({
      failure: (deadlinePassed(context, event) && !event.tooManyFailures
        ? 'ProgressDeadlineExceeded'
        : 'RolloutFailed') as RolloutFailure,
    })),
    trackProgress: assign(({ context, event }) =>
      event.updatedAvailable > context.updatedAvailable
        ? { updatedAvailable: event.updatedAvailable, lastProgressAt: event.now }
        : { updatedAvailable: event.updatedAvailable },
    ),
    resumeClock: assign(({ event }) => ({ lastProgressAt: event.now })),
  },
  guards: {
    paused: ({ event }) => event.paused,
    resumed: ({ event }) => !event.paused,
    resumingRollback: ({ context, event }) => !event.paused && context.abandoned !== undefined,
    specChanged: ({ context, event }) =>
      event.specHash !== context.target && event.specHash !== context.abandoned,
    specIsTarget: ({ context, event }) => event.specHash === context.target,
    rollbackRequested: ({ context, event }) =>
      newRollbackRequest(context, event) && manualRollbackTarget(context) !== undefined,
    rollbackRequestWithoutTarget: ({ context, event }) => newRollbackRequest(context, event),
    complete: ({ event }) => event.complete,
    failed: ({ context, event }) => event.tooManyFailures || deadlinePassed(context, event),
    failedWithRollback: ({ context, event }) =>
      (event.tooManyFailures || deadlinePassed(context, event)) &&
      event.failureAction === 'Rollback' &&
      context.stable !== undefined &&
      context.stable !== context.target,
    tooManyFailures: ({ event }) => event.tooManyFailures,
    tooManyFailuresWithRollback: ({ context, event }) =>
      event.tooManyFailures &&
      event.failureAction === 'Rollback' &&
      context.stable !== undefined &&
      context.stable !== context.target,
    canaryHolds: ({ event }) => event.canary === 'passed' && event.awaitingPromotion,
    promoted: ({ event }) => !event.awaitingPromotion,
  },
}).createMachine({
  id: 'dockerservice-rollout',
  initial: 'Progressing',
  context: INITIAL,
  states: {
    Progressing: { on: { OBSERVED: [...steering(), ...progressing()] } },
    CanaryPaused: {
      on: {
        OBSERVED: [
          ...steering(),
          ...failing('tooManyFailures'),
          { guard: 'promoted', target: 'Progressing', actions: ['resumeClock', 'recordPromoted'] },
        ],
      },
    },
    RollingBack: {
      on: {
        OBSERVED: [
          ...steering(),
          { guard: 'complete', target: 'RolledBack', actions: ['markRolledBack', 'recordRolledBack'] },
          // A rollback that fails pauses: never roll back a rollback.
          { guard: 'failed', target: 'Failed', actions: ['noteFailure', 'recordFailed'] },
          { actions: ['trackProgress'] },
        ],
      },
    },
    Complete: { on: { OBSERVED: steering() } },
    RolledBack: {
      on: {
        OBSERVED: [...steering(), { guard: 'specIsTarget', target: 'Complete', actions: ['clearAbandoned'] }],
      },
    },
    Failed: { on: { OBSERVED: steering() } },
    Paused: {
      on: {
        OBSERVED: [
          { guard: 'resumingRollback', target: 'RollingBack', actions: ['resumeClock', 'recordResumed'] },
          { guard: 'resumed', target: 'Progressing', actions: ['resumeClock', 'recordResumed'] },
        ],
      },
    },
  },
});

/** What every state but Paused answers first: a pause, a new template, a manual rollback. */
function steering() {
  return [
    { guard: 'paused', target: 'Paused', actions: ['recordPaused'] },
    { guard: 'specChanged', target: 'Progressing', actions: ['startRollout', 'recordRolloutStarted'] },
    {
      guard: 'rollbackRequested',
      target: 'RollingBack',
      actions: ['startManualRollback', 'recordRollbackRequested'],
    },
    { guard: 'rollbackRequestWithoutTarget', actions: ['ignoreRollbackRequest'] },
  ] as const;
}

/**
 * A failure: back to the stable revision when there is one and failureAction
 * says so, else stop. A canary waiting for its promotion is not on the
 * progress deadline's clock (a person holds it), so it fails only by failures.
 */
function failing(guard: 'failed' | 'tooManyFailures') {
  return [
    {
      guard: guard === 'failed' ? ('failedWithRollback' as const) : ('tooManyFailuresWithRollback' as const),
      target: 'RollingBack',
      actions: ['noteFailure', 'startRollback', 'recordRollbackStarted'],
    },
    { guard, target: 'Failed', actions: ['noteFailure', 'recordFailed'] },
  ] as const;
}

function progressing() {
  return [
    { guard: 'complete', target: 'Complete', actions: ['markStable', 'recordComplete'] },
    ...failing('failed'),
    { guard: 'canaryHolds', target: 'CanaryPaused', actions: ['recordCanaryPaused'] },
    { actions: ['trackProgress'] },
  ] as const;
}

export const rolloutMachineSpec: MachineSpec<typeof rolloutMachine, RolloutContext, RolloutEffect> = {
  machine: rolloutMachine,
  version: ROLLOUT_MACHINE_VERSION,
  initialContext: INITIAL,
  effects: ROLLOUT_EFFECTS,
};
