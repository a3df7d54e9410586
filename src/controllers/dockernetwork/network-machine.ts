import { assign, setup } from 'xstate';

export const NETWORK_MACHINE_VERSION = 1;

export interface NetworkMachineContext {
  /** Times the network was found missing and put back. */
  repairs: number;
}

export type NetworkEvent =
  | {
      type: 'OBSERVED';
      /** A network with the wanted name exists (ours or not). */
      exists: boolean;
      ownership?: 'ours' | 'foreign' | 'otherOwner';
      /** Our network carries the current spec hash. */
      upToDate?: boolean;
      /** A container (any: Dockyard's or not, running or not) is attached to our network. */
      inUse?: boolean;
      /** The host's securityPolicy refuses the spec: nothing is created (an existing network is left alone). */
      policyViolation?: boolean;
      paused?: boolean;
    }
  | { type: 'CREATED' };

type NetworkAction = 'create' | 'recordCreated' | 'recordDriftRepaired' | 'countRepair';

/**
 * The same decision from every state, in priority order; only what to do
 * when the network is missing depends on where we were (create it, or count
 * a drift repair). Self-transitions do not re-enter, so entry events fire once.
 */
function observed(whenMissing: NetworkAction[]) {
  return [
    { guard: 'paused' as const, target: 'Paused' },
    { guard: 'violation' as const, target: 'PolicyViolation' },
    { guard: 'notOurs' as const, target: 'NameConflict' },
    {
      guard: 'missing' as const,
      target: whenMissing.length > 0 ? 'Creating' : 'Pending',
      actions: whenMissing,
    },
    { guard: 'changedInUse' as const, target: 'RecreateRequired' },
    { guard: 'changed' as const, target: 'Creating', actions: ['recreate', 'recordRecreated'] as const },
    { target: 'Ready' },
  ];
}

/**
 * A DockerNetwork on one host. Phases: Pending, Creating, Ready, NameConflict
 * (a network with its name is not ours: never touched), RecreateRequired (the
 * spec changed, networks cannot change in place, and containers are attached:
 * it is recreated as soon as none is), PolicyViolation (the host's
 * securityPolicy refuses the spec: nothing is created, recreated or removed),
 * Paused (observe only).
 */
export const networkMachine = setup({
  types: {} as { context: NetworkMachineContext; events: NetworkEvent },
  actions: {
    create: () => {},
    recreate: () => {},
    recordCreated: () => {},
    recordDriftRepaired: () => {},
    recordRecreated: () => {},
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
    changedInUse: ({ event }) =>
      event.type === 'OBSERVED' && event.exists && event.upToDate === false && event.inUse === true,
    changed: ({ event }) => event.type === 'OBSERVED' && event.exists && event.upToDate === false,
  },
}).createMachine({
  id: 'dockernetwork',
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
