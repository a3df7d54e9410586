import { assign, setup } from 'xstate';
import type { HostFailureReason } from '../../docker/errors.js';

export const HOST_MACHINE_VERSION = 1;

export interface HostMachineContext {
  /** Consecutive failed heartbeats; drives the retry backoff. */
  failures: number;
  reason?: HostFailureReason | 'Ready';
}

export type HostObservation =
  { type: 'OBSERVED'; reachable: true } | { type: 'OBSERVED'; reachable: false; reason: HostFailureReason };

/**
 * DockerHost connectivity. States are the phases shown in status:
 * Pending (never reached yet), Ready, NotReady. Actions tell the controller to
 * record Events and start or stop the host's Docker event stream.
 */
export const hostMachine = setup({
  types: {} as { context: HostMachineContext; events: HostObservation },
  actions: {
    recordReady: () => {},
    recordNotReady: () => {},
    recordReasonChanged: () => {},
    startEventStream: () => {},
    stopEventStream: () => {},
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
