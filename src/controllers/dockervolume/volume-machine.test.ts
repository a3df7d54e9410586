import { describe, expect, it } from 'vitest';
import { stepMachine, type SavedMachineState } from '../../managed/machine-step.js';
import {
  VOLUME_MACHINE_VERSION,
  volumeMachine,
  type VolumeEvent,
  type VolumeMachineContext,
} from './volume-machine.js';

const at = (state: string, repairs = 0): SavedMachineState<VolumeMachineContext> => ({
  state,
  context: { repairs },
  version: VOLUME_MACHINE_VERSION,
});
const seen = (o: Partial<Extract<VolumeEvent, { type: 'OBSERVED' }>>): VolumeEvent => ({
  type: 'OBSERVED',
  exists: true,
  ownership: 'ours',
  upToDate: true,
  ...o,
});
const missing: VolumeEvent = { type: 'OBSERVED', exists: false };

// [name, saved state, event, next state, actions]
const table: Array<
  [string, SavedMachineState<VolumeMachineContext> | undefined, VolumeEvent, string, string[]]
> = [
  ['new volume is created', undefined, missing, 'Creating', ['create', 'recordCreated']],
  ['create confirmed', at('Creating'), { type: 'CREATED' }, 'Ready', []],
  ['an existing volume of ours is adopted', undefined, seen({}), 'Ready', []],
  ['creating, seen present', at('Creating'), seen({}), 'Ready', []],
  ['steady state', at('Ready'), seen({}), 'Ready', []],
  ['removed out of band is repaired', at('Ready'), missing, 'Creating', ['create', 'recordDriftRepaired']],
  [
    'foreign volume with our name',
    undefined,
    seen({ ownership: 'foreign' }),
    'NameConflict',
    ['recordNameConflict'],
  ],
  [
    'still foreign: no repeated event',
    at('NameConflict'),
    seen({ ownership: 'foreign' }),
    'NameConflict',
    [],
  ],
  [
    'another resource owns the name',
    at('Ready'),
    seen({ ownership: 'otherOwner' }),
    'NameConflict',
    ['recordNameConflict'],
  ],
  ['conflict cleared by the user', at('NameConflict'), missing, 'Creating', ['create', 'recordCreated']],
  [
    'spec changed: never recreated',
    at('Ready'),
    seen({ upToDate: false }),
    'RecreateRequired',
    ['recordRecreateRequired'],
  ],
  [
    'still changed: no repeated event',
    at('RecreateRequired'),
    seen({ upToDate: false }),
    'RecreateRequired',
    [],
  ],
  ['user removed the old volume', at('RecreateRequired'), missing, 'Creating', ['create', 'recordCreated']],
  ['spec reverted', at('RecreateRequired'), seen({}), 'Ready', []],
  [
    'policy refuses',
    undefined,
    { type: 'OBSERVED', exists: false, policyViolation: true },
    'PolicyViolation',
    ['recordPolicyViolation'],
  ],
  ['paused: nothing is created', undefined, { type: 'OBSERVED', exists: false, paused: true }, 'Paused', []],
  ['paused, then resumed with it missing', at('Paused'), missing, 'Pending', []],
];

describe('volumeMachine', () => {
  it.each(table)('%s', (_name, saved, event, state, actions) => {
    const step = stepMachine(volumeMachine, VOLUME_MACHINE_VERSION, saved, event);
    expect(step.saved.state).toBe(state);
    expect(step.actions).toEqual(actions);
  });
  it('counts repairs', () => {
    expect(
      stepMachine(volumeMachine, VOLUME_MACHINE_VERSION, at('Ready', 2), missing).saved.context.repairs,
    ).toBe(3);
  });
});
