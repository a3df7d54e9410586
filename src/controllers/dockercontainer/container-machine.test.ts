import { describe, expect, it } from 'vitest';
import { stepMachine, type SavedMachineState } from '../../managed/machine-step.js';
import {
  CONTAINER_MACHINE_VERSION,
  containerMachine,
  type ContainerEvent,
  type ContainerMachineContext,
} from './container-machine.js';

const ctx = (o: Partial<ContainerMachineContext> = {}): ContainerMachineContext => ({
  lastRestartCount: 0,
  crashes: 0,
  repairs: 0,
  retries: 0,
  ...o,
});
const at = (
  state: string,
  c: Partial<ContainerMachineContext> = {},
): SavedMachineState<ContainerMachineContext> => ({
  state,
  context: ctx(c),
  version: CONTAINER_MACHINE_VERSION,
});
const running = (
  health: 'none' | 'healthy' | 'unhealthy' | 'starting' = 'none',
  restartCount = 0,
): ContainerEvent => ({ type: 'RUNNING', health, restartCount });

// [name, saved, event, next state, actions (assign actions are internal and not listed)]
const table: Array<
  [string, SavedMachineState<ContainerMachineContext> | undefined, ContainerEvent, string, string[]]
> = [
  [
    'new container: dependencies not ready',
    undefined,
    { type: 'DEPENDENCIES_MISSING' },
    'WaitingForDependencies',
    ['recordWaiting'],
  ],
  [
    'still waiting: no repeated event',
    at('WaitingForDependencies'),
    { type: 'DEPENDENCIES_MISSING' },
    'WaitingForDependencies',
    [],
  ],
  ['secret missing', undefined, { type: 'CONFIG_MISSING' }, 'WaitingForDependencies', ['recordWaiting']],
  ['image missing: pull', at('WaitingForDependencies'), { type: 'IMAGE_MISSING' }, 'Pulling', ['pull']],
  [
    'create and start',
    at('Pulling'),
    { type: 'MISSING', start: true },
    'Creating',
    ['create', 'start', 'recordCreated'],
  ],
  ['create stopped', undefined, { type: 'MISSING', start: false }, 'Stopped', ['create', 'recordCreated']],
  ['created, now running', at('Creating'), running(), 'Running', []],
  ['created, health starting', at('Creating'), running('starting'), 'Starting', []],
  ['becomes healthy', at('Starting'), running('healthy'), 'Healthy', ['recordHealthy']],
  ['steady healthy: nothing', at('Healthy'), running('healthy'), 'Healthy', []],
  ['turns unhealthy', at('Healthy'), running('unhealthy'), 'Unhealthy', ['recordUnhealthy']],
  ['healthy again', at('Unhealthy'), running('healthy'), 'Healthy', ['recordHealthy']],
  [
    'removed out of band while running',
    at('Running'),
    { type: 'MISSING', start: true },
    'Creating',
    ['create', 'start', 'recordDriftRepaired'],
  ],
  [
    'stopped out of band while running',
    at('Healthy'),
    { type: 'NOT_RUNNING' },
    'Starting',
    ['start', 'recordDriftRepaired'],
  ],
  [
    'being removed out of band: stays Running (the removal is then drift), no action',
    at('Running'),
    { type: 'REMOVING' },
    'Running',
    [],
  ],
  [
    'not up yet after a start: no drift reported',
    at('Starting'),
    { type: 'NOT_RUNNING' },
    'Starting',
    ['start'],
  ],
  [
    'spec changed: recreate (which starts the new container itself, or gives way to the old)',
    at('Running'),
    { type: 'OUTDATED', start: true },
    'Recreating',
    ['recreate', 'recordRecreated'],
  ],
  [
    'spec changed while stopped',
    at('Stopped'),
    { type: 'OUTDATED', start: false },
    'Stopped',
    ['recreate', 'recordRecreated'],
  ],
  [
    'in-place update keeps the phase',
    at('Running'),
    { type: 'NEEDS_UPDATE' },
    'Running',
    ['update', 'recordUpdated'],
  ],
  ['networks reconnected in place', at('Healthy'), { type: 'NETWORKS_DIFFER' }, 'Healthy', ['reconnect']],
  ['desired Stopped', at('Running'), { type: 'SHOULD_STOP' }, 'Stopped', ['stop', 'recordStopped']],
  [
    'started out of band while Stopped is wanted',
    at('Stopped'),
    { type: 'SHOULD_STOP' },
    'Stopped',
    ['stop', 'recordStopped'],
  ],
  ['stays stopped', at('Stopped'), { type: 'STOPPED' }, 'Stopped', []],
  [
    'crash loop',
    at('Running'),
    { type: 'CRASH_LOOPING', restartCount: 3 },
    'CrashLoopBackOff',
    ['recordBackOff'],
  ],
  [
    'still crash looping: no repeated event',
    at('CrashLoopBackOff'),
    { type: 'CRASH_LOOPING', restartCount: 4 },
    'CrashLoopBackOff',
    [],
  ],
  ['recovers from the crash loop', at('CrashLoopBackOff'), running('none', 4), 'Running', []],
  [
    'exited under restart policy no',
    at('Running'),
    { type: 'FAILED', exitCode: 2 },
    'Failed',
    ['recordFailed'],
  ],
  [
    'ran to completion: Completed, said once',
    at('Running'),
    { type: 'COMPLETED' },
    'Completed',
    ['recordCompleted'],
  ],
  [
    'exited 0 right after the create: Completed',
    at('Creating'),
    { type: 'COMPLETED' },
    'Completed',
    ['recordCompleted'],
  ],
  [
    'stays Completed: not started again, no repeated event',
    at('Completed'),
    { type: 'COMPLETED' },
    'Completed',
    [],
  ],
  [
    'after a controller restart without saved state: Completed from Docker alone',
    undefined,
    { type: 'COMPLETED' },
    'Completed',
    ['recordCompleted'],
  ],
  [
    'rerun of a Completed container: started again',
    at('Completed'),
    { type: 'RERUN' },
    'Starting',
    ['start', 'recordRerun'],
  ],
  [
    'rerun of a Failed container: started again',
    at('Failed'),
    { type: 'RERUN' },
    'Starting',
    ['start', 'recordRerun'],
  ],
  [
    'the rerun ran to completion again',
    at('Starting'),
    { type: 'COMPLETED' },
    'Completed',
    ['recordCompleted'],
  ],
  [
    'Completed, spec changed: recreated and run again',
    at('Completed'),
    { type: 'OUTDATED', start: true },
    'Recreating',
    ['recreate', 'recordRecreated'],
  ],
  [
    'OOM-killed, retries left: start it again and say why',
    at('Running'),
    { type: 'OOM_RETRY' },
    'Starting',
    ['recordOOMKilled', 'start'],
  ],
  [
    'OOM-killed under restart policy no',
    at('Running'),
    { type: 'FAILED', exitCode: 137, oomKilled: true },
    'Failed',
    ['recordFailed'],
  ],
  [
    'stopped by Dockyard, Running wanted again: started',
    at('Stopped'),
    { type: 'NOT_RUNNING' },
    'Starting',
    ['start'],
  ],
  ['policy violation', undefined, { type: 'POLICY_VIOLATION' }, 'PolicyViolation', ['recordPolicyViolation']],
  ['name conflict', undefined, { type: 'CONFLICT' }, 'NameConflict', ['recordNameConflict']],
  ['paused', at('Running'), { type: 'PAUSED' }, 'Paused', []],
  ['unpaused and running', at('Paused'), running(), 'Running', []],
];

describe('containerMachine', () => {
  it.each(table)('%s', (_name, saved, event, state, actions) => {
    const step = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, saved, event);
    expect(step.saved.state).toBe(state);
    expect(step.actions).toEqual(actions);
  });

  it('remembers restart counts and counts crashes and repairs', () => {
    let s = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, at('Running'), {
      type: 'CRASH_LOOPING',
      restartCount: 2,
    });
    expect(s.saved.context).toMatchObject({ lastRestartCount: 2, crashes: 1 });
    s = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, s.saved, {
      type: 'CRASH_LOOPING',
      restartCount: 3,
    });
    expect(s.saved.context).toMatchObject({ lastRestartCount: 3, crashes: 2 });
    s = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, s.saved, running('none', 3));
    expect(s.saved.context).toMatchObject({ lastRestartCount: 3, crashes: 0 });
    s = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, s.saved, { type: 'NOT_RUNNING' });
    expect(s.saved.context.repairs).toBe(1);
  });

  it('counts its own OOM restarts, and a new container starts the count again', () => {
    let s = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, at('Running'), { type: 'OOM_RETRY' });
    expect(s.saved.context.retries).toBe(1);
    s = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, at('Running', { retries: 1 }), {
      type: 'OOM_RETRY',
    });
    expect(s.saved.context.retries).toBe(2);
    s = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, s.saved, { type: 'OUTDATED', start: true });
    expect(s.saved.context.retries).toBe(0);
    s = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, at('Failed', { retries: 3 }), {
      type: 'MISSING',
      start: true,
    });
    expect(s.saved.context.retries).toBe(0);
  });
});
