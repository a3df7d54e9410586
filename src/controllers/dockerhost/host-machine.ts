import { assign, setup } from 'xstate';
import type { HostFailureReason } from '../../crds/reasons.js';
import { effectSlots, type MachineSpec } from '../../managed/machine-spec.js';

export const HOST_MACHINE_VERSION = 1;

export interface HostMachineContext {
  /** Consecutive failed heartbeats; drives the retry backoff. */
  failures: number;
  reason?: HostFailureReason | 'Ready';
}

/**
 * Consecutive failed heartbeats a Ready host must show before it is NotReady,
 * for failures that may be passing (no answer in time, connection dropped).
 * One slow probe on a loaded machine must not mark every object on the host
 * HostNotReady and restart its event stream (a rollout would then replace the
 * replicas there as if they were down); the next probe follows after a
 * second's backoff, so a stopped daemon is still NotReady within two
 * heartbeats. Failures that cannot pass by themselves (TLS, credentials,
 * configuration, a disconnected agent) count at once.
 */
export const READY_FAILURE_THRESHOLD = 2;
const PASSING_FAILURES: ReadonlySet<HostFailureReason> = new Set(['Unreachable', 'Timeout', 'DaemonError']);

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
    /** A Ready host's first passing failure(s): it stays Ready until the threshold. */
    tolerated: ({ context, event }) =>
      !event.reachable &&
      PASSING_FAILURES.has(event.reason) &&
      context.failures + 1 < READY_FAILURE_THRESHOLD,
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
          { guard: 'tolerated', target: 'Ready', actions: ['countFailure'] },
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
