import { assign, setup } from 'xstate';
import { effectSlots, type MachineSpec } from '../../managed/machine-spec.js';
import type { ContainerSituation } from './situation.js';

export const CONTAINER_MACHINE_VERSION = 1;

export interface ContainerMachineContext {
  /** Restart count at the last observation: a rise means it crashed since. */
  lastRestartCount: number;
  /** Consecutive observations in CrashLoopBackOff: drives the requeue backoff. */
  crashes: number;
  /** Times it was put back after a change outside Dockyard. */
  repairs: number;
  /**
   * Restarts Dockyard made after OOM kills Docker's restart policy did not
   * retry, counted against restartPolicy.maximumRetryCount; a new container
   * starts from 0, as Docker's own count does.
   */
  retries: number;
  /**
   * The not-ready dependencies an existing container is kept running without
   * (dependencies.ts), so the DependencyNotReady Event is recorded once per change.
   */
  heldOn?: string;
  /**
   * The last dockyard.io/rerun value seen (container-report.ts writes it on
   * every look): a value that differs from it is a new request to run a
   * finished container again. In status, so a restart does not rerun.
   */
  rerun?: string;
}

export type ContainerEvent = ContainerSituation;

/**
 * What the controller carries out for the machine (container-effects.ts has
 * a handler for each): Docker calls first, then the Events it records.
 */
export const CONTAINER_EFFECTS = [
  'pull',
  'create',
  'start',
  'recreate',
  'update',
  'reconnect',
  'stop',
  'recordCreated',
  'recordDriftRepaired',
  'recordRecreated',
  'recordUpdated',
  'recordStopped',
  'recordOOMKilled',
  'recordHealthy',
  'recordUnhealthy',
  'recordBackOff',
  'recordFailed',
  'recordCompleted',
  'recordRerun',
  'recordPolicyViolation',
  'recordNameConflict',
  'recordWaiting',
] as const;
export type ContainerEffect = (typeof CONTAINER_EFFECTS)[number];

/** The machine's own context updates: applied by xstate, never seen by the controller. */
type Assignment =
  'countRepair' | 'countRetry' | 'resetRetries' | 'countCrash' | 'resetCrashes' | 'noteRestarts';
type Action = ContainerEffect | Assignment;

/** A list of actions, typed (a misspelt one fails the type-check). */
const act = (...actions: Action[]): Action[] => actions;

/** Where a container starts on a host, and what a saved context is merged over. */
const INITIAL_CONTEXT: ContainerMachineContext = { lastRestartCount: 0, crashes: 0, repairs: 0, retries: 0 };

/**
 * The decision shared by every state, in the classifier's priority order;
 * `drift` says whether the container was up before (then a missing or stopped
 * container is drift to repair and report).
 */
function decide(drift: boolean) {
  const repaired = drift ? act('recordDriftRepaired', 'countRepair') : act();
  const created = act('create', 'start', 'resetRetries', ...(drift ? repaired : act('recordCreated')));
  return {
    PAUSED: { target: '#dockercontainer.Paused' as const },
    POLICY_VIOLATION: { target: '#dockercontainer.PolicyViolation' as const },
    CONFIG_MISSING: { target: '#dockercontainer.WaitingForDependencies' as const },
    DEPENDENCIES_MISSING: { target: '#dockercontainer.WaitingForDependencies' as const },
    CONFLICT: { target: '#dockercontainer.NameConflict' as const },
    // Stay put: the state before the removal decides whether what follows is drift.
    REMOVING: {},
    IMAGE_MISSING: { target: '#dockercontainer.Pulling' as const, actions: act('pull') },
    MISSING: [
      {
        guard: 'start' as const,
        target: '#dockercontainer.Creating' as const,
        actions: created,
      },
      {
        target: '#dockercontainer.Stopped' as const,
        actions: act('create', 'resetRetries', 'recordCreated'),
      },
    ],
    // recreate replaces the container and starts the new one when Running is
    // wanted, as one step: a new container that cannot start gives way to the old.
    OUTDATED: [
      {
        guard: 'start' as const,
        target: '#dockercontainer.Recreating' as const,
        actions: act('recreate', 'resetRetries', 'recordRecreated'),
      },
      {
        target: '#dockercontainer.Stopped' as const,
        actions: act('recreate', 'resetRetries', 'recordRecreated'),
      },
    ],
    NEEDS_UPDATE: { actions: act('update', 'recordUpdated') },
    NETWORKS_DIFFER: { actions: act('reconnect') },
    SHOULD_STOP: {
      target: '#dockercontainer.Stopped' as const,
      actions: act('stop', 'recordStopped'),
    },
    STOPPED: { target: '#dockercontainer.Stopped' as const },
    CRASH_LOOPING: {
      target: '#dockercontainer.CrashLoopBackOff' as const,
      actions: act('countCrash', 'noteRestarts'),
    },
    FAILED: { target: '#dockercontainer.Failed' as const },
    // A finished run stays finished: never started again but by an explicit rerun.
    COMPLETED: { target: '#dockercontainer.Completed' as const },
    RERUN: {
      target: '#dockercontainer.Starting' as const,
      actions: act('start', 'resetRetries', 'recordRerun'),
    },
    NOT_RUNNING: {
      target: '#dockercontainer.Starting' as const,
      actions: act('start', ...repaired),
    },
    OOM_RETRY: {
      target: '#dockercontainer.Starting' as const,
      actions: act('recordOOMKilled', 'start', 'countRetry'),
    },
    RUNNING: [
      {
        guard: 'healthy' as const,
        target: '#dockercontainer.Healthy' as const,
        actions: act('noteRestarts', 'resetCrashes'),
      },
      {
        guard: 'unhealthy' as const,
        target: '#dockercontainer.Unhealthy' as const,
        actions: act('noteRestarts', 'resetCrashes'),
      },
      {
        guard: 'healthStarting' as const,
        target: '#dockercontainer.Starting' as const,
        actions: act('noteRestarts'),
      },
      { target: '#dockercontainer.Running' as const, actions: act('noteRestarts', 'resetCrashes') },
    ],
  };
}

/**
 * A DockerContainer on one host. States are the phases shown in status:
 * Pending → WaitingForDependencies → Pulling → Creating → Starting → Running
 * (Healthy / Unhealthy with a healthcheck), Stopped, Recreating,
 * CrashLoopBackOff, Completed (a run to completion that exited 0), Failed,
 * PolicyViolation, NameConflict, Paused. Entry
 * actions record the Events people watch for (health transitions, back-off).
 */
export const containerMachine = setup({
  types: {} as { context: ContainerMachineContext; events: ContainerEvent },
  actions: {
    ...effectSlots(CONTAINER_EFFECTS),
    countRepair: assign({ repairs: ({ context }) => context.repairs + 1 }),
    countRetry: assign({ retries: ({ context }) => (context.retries ?? 0) + 1 }),
    resetRetries: assign({ retries: 0 }),
    // Once per crash Docker counted, not per observation: a counter that moved
    // on every look would change status on every reconcile.
    countCrash: assign({
      crashes: ({ context, event }) =>
        event.type === 'CRASH_LOOPING' && event.restartCount === context.lastRestartCount
          ? context.crashes
          : context.crashes + 1,
    }),
    resetCrashes: assign({ crashes: 0 }),
    noteRestarts: assign({
      lastRestartCount: ({ context, event }) =>
        event.type === 'RUNNING' || event.type === 'CRASH_LOOPING'
          ? event.restartCount
          : context.lastRestartCount,
    }),
  },
  guards: {
    start: ({ event }) => (event.type === 'MISSING' || event.type === 'OUTDATED') && event.start,
    healthy: ({ event }) => event.type === 'RUNNING' && event.health === 'healthy',
    unhealthy: ({ event }) => event.type === 'RUNNING' && event.health === 'unhealthy',
    healthStarting: ({ event }) => event.type === 'RUNNING' && event.health === 'starting',
  },
}).createMachine({
  id: 'dockercontainer',
  initial: 'Pending',
  context: { ...INITIAL_CONTEXT },
  states: {
    Pending: { on: decide(false) },
    WaitingForDependencies: { entry: 'recordWaiting', on: decide(false) },
    Pulling: { on: decide(false) },
    Creating: { on: decide(false) },
    Starting: { on: decide(false) },
    Running: { on: decide(true) },
    Healthy: { entry: 'recordHealthy', on: decide(true) },
    Unhealthy: { entry: 'recordUnhealthy', on: decide(true) },
    Stopped: { on: decide(false) },
    Recreating: { on: decide(false) },
    CrashLoopBackOff: { entry: 'recordBackOff', on: decide(false) },
    Completed: { entry: 'recordCompleted', on: decide(false) },
    Failed: { entry: 'recordFailed', on: decide(false) },
    PolicyViolation: { entry: 'recordPolicyViolation', on: decide(false) },
    NameConflict: { entry: 'recordNameConflict', on: decide(false) },
    Paused: { on: decide(false) },
  },
});

/** Completed is Ready (kstatus Current, Argo CD Healthy): a finished job did what it was meant to. */
export const READY_PHASES = new Set(['Running', 'Healthy', 'Stopped', 'Completed']);

/** The container machine as the host flow runs it. */
export const containerMachineSpec: MachineSpec<
  typeof containerMachine,
  ContainerMachineContext,
  ContainerEffect
> = {
  machine: containerMachine,
  version: CONTAINER_MACHINE_VERSION,
  initialContext: INITIAL_CONTEXT,
  effects: CONTAINER_EFFECTS,
};
