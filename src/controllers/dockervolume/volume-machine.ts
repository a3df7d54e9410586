import { assign, setup } from 'xstate';

export const VOLUME_MACHINE_VERSION = 1;

export interface VolumeMachineContext {
  /** Times the volume was found missing and put back. */
  repairs: number;
}

export type VolumeEvent =
  | {
      type: 'OBSERVED';
      exists: boolean;
      ownership?: 'ours' | 'foreign' | 'otherOwner';
      upToDate?: boolean;
      policyViolation?: boolean;
      paused?: boolean;
    }
  | { type: 'CREATED' };

type VolumeAction = 'create' | 'recordCreated' | 'recordDriftRepaired' | 'countRepair';

/**
 * The same decision from every state, in priority order; only what to do
 * when the volume is missing depends on where we were (create it, or count
 * a drift repair). Self-transitions do not re-enter, so entry events fire once.
 */
function observed(whenMissing: VolumeAction[]) {
  return [
    { guard: 'paused' as const, target: 'Paused' },
    { guard: 'violation' as const, target: 'PolicyViolation' },
    { guard: 'notOurs' as const, target: 'NameConflict' },
    { guard: 'changed' as const, target: 'RecreateRequired' },
    {
      guard: 'missing' as const,
      target: whenMissing.length > 0 ? 'Creating' : 'Pending',
      actions: whenMissing,
    },
    { target: 'Ready' },
  ];
}

/**
 * A DockerVolume on one host. Phases: Pending, Creating, Ready, NameConflict,
 * RecreateRequired (the spec changed, and a volume cannot change in place:
 * its data is never destroyed to apply it), PolicyViolation, Paused.
 */
export const volumeMachine = setup({
  types: {} as { context: VolumeMachineContext; events: VolumeEvent },
  actions: {
    create: () => {},
    recordCreated: () => {},
    recordDriftRepaired: () => {},
    recordNameConflict: () => {},
    recordRecreateRequired: () => {},
    recordPolicyViolation: () => {},
    countRepair: assign({ repairs: ({ context }) => context.repairs + 1 }),
  },
  guards: {
    paused: ({ event }) => event.type === 'OBSERVED' && event.paused === true,
    violation: ({ event }) => event.type === 'OBSERVED' && event.policyViolation === true,
    missing: ({ event }) => event.type === 'OBSERVED' && !event.exists,
    notOurs: ({ event }) => event.type === 'OBSERVED' && event.exists && event.ownership !== 'ours',
    changed: ({ event }) => event.type === 'OBSERVED' && event.exists && event.upToDate === false,
  },
}).createMachine({
  id: 'dockervolume',
  initial: 'Pending',
  context: { repairs: 0 },
  states: {
    Pending: { on: { OBSERVED: observed(['create', 'recordCreated']), CREATED: 'Ready' } },
    Creating: { on: { OBSERVED: observed(['create']), CREATED: 'Ready' } },
    Ready: { on: { OBSERVED: observed(['create', 'recordDriftRepaired', 'countRepair']) } },
    NameConflict: { entry: 'recordNameConflict', on: { OBSERVED: observed(['create', 'recordCreated']) } },
    RecreateRequired: {
      entry: 'recordRecreateRequired',
      on: { OBSERVED: observed(['create', 'recordCreated']) },
    },
    PolicyViolation: {
      entry: 'recordPolicyViolation',
      on: { OBSERVED: observed(['create', 'recordCreated']) },
    },
    Paused: { on: { OBSERVED: observed([]) } },
  },
});
