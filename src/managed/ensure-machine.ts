import { assign, setup } from 'xstate';
import { effectSlots, type MachineSpec } from './machine-spec.js';

/**
 * One Docker object that should exist as specified, and that Docker cannot
 * change in place: a volume or a network. Both kinds run this machine; they
 * differ only in whether a changed object may be replaced (see `recreate`).
 */
export interface EnsureContext {
  /** Times the object was found missing and put back. */
  repairs: number;
}

export interface EnsureObserved {
  type: 'OBSERVED';
  /** An object with the wanted name exists (ours or not). */
  exists: boolean;
  ownership?: 'ours' | 'foreign' | 'otherOwner';
  /** Ours carries the current spec hash (or, adopted, matches the spec). */
  upToDate?: boolean;
  /** Something uses ours (a container attached to the network): it cannot be replaced now. */
  inUse?: boolean;
  /** The host's securityPolicy refuses the spec: nothing is created (an existing object is left alone). */
  policyViolation?: boolean;
  paused?: boolean;
}

export type EnsureEvent = EnsureObserved | { type: 'CREATED' };

/** Effects of an object that is never replaced (a volume: its data is never destroyed to apply a spec). */
export const KEEP_EFFECTS = [
  'create',
  'recordCreated',
  'recordDriftRepaired',
  'recordNameConflict',
  'recordRecreateRequired',
  'recordPolicyViolation',
] as const;
export type KeepEffect = (typeof KEEP_EFFECTS)[number];

/** Effects of an object replaced when nothing uses it (a network with no container attached). */
export const REPLACE_EFFECTS = [...KEEP_EFFECTS, 'recreate', 'recordRecreated'] as const;
export type ReplaceEffect = (typeof REPLACE_EFFECTS)[number];

export interface EnsureMachineOptions {
  id: string;
  /** 'never': a changed object stalls in RecreateRequired; 'whenUnused': it is replaced once nothing uses it. */
  recreate: 'never' | 'whenUnused';
}

/**
 * Phases: Pending, Creating, Ready, NameConflict (the name is taken by an
 * object that is not ours: never touched), RecreateRequired (the spec changed
 * and the object cannot be replaced: see `recreate`), PolicyViolation
 * (nothing is created, recreated or removed), Paused (observe only).
 *
 * Every state takes the same decision in priority order; only what to do
 * when the object is missing depends on where we were (create it, or count a
 * drift repair). Self-transitions do not re-enter, so entry events fire once.
 */
export function ensureMachine(options: EnsureMachineOptions) {
  // A volume's changed spec always stalls; a network's only while something is attached.
  const whenChanged =
    options.recreate === 'whenUnused'
      ? [
          { guard: 'changedInUse' as const, target: 'RecreateRequired' },
          {
            guard: 'changed' as const,
            target: 'Creating',
            actions: ['recreate', 'recordRecreated'] as const,
          },
        ]
      : [{ guard: 'changed' as const, target: 'RecreateRequired' }];
  const observed = (whenMissing: ReadonlyArray<KeepEffect | 'countRepair'>) => [
    { guard: 'paused' as const, target: 'Paused' },
    { guard: 'violation' as const, target: 'PolicyViolation' },
    { guard: 'notOurs' as const, target: 'NameConflict' },
    {
      guard: 'missing' as const,
      target: whenMissing.length > 0 ? 'Creating' : 'Pending',
      actions: whenMissing,
    },
    ...whenChanged,
    { target: 'Ready' },
  ];
  const fresh = ['create', 'recordCreated'] as const;
  return setup({
    types: {} as { context: EnsureContext; events: EnsureEvent },
    actions: {
      ...effectSlots(REPLACE_EFFECTS),
      countRepair: assign({ repairs: ({ context }) => context.repairs + 1 }),
    },
    guards: {
      paused: ({ event }) => event.type === 'OBSERVED' && event.paused === true,
      violation: ({ event }) => event.type === 'OBSERVED' && event.policyViolation === true,
      missing: ({ event }) => event.type === 'OBSERVED' && !event.exists,
      notOurs: ({ event }) => event.type === 'OBSERVED' && event.exists && event.ownership !== 'ours',
      changedInUse: ({ event }) =>
        event.type === 'OBSERVED' && event.exists && event.upToDate === false && event.inUse === true,
      changed: ({ event }) => event.type === 'OBSERVED' && event.exists && event.upToDate === false,
    },
  }).createMachine({
    id: options.id,
    initial: 'Pending',
    context: { repairs: 0 },
    states: {
      Pending: { on: { OBSERVED: observed(fresh), CREATED: 'Ready' } },
      Creating: { on: { OBSERVED: observed(['create']), CREATED: 'Ready' } },
      Ready: { on: { OBSERVED: observed(['create', 'recordDriftRepaired', 'countRepair']) } },
      NameConflict: { entry: 'recordNameConflict', on: { OBSERVED: observed(fresh) } },
      RecreateRequired: { entry: 'recordRecreateRequired', on: { OBSERVED: observed(fresh) } },
      PolicyViolation: { entry: 'recordPolicyViolation', on: { OBSERVED: observed(fresh) } },
      Paused: { on: { OBSERVED: observed([]) } },
    },
  });
}

export type EnsureMachine = ReturnType<typeof ensureMachine>;

/** The spec a kind hands the flow: its machine, version and the effects its table handles. */
export function ensureMachineSpec<E extends ReplaceEffect>(opts: {
  machine: EnsureMachine;
  version: number;
  effects: readonly E[];
}): MachineSpec<EnsureMachine, EnsureContext, E> {
  return { ...opts, initialContext: { repairs: 0 } };
}
