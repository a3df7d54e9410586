import { assign, setup } from 'xstate';
import type { HostFailureReason } from '../../crds/reasons.js';
import { effectSlots, type MachineSpec } from '../../managed/machine-spec.js';

export const HOST_MACHINE_VERSION = 1;

export interface HostMachineContext {
  /** Consecutive failed heartbeats; drives the retry backoff. */
  failures: number;
  reason?: HostFailureReason | 'Ready';
}

export type HostObservation =
  { type: 'OBSERVED'; reachable: true } | { type: 'OBSERVED'; reachable: false; reason: HostFailureReason };

/**
 * What the host machine asks the controller to do: record Events and start or
 * stop the host's Docker event stream. The machine's own counting (its
 * `assign`s) is not among them.
 */
export const HOST_EFFECTS = [
  'recordReady',
  'recordNotReady',
  'recordReasonChanged',
  'startEventStream',
  'stopEventStream',
] as const;
export type HostEffect = (typeof HOST_EFFECTS)[number];

/**
 * DockerHost connectivity. States are the phases shown in status:
 * Pending (never reached yet), Ready, NotReady.
 */
export const hostMachine = setup({
  types: {} as { context: HostMachineContext; events: HostObservation },
  actions: {
    ...effectSlots(HOST_EFFECTS),
    resetFailures: assign({ failures: 0, reason: 'Ready' as const }),
    countFailure: assign({
      failures: ({ context }) => context.failures + 1,
      reason: ({ context, event }) => (event.reachable ? context.reason : event.reason),
    }),
  },
  guards: {
    reachable: ({ event }) => event.reachable,
    sameReason: ({ context, event }) => !event.reachable && context.reason === event.reason,
  },
}).createMachine({
  id: 'dockerhost',
  initial: 'Pending',
  context: { failures: 0 },
  states: {
    Pending: {
      on: {
        OBSERVED: [
          {
            guard: 'reachable',
            target: 'Ready',
            actions: ['resetFailures', 'recordReady', 'startEventStream'],
          },
          { target: 'NotReady', actions: ['countFailure', 'recordNotReady'] },
        ],
      },
    },
    Ready: {
      on: {
        OBSERVED: [
          { guard: 'reachable', target: 'Ready', actions: ['resetFailures'] },
          { target: 'NotReady', actions: ['countFailure', 'recordNotReady', 'stopEventStream'] },
        ],
      },
    },
    NotReady: {
      on: {
        OBSERVED: [
          {
            guard: 'reachable',
            target: 'Ready',
            actions: ['resetFailures', 'recordReady', 'startEventStream'],
          },
          { guard: 'sameReason', target: 'NotReady', actions: ['countFailure'] },
          { target: 'NotReady', actions: ['countFailure', 'recordReasonChanged'] },
        ],
      },
    },
  },
});

export const hostMachineSpec: MachineSpec<typeof hostMachine, HostMachineContext, HostEffect> = {
  machine: hostMachine,
  version: HOST_MACHINE_VERSION,
  initialContext: { failures: 0 },
  effects: HOST_EFFECTS,
};
