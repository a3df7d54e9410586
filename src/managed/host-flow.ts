import type { AnyStateMachine, EventFromLogic } from 'xstate';
import type { DockerObjectType } from '../docker/event-stream.js';
import type { ResourceType } from '../runtime/object-ref.js';
import { savedFromEntry } from './machine-state.js';
import type { SavedMachineState } from './machine-step.js';
import { decide, type MachineSpec, type TypedStep } from './machine-spec.js';
import type {
  DeletionPolicy,
  FinalizeOutcome,
  HostContext,
  HostOutcome,
  ManagedKind,
  ManagedObject,
} from './types.js';

/**
 * One reconcile of one object on one host, as it goes through the flow. `work`
 * is the kind's own record of what it observed, which its effect handlers
 * update as they act (the id of what they created, a note for status);
 * `step` is the machine's latest decision.
 */
export interface FlowRun<T extends ManagedObject, W, C, E extends string, Ev = unknown> {
  readonly ctx: HostContext<T>;
  readonly work: W;
  step: TypedStep<C, E>;
  /** The event the latest step decided on (an observation, CREATED, a pull's end…). */
  event: Ev;
}

/**
 * What an effect handler may say back. `send` feeds the machine an event now
 * (CREATED after a create), and the effects of that step run next. `dropRest`
 * drops the effects still queued from the earlier step, because acting showed
 * the world is not as observed (a create that found the name taken).
 */
export type EffectResult<Ev> = void | { send?: Ev; dropRest?: boolean };

export type EffectHandler<T extends ManagedObject, W, C, E extends string, Ev> = (
  run: FlowRun<T, W, C, E, Ev>,
) => Promise<EffectResult<Ev>> | EffectResult<Ev>;

/** Every effect the machine can ask for, with its handler: a missing or misspelt one fails the type-check. */
export type EffectTable<T extends ManagedObject, W, C, E extends string, Ev> = Record<
  E,
  EffectHandler<T, W, C, E, Ev>
>;

/** What observe found: the kind's working record and the machine event that describes it. */
export interface Observed<W, Ev> {
  work: W;
  event: Ev;
  /** What happened since the last look, decided on before `event` (a background pull that ended). */
  earlier?: readonly Ev[];
}

/** An observe that ends the reconcile on this host without a decision (an invalid name, a refused image). */
export interface Concluded {
  outcome: HostOutcome;
}

/**
 * What a kind supplies for one host (crossplane-runtime's ExternalClient and
 * its decisions, split): observe Docker into an event, the pure machine that
 * decides, a table of effects that act, and the status report of the state
 * reached. runHostFlow owns the order; no kind writes that loop.
 */
export interface HostFlow<
  T extends ManagedObject,
  W,
  M extends AnyStateMachine,
  C extends object,
  E extends string,
> {
  machine: MachineSpec<M, C, E>;
  /**
   * Where the machine resumes, when status is not the whole story (a kind's
   * own memory of its last decision); undefined starts over. Without it, the
   * state status.hosts[].machine saved.
   */
  restore?(ctx: HostContext<T>): SavedMachineState<C> | undefined;
  observe(
    ctx: HostContext<T>,
    saved: SavedMachineState<C> | undefined,
  ): Promise<Observed<W, EventFromLogic<M>> | Concluded>;
  effects: EffectTable<T, W, C, E, EventFromLogic<M>>;
  /**
   * Optional second look once the effects ran, for kinds whose objects move
   * on their own (a container just started is usually running already): an
   * event here is one more decision, and its effects run too.
   */
  afterActing?(run: FlowRun<T, W, C, E, EventFromLogic<M>>): Promise<EventFromLogic<M> | undefined>;
  /** The host's status entry and outcome, from the state reached and the working record. */
  report(run: FlowRun<T, W, C, E, EventFromLogic<M>>): HostOutcome;
}

/** observe → decide → act (→ look again) → report, on one host. */
export async function runHostFlow<
  T extends ManagedObject,
  W,
  M extends AnyStateMachine,
  C extends object,
  E extends string,
>(flow: HostFlow<T, W, M, C, E>, ctx: HostContext<T>): Promise<HostOutcome> {
  const saved = flow.restore ? flow.restore(ctx) : savedFromEntry(ctx.previous, flow.machine.initialContext);
  const seen = await flow.observe(ctx, saved);
  if ('outcome' in seen) return seen.outcome;
  const [first, ...rest] = [...(seen.earlier ?? []), seen.event];
  const run: FlowRun<T, W, C, E, EventFromLogic<M>> = {
    ctx,
    work: seen.work,
    step: decide(flow.machine, saved, first ?? seen.event),
    event: first ?? seen.event,
  };
  await carryOut(flow, run);
  for (const event of rest) await feed(flow, run, event);
  const again = await flow.afterActing?.(run);
  if (again !== undefined) await feed(flow, run, again);
  return flow.report(run);
}

/** One more decision on `event`, and its effects. */
async function feed<
  T extends ManagedObject,
  W,
  M extends AnyStateMachine,
  C extends object,
  E extends string,
>(
  flow: HostFlow<T, W, M, C, E>,
  run: FlowRun<T, W, C, E, EventFromLogic<M>>,
  event: EventFromLogic<M>,
): Promise<void> {
  run.step = decide(flow.machine, run.step.saved, event);
  run.event = event;
  await carryOut(flow, run);
}

/** Runs the step's effects in order through the kind's table, following the events handlers send. */
async function carryOut<
  T extends ManagedObject,
  W,
  M extends AnyStateMachine,
  C extends object,
  E extends string,
>(flow: HostFlow<T, W, M, C, E>, run: FlowRun<T, W, C, E, EventFromLogic<M>>): Promise<void> {
  const queue: E[] = [...run.step.effects];
  for (let effect = queue.shift(); effect !== undefined; effect = queue.shift()) {
    const result = await flow.effects[effect](run);
    if (!result) continue;
    if (result.dropRest) queue.length = 0;
    if (result.send !== undefined) {
      run.step = decide(flow.machine, run.step.saved, result.send);
      run.event = result.send;
      queue.unshift(...run.step.effects);
    }
  }
}

/** Everything about a kind that is not per-host: how it is named, what it watches, how it leaves a host. */
export interface KindDescription<
  T extends ManagedObject,
  W,
  M extends AnyStateMachine,
  C extends object,
  E extends string,
> {
  kind: string;
  resource: ResourceType;
  /** The Docker object type whose events concern this kind. */
  dockerEventType: DockerObjectType;
  defaultDeletionPolicy: DeletionPolicy;
  /** The object's name in Docker (events without owner labels are mapped back through it). */
  dockerNameOf(obj: T): string;
  flow: HostFlow<T, W, M, C, E>;
  /**
   * Leaving a host under either deletion policy: drop what the kind keeps
   * in memory for it there (a background pull nobody waits for any more),
   * and what of it nothing on the host needs any more (a container's unused
   * files images). Runs before `delete` under Delete.
   */
  release?(ctx: HostContext<T>): void | Promise<void>;
  /** Remove the object from the host (deletionPolicy Delete); done when nothing of ours is left there. */
  delete(ctx: HostContext<T>): Promise<FinalizeOutcome>;
}

/** Marks a ManagedKind made by defineKind: registration takes no other. */
export const DESCRIBED: unique symbol = Symbol('dockyard.describedKind');

export type DescribedKind<T extends ManagedObject> = ManagedKind<T> & { readonly [DESCRIBED]: true };

/** The ManagedKind the generic reconciler drives, made from a kind's description. */
export function defineKind<
  T extends ManagedObject,
  W,
  M extends AnyStateMachine,
  C extends object,
  E extends string,
>(description: KindDescription<T, W, M, C, E>): DescribedKind<T> {
  const { flow, release, delete: remove, ...naming } = description;
  return {
    [DESCRIBED]: true,
    ...naming,
    reconcileHost: (ctx) => runHostFlow(flow, ctx),
    async finalizeHost(ctx, policy) {
      await release?.(ctx);
      if (policy === 'Orphan') return { done: true };
      return remove(ctx);
    },
  };
}

/**
 * Whether a state has a row in a table keyed by state: a kind's table of
 * stalled phases, whose names are the reasons they stall with.
 */
export function phaseIn<K extends string>(table: Readonly<Record<K, unknown>>, state: string): state is K {
  return Object.hasOwn(table, state);
}
