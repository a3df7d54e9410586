import {
  initialTransition,
  transition,
  type AnyStateMachine,
  type EventFromLogic,
  type SnapshotFrom,
} from 'xstate';

/** What a controller stores in status for one machine: its state, a small context and the machine version. */
export interface SavedMachineState<Context> {
  state: string;
  context: Context;
  version: number;
}

export interface MachineStep<Context> {
  saved: SavedMachineState<Context>;
  /** Action types, in order, for the controller to execute. */
  actions: string[];
  /** True when the state value changed. */
  changed: boolean;
}

/**
 * Runs one pure decision step of an xstate machine: restore the saved state
 * (or start from the initial state, also when the saved one came from another
 * machine version), feed one observation, and return the next state and the
 * actions. The machine does no I/O and keeps no timers; time is the caller's
 * requeueAfterMs.
 */
export function stepMachine<M extends AnyStateMachine, Context>(
  machine: M,
  version: number,
  saved: SavedMachineState<Context> | undefined,
  event: EventFromLogic<M>,
): MachineStep<Context> {
  let snapshot: SnapshotFrom<M>;
  if (saved && saved.version === version && isKnownState(machine, saved.state)) {
    snapshot = machine.resolveState({ value: saved.state, context: saved.context }) as SnapshotFrom<M>;
  } else {
    // The machines here take no input.
    [snapshot] = (initialTransition as (m: AnyStateMachine) => [SnapshotFrom<M>, unknown[]])(machine);
  }
  const before = String((snapshot as { value: unknown }).value);
  const [next, actions] = transition(machine, snapshot, event);
  const value = String((next as { value: unknown }).value);
  return {
    saved: { state: value, context: (next as { context: Context }).context, version },
    actions: actions.map((a) => String(a.type)).filter((t) => !t.startsWith('xstate.')),
    changed: value !== before || saved === undefined,
  };
}

function isKnownState(machine: AnyStateMachine, state: string): boolean {
  return Object.hasOwn(machine.root.states, state);
}
