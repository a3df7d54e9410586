import type { AnyStateMachine, EventFromLogic } from 'xstate';
import { stepMachine, type SavedMachineState } from './machine-step.js';

/**
 * A kind's pure machine and the effects it names. An effect is an action the
 * controller carries out (create, recordCreated, …); the machine only names
 * it, through a no-op slot made by `effectSlots`, so a misspelt action in the
 * machine fails the type-check, and the kind's `Record<Effect, Handler>` table
 * fails it when an effect has no handler. The machine's own `assign`s are not
 * effects: xstate applies them, and they never reach the controller.
 */
export interface MachineSpec<M extends AnyStateMachine, C extends object, E extends string> {
  machine: M;
  /** Bumped when states change meaning: a saved state of another version restarts from the initial state. */
  version: number;
  /** The context a host starts with; a saved context is merged over it (fields added later get defaults). */
  initialContext: C;
  effects: readonly E[];
}

/** The no-op action slots for `setup({ actions })`: the controller, not the machine, performs effects. */
export function effectSlots<const E extends string>(effects: readonly E[]): Record<E, () => void> {
  return Object.fromEntries(effects.map((name) => [name, () => undefined])) as Record<E, () => void>;
}

export interface TypedStep<C, E extends string> {
  saved: SavedMachineState<C>;
  /** The effects to carry out, in order. */
  effects: E[];
  /** True when the state value changed. */
  changed: boolean;
  /** The state it stepped from (undefined: a fresh start). */
  from: string | undefined;
}

/**
 * One decision step (see stepMachine), with the actions narrowed to the
 * spec's effects. An action that is not one is a machine written against
 * another effect list: it throws rather than being silently skipped.
 */
export function decide<M extends AnyStateMachine, C extends object, E extends string>(
  spec: MachineSpec<M, C, E>,
  saved: SavedMachineState<C> | undefined,
  event: EventFromLogic<M>,
): TypedStep<C, E> {
  const next = stepMachine<M, C>(spec.machine, spec.version, saved, event);
  const known: ReadonlySet<string> = new Set(spec.effects);
  const isEffect = (action: string): action is E => known.has(action);
  const unhandled = next.actions.filter((action) => !isEffect(action));
  if (unhandled.length > 0)
    throw new Error(
      `machine ${spec.machine.id} asked for ${unhandled.join(', ')}, which is not among its effects`,
    );
  return {
    saved: next.saved,
    effects: next.actions.filter(isEffect),
    changed: next.changed,
    from: saved?.state,
  };
}
