import { describe, expect, it } from 'vitest';
import { stepMachine, type SavedMachineState } from '../../managed/machine-step.js';
import {
  NETWORK_MACHINE_VERSION,
  networkMachine,
  type NetworkEvent,
  type NetworkMachineContext,
} from './network-machine.js';

const at = (state: string, repairs = 0): SavedMachineState<NetworkMachineContext> => ({
  state,
  context: { repairs },
  version: NETWORK_MACHINE_VERSION,
});
const seen = (o: Partial<Extract<NetworkEvent, { type: 'OBSERVED' }>>): NetworkEvent => ({
  type: 'OBSERVED',
  exists: true,
  ownership: 'ours',
  upToDate: true,
  inUse: false,
  ...o,
});
const missing: NetworkEvent = { type: 'OBSERVED', exists: false };
const created: NetworkEvent = { type: 'CREATED' };
const foreign = seen({ ownership: 'foreign' });
const otherOwner = seen({ ownership: 'otherOwner' });
const changedFree = seen({ upToDate: false });
const changedInUse = seen({ upToDate: false, inUse: true });
const paused = (o: Partial<Extract<NetworkEvent, { type: 'OBSERVED' }>> = {}) => seen({ paused: true, ...o });
const refused = (o: Partial<Extract<NetworkEvent, { type: 'OBSERVED' }>> = {}) =>
  seen({ policyViolation: true, ...o });

type Row = [string, SavedMachineState<NetworkMachineContext> | undefined, NetworkEvent, string, string[]];

// Every state × every kind of observation: [name, saved state, event, next state, actions].
const table: Row[] = [
  // Pending (also: nothing saved yet, or a saved state from another machine version)
  ['new network is created', undefined, missing, 'Creating', ['create', 'recordCreated']],
  ['pending, missing', at('Pending'), missing, 'Creating', ['create', 'recordCreated']],
  ['an existing network of ours is adopted', undefined, seen({}), 'Ready', []],
  ['adopted even with containers attached', undefined, seen({ inUse: true }), 'Ready', []],
  ['foreign network with our name', undefined, foreign, 'NameConflict', ['recordNameConflict']],
  ['another DockerNetwork owns the name', undefined, otherOwner, 'NameConflict', ['recordNameConflict']],
  [
    'adopted from an older spec, nothing attached: recreated',
    undefined,
    changedFree,
    'Creating',
    ['recreate', 'recordRecreated'],
  ],
  [
    'adopted from an older spec while in use',
    undefined,
    changedInUse,
    'RecreateRequired',
    ['recordRecreateRequired'],
  ],
  ['paused before anything exists: nothing is created', undefined, paused({ exists: false }), 'Paused', []],
  ['pending, create confirmed', at('Pending'), created, 'Ready', []],
  [
    'saved state of another machine version starts over',
    { state: 'Ready', context: { repairs: 0 }, version: NETWORK_MACHINE_VERSION + 1 },
    missing,
    'Creating',
    ['create', 'recordCreated'],
  ],

  // Creating
  ['create confirmed', at('Creating'), created, 'Ready', []],
  ['creating, seen present', at('Creating'), seen({}), 'Ready', []],
  [
    'creating, still missing (lost a race): create again, no event',
    at('Creating'),
    missing,
    'Creating',
    ['create'],
  ],
  ['creating, the name was taken meanwhile', at('Creating'), foreign, 'NameConflict', ['recordNameConflict']],
  ['creating, older spec and free', at('Creating'), changedFree, 'Creating', ['recreate', 'recordRecreated']],
  [
    'creating, older spec in use',
    at('Creating'),
    changedInUse,
    'RecreateRequired',
    ['recordRecreateRequired'],
  ],
  ['creating, paused', at('Creating'), paused(), 'Paused', []],

  // Ready
  ['steady state', at('Ready'), seen({}), 'Ready', []],
  ['steady state with containers attached', at('Ready'), seen({ inUse: true }), 'Ready', []],
  ['removed out of band is repaired', at('Ready'), missing, 'Creating', ['create', 'recordDriftRepaired']],
  ['replaced by a foreign network out of band', at('Ready'), foreign, 'NameConflict', ['recordNameConflict']],
  ['another resource took the name', at('Ready'), otherOwner, 'NameConflict', ['recordNameConflict']],
  [
    'spec changed, nothing attached: recreated',
    at('Ready'),
    changedFree,
    'Creating',
    ['recreate', 'recordRecreated'],
  ],
  [
    'spec changed while in use: stalled',
    at('Ready'),
    changedInUse,
    'RecreateRequired',
    ['recordRecreateRequired'],
  ],
  ['ready, paused', at('Ready'), paused(), 'Paused', []],

  // NameConflict
  ['still foreign: no repeated event', at('NameConflict'), foreign, 'NameConflict', []],
  ['foreign became another owner: no repeated event', at('NameConflict'), otherOwner, 'NameConflict', []],
  ['conflict cleared by the user', at('NameConflict'), missing, 'Creating', ['create', 'recordCreated']],
  ['conflicting network relabelled as ours', at('NameConflict'), seen({}), 'Ready', []],
  [
    'conflict cleared, ours from an older spec',
    at('NameConflict'),
    changedFree,
    'Creating',
    ['recreate', 'recordRecreated'],
  ],
  [
    'conflict cleared, ours older and in use',
    at('NameConflict'),
    changedInUse,
    'RecreateRequired',
    ['recordRecreateRequired'],
  ],
  ['name conflict, paused', at('NameConflict'), paused(), 'Paused', []],

  // RecreateRequired
  ['still in use: no repeated event', at('RecreateRequired'), changedInUse, 'RecreateRequired', []],
  [
    'the last container left: recreated',
    at('RecreateRequired'),
    changedFree,
    'Creating',
    ['recreate', 'recordRecreated'],
  ],
  ['spec reverted', at('RecreateRequired'), seen({ inUse: true }), 'Ready', []],
  ['user removed the old network', at('RecreateRequired'), missing, 'Creating', ['create', 'recordCreated']],
  ['replaced by a foreign network', at('RecreateRequired'), foreign, 'NameConflict', ['recordNameConflict']],
  ['recreate required, paused', at('RecreateRequired'), paused(), 'Paused', []],

  // PolicyViolation: the host refuses the spec; nothing is created, recreated or removed
  [
    'refused before anything exists: nothing is created',
    undefined,
    refused({ exists: false }),
    'PolicyViolation',
    ['recordPolicyViolation'],
  ],
  [
    'refused while ours exists from an older spec: not recreated',
    at('Ready'),
    refused({ upToDate: false }),
    'PolicyViolation',
    ['recordPolicyViolation'],
  ],
  [
    'refused wins over a name conflict',
    at('Creating'),
    refused({ ownership: 'foreign' }),
    'PolicyViolation',
    ['recordPolicyViolation'],
  ],
  [
    'still refused: no repeated event',
    at('PolicyViolation'),
    refused({ exists: false }),
    'PolicyViolation',
    [],
  ],
  ['spec fixed: created', at('PolicyViolation'), missing, 'Creating', ['create', 'recordCreated']],
  ['spec fixed, ours exists', at('PolicyViolation'), seen({}), 'Ready', []],
  ['refused, paused: paused wins', at('PolicyViolation'), paused({ policyViolation: true }), 'Paused', []],
  ['resumed into a refusal', at('Paused'), refused(), 'PolicyViolation', ['recordPolicyViolation']],

  // Paused: observe only, whatever is seen
  ['still paused, missing', at('Paused'), paused({ exists: false }), 'Paused', []],
  ['still paused, older spec', at('Paused'), paused({ upToDate: false }), 'Paused', []],
  ['still paused, foreign', at('Paused'), paused({ ownership: 'foreign' }), 'Paused', []],
  ['resumed with it missing: pending first', at('Paused'), missing, 'Pending', []],
  ['resumed, converged', at('Paused'), seen({}), 'Ready', []],
  ['resumed, foreign', at('Paused'), foreign, 'NameConflict', ['recordNameConflict']],
  ['resumed, older spec and free', at('Paused'), changedFree, 'Creating', ['recreate', 'recordRecreated']],
  ['resumed, older spec in use', at('Paused'), changedInUse, 'RecreateRequired', ['recordRecreateRequired']],
];

describe('networkMachine', () => {
  it.each(table)('%s', (_name, saved, event, state, actions) => {
    const step = stepMachine(networkMachine, NETWORK_MACHINE_VERSION, saved, event);
    expect(step.saved.state).toBe(state);
    expect(step.actions).toEqual(actions);
  });

  it('covers every state of the machine', () => {
    const covered = new Set(table.map(([, saved]) => saved?.state ?? 'Pending'));
    expect([...covered].sort()).toEqual(Object.keys(networkMachine.root.states).sort());
  });

  it('counts repairs, and only repairs', () => {
    const step = (saved: SavedMachineState<NetworkMachineContext>, e: NetworkEvent) =>
      stepMachine(networkMachine, NETWORK_MACHINE_VERSION, saved, e).saved.context.repairs;
    expect(step(at('Ready', 2), missing)).toBe(3);
    expect(step(at('Ready', 2), changedFree)).toBe(2);
    expect(step(at('NameConflict', 2), missing)).toBe(2);
  });

  it('reports whether the state changed', () => {
    expect(stepMachine(networkMachine, NETWORK_MACHINE_VERSION, at('Ready'), seen({})).changed).toBe(false);
    expect(stepMachine(networkMachine, NETWORK_MACHINE_VERSION, at('Ready'), missing).changed).toBe(true);
  });
});
