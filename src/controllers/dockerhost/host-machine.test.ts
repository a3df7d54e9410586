import { describe, expect, it } from 'vitest';
import { decide } from '../../managed/machine-spec.js';
import { stepMachine, type SavedMachineState } from '../../managed/machine-step.js';
import {
  HOST_MACHINE_VERSION,
  hostMachine,
  hostMachineSpec,
  type HostMachineContext,
  type HostObservation,
} from './host-machine.js';

const up: HostObservation = { type: 'OBSERVED', reachable: true };
const down = (reason: 'Unreachable' | 'TLSError' | 'Timeout' | 'AgentDisconnected'): HostObservation => ({
  type: 'OBSERVED',
  reachable: false,
  reason,
});
const at = (state: string, context: HostMachineContext): SavedMachineState<HostMachineContext> => ({
  state,
  context,
  version: HOST_MACHINE_VERSION,
});

// [name, saved state (undefined: first observation), observation, next state, actions, failures after]
const table: Array<
  [string, SavedMachineState<HostMachineContext> | undefined, HostObservation, string, string[], number]
> = [
  ['first ping works', undefined, up, 'Ready', ['recordReady', 'startEventStream'], 0],
  ['first ping fails', undefined, down('Unreachable'), 'NotReady', ['recordNotReady'], 1],
  ['stays ready', at('Ready', { failures: 0, reason: 'Ready' }), up, 'Ready', [], 0],
  [
    "a ready host's first missed heartbeat is tolerated: still Ready, stream kept",
    at('Ready', { failures: 0, reason: 'Ready' }),
    down('Timeout'),
    'Ready',
    [],
    1,
  ],
  [
    'ready host goes down: the second missed heartbeat in a row',
    at('Ready', { failures: 1, reason: 'Unreachable' }),
    down('Unreachable'),
    'NotReady',
    ['recordNotReady', 'stopEventStream'],
    2,
  ],
  [
    'a tolerated miss is forgotten once the host answers',
    at('Ready', { failures: 1, reason: 'Timeout' }),
    up,
    'Ready',
    [],
    0,
  ],
  [
    'a failure that cannot pass by itself counts at once (TLS)',
    at('Ready', { failures: 0, reason: 'Ready' }),
    down('TLSError'),
    'NotReady',
    ['recordNotReady', 'stopEventStream'],
    1,
  ],
  [
    'a disconnected agent counts at once',
    at('Ready', { failures: 0, reason: 'Ready' }),
    down('AgentDisconnected'),
    'NotReady',
    ['recordNotReady', 'stopEventStream'],
    1,
  ],
  [
    'still down, same reason: no new event',
    at('NotReady', { failures: 2, reason: 'Unreachable' }),
    down('Unreachable'),
    'NotReady',
    [],
    3,
  ],
  [
    'still down, new reason',
    at('NotReady', { failures: 2, reason: 'Unreachable' }),
    down('TLSError'),
    'NotReady',
    ['recordReasonChanged'],
    3,
  ],
  [
    'comes back',
    at('NotReady', { failures: 5, reason: 'Unreachable' }),
    up,
    'Ready',
    ['recordReady', 'startEventStream'],
    0,
  ],
  [
    'saved by an older machine version restarts from Pending',
    { state: 'Ready', context: { failures: 0 }, version: 0 },
    down('TLSError'),
    'NotReady',
    ['recordNotReady'],
    1,
  ],
  [
    'unknown saved state restarts from Pending',
    { state: 'Bogus', context: { failures: 0 }, version: HOST_MACHINE_VERSION },
    up,
    'Ready',
    ['recordReady', 'startEventStream'],
    0,
  ],
];

describe('hostMachine', () => {
  it.each(table)('%s', (_name, saved, event, state, actions, failures) => {
    const step = stepMachine(hostMachine, HOST_MACHINE_VERSION, saved, event);
    expect(step.saved.state).toBe(state);
    expect(step.actions.filter((a) => a.startsWith('record') || a.endsWith('EventStream'))).toEqual(actions);
    expect(step.saved.context.failures).toBe(failures);
  });
});

describe('hostMachineSpec', () => {
  // Through decide(), the controller sees exactly the effects it handles, in
  // order, and the machine's own counting (resetFailures, countFailure) never.
  it.each(table)('%s', (_name, saved, event, state, effects, failures) => {
    const step = decide(hostMachineSpec, saved, event);
    expect(step.saved.state).toBe(state);
    expect(step.effects).toEqual(effects);
    expect(step.saved.context.failures).toBe(failures);
  });
});
