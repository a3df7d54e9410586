import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { DockerHost } from '../crds/dockerhost.js';
import type { HostRuntime } from '../docker/host-runtime.js';
import type { Informer } from '../runtime/informer.js';
import type { ControllerDeps } from './controller-deps.js';
import { DESCRIBED, defineKind, runHostFlow, type EffectResult, type HostFlow } from './host-flow.js';
import { registerManagedController } from './register.js';
import { decide, effectSlots, type MachineSpec } from './machine-spec.js';
import { hostContext } from './test-support.js';
import type { HostContext, HostOutcome, ManagedKind, ManagedObject } from './types.js';

// The generic flow against a toy kind: the order observe → decide → act →
// (look again) → report, and what an effect handler's answer does to it.

const EFFECTS = ['make', 'noteMade', 'noteRepaired', 'noteBlocked'] as const;
type Effect = (typeof EFFECTS)[number];
type ToyEvent = { type: 'SEEN'; exists: boolean; blocked?: boolean } | { type: 'MADE' } | { type: 'POKE' };
interface ToyContext {
  makes: number;
}

const toyMachine = setup({
  types: {} as { context: ToyContext; events: ToyEvent },
  actions: { ...effectSlots(EFFECTS), countMake: assign({ makes: ({ context }) => context.makes + 1 }) },
  guards: {
    blocked: ({ event }) => event.type === 'SEEN' && event.blocked === true,
    missing: ({ event }) => event.type === 'SEEN' && !event.exists,
  },
}).createMachine({
  id: 'toy',
  initial: 'Pending',
  context: { makes: 0 },
  states: {
    Pending: {
      on: {
        SEEN: [
          { guard: 'blocked', target: 'Blocked' },
          { guard: 'missing', target: 'Making', actions: ['make', 'noteMade', 'countMake'] },
          { target: 'Ready' },
        ],
      },
    },
    Making: { on: { MADE: 'Ready', SEEN: [{ guard: 'blocked', target: 'Blocked' }, { target: 'Ready' }] } },
    Ready: {
      on: {
        SEEN: [
          { guard: 'blocked', target: 'Blocked' },
          { guard: 'missing', target: 'Making', actions: ['make', 'noteRepaired', 'countMake'] },
        ],
        POKE: { target: 'Ready', actions: ['noteMade'] },
      },
    },
    Blocked: {
      entry: 'noteBlocked',
      on: { SEEN: [{ guard: 'missing', target: 'Making', actions: ['make'] }] },
    },
  },
});

const toySpec: MachineSpec<typeof toyMachine, ToyContext, Effect> = {
  machine: toyMachine,
  version: 1,
  initialContext: { makes: 0 },
  effects: EFFECTS,
};

interface Script {
  exists?: boolean;
  /** What the `make` handler answers. */
  makeAnswers?: EffectResult<ToyEvent>;
  earlier?: ToyEvent[];
  again?: ToyEvent;
  conclude?: HostOutcome;
}

function toyFlow(
  script: Script,
  log: string[],
): HostFlow<ManagedObject, { log: string[] }, typeof toyMachine, ToyContext, Effect> {
  const note = (what: string) => (run: { work: { log: string[] } }) => void run.work.log.push(what);
  return {
    machine: toySpec,
    async observe() {
      log.push('observe');
      if (script.conclude) return { outcome: script.conclude };
      return {
        work: { log },
        event: { type: 'SEEN', exists: script.exists ?? false },
        ...(script.earlier ? { earlier: script.earlier } : {}),
      };
    },
    effects: {
      make: (run) => {
        run.work.log.push(`make from ${run.step.from ?? 'start'}`);
        return script.makeAnswers ?? { send: { type: 'MADE' } };
      },
      noteMade: note('noteMade'),
      noteRepaired: note('noteRepaired'),
      noteBlocked: note('noteBlocked'),
    },
    afterActing: async (run) => {
      run.work.log.push(`afterActing in ${run.step.saved.state}`);
      return script.again;
    },
    report: ({ step, event }) => ({
      entry: {
        name: 'h1',
        phase: step.saved.state,
        machine: { ...step.saved, context: { ...step.saved.context } },
      },
      ready: step.saved.state === 'Ready',
      ...(event.type === 'POKE' ? { requeueAfterMs: 1 } : {}),
    }),
  };
}

async function run(script: Script, previous?: HostContext<ManagedObject>['previous']) {
  const log: string[] = [];
  const ctx = hostContext({ previous });
  const outcome = await runHostFlow(toyFlow(script, log), ctx);
  return { log, outcome };
}

const saved = (state: string, makes = 0) => ({
  name: 'h1',
  phase: state,
  machine: { state, version: 1, context: { makes } },
});

describe('runHostFlow', () => {
  const cases: Array<{
    name: string;
    script: Script;
    previous?: ReturnType<typeof saved>;
    log: string[];
    phase: string;
  }> = [
    {
      name: 'missing: make, then the effects after it, then look again',
      script: {},
      log: ['observe', 'make from start', 'noteMade', 'afterActing in Ready'],
      phase: 'Ready',
    },
    {
      name: 'present from the start: no effects',
      script: { exists: true },
      log: ['observe', 'afterActing in Ready'],
      phase: 'Ready',
    },
    {
      name: 'resumes from the saved state: missing from Ready is a repair',
      script: {},
      previous: saved('Ready'),
      log: ['observe', 'make from Ready', 'noteRepaired', 'afterActing in Ready'],
      phase: 'Ready',
    },
    {
      name: 'a handler that sends an event: its effects run before the rest (Blocked entry), and dropRest drops the rest',
      script: { makeAnswers: { send: { type: 'SEEN', exists: true, blocked: true }, dropRest: true } },
      log: ['observe', 'make from start', 'noteBlocked', 'afterActing in Blocked'],
      phase: 'Blocked',
    },
    {
      name: 'dropRest alone: nothing more this time, the state stays where the step put it',
      script: { makeAnswers: { dropRest: true } },
      log: ['observe', 'make from start', 'afterActing in Making'],
      phase: 'Making',
    },
    {
      name: 'earlier events are decided on first, each with its effects',
      script: { exists: true, earlier: [{ type: 'SEEN', exists: false }] },
      log: ['observe', 'make from start', 'noteMade', 'afterActing in Ready'],
      phase: 'Ready',
    },
    {
      name: 'afterActing returns an event: one more decision and its effects',
      script: { exists: true, again: { type: 'POKE' } },
      log: ['observe', 'afterActing in Ready', 'noteMade'],
      phase: 'Ready',
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const { log, outcome } = await run(c.script, c.previous);
      expect(log).toEqual(c.log);
      expect(outcome.entry.phase).toBe(c.phase);
    });

  it('keeps the machine context the assigns built, across steps', async () => {
    const { outcome } = await run({}, saved('Ready', 2));
    expect(outcome.entry.machine?.context).toEqual({ makes: 3 });
  });

  it('hands report the event the last step decided on', async () => {
    const { outcome } = await run({ exists: true, again: { type: 'POKE' } });
    expect(outcome.requeueAfterMs).toBe(1);
  });

  it('an observe that concludes ends there: no decision, no effects', async () => {
    const conclude: HostOutcome = { entry: { name: 'h1', phase: 'InvalidName' }, ready: false };
    const { log, outcome } = await run({ conclude });
    expect(log).toEqual(['observe']);
    expect(outcome).toBe(conclude);
  });

  it('a saved state of another machine version starts over', async () => {
    const { log } = await run(
      {},
      { ...saved('Ready'), machine: { state: 'Ready', version: 9, context: { makes: 0 } } },
    );
    expect(log).toContain('noteMade');
  });
});

describe('decide', () => {
  it('narrows actions to the effects, leaving the assigns to xstate', () => {
    const step = decide(toySpec, undefined, { type: 'SEEN', exists: false });
    expect(step).toMatchObject({ effects: ['make', 'noteMade'], changed: true, from: undefined });
    expect(step.saved).toEqual({ state: 'Making', version: 1, context: { makes: 1 } });
  });

  it('throws on an action that is not among the spec effects instead of skipping it', () => {
    const partial: MachineSpec<typeof toyMachine, ToyContext, 'make'> = { ...toySpec, effects: ['make'] };
    expect(() => decide(partial, undefined, { type: 'SEEN', exists: false })).toThrow(/noteMade/);
  });
});

describe('defineKind', () => {
  const base = {
    kind: 'Toy',
    resource: { group: 'dockyard.io', version: 'v1alpha1', plural: 'toys' },
    dockerEventType: 'volume' as const,
    defaultDeletionPolicy: 'Delete' as const,
    dockerNameOf: (o: ManagedObject) => o.metadata.name,
  };

  it('releases on leaving under both policies, and deletes only under Delete', async () => {
    const calls: string[] = [];
    const kind = defineKind({
      ...base,
      flow: toyFlow({}, []),
      release: () => void calls.push('release'),
      delete: async () => {
        calls.push('delete');
        return { done: false, message: 'in use' };
      },
    });
    const ctx = hostContext();
    expect(await kind.finalizeHost(ctx, 'Orphan')).toEqual({ done: true });
    expect(await kind.finalizeHost(ctx, 'Delete')).toEqual({ done: false, message: 'in use' });
    expect(calls).toEqual(['release', 'release', 'delete']);
  });

  it('reconciles a host through the flow', async () => {
    const log: string[] = [];
    const kind = defineKind({
      ...base,
      flow: toyFlow({ exists: true }, log),
      delete: async () => ({ done: true }),
    });
    const outcome = await kind.reconcileHost(hostContext());
    expect(outcome).toMatchObject({ ready: true, entry: { phase: 'Ready' } });
    expect(log).toEqual(['observe', 'afterActing in Ready']);
  });

  it('marks what it makes; registration takes nothing else (checked by tsc)', () => {
    const kind = defineKind({ ...base, flow: toyFlow({}, []), delete: async () => ({ done: true }) });
    expect(kind[DESCRIBED]).toBe(true);
    // Never called: the @ts-expect-error is the assertion, `npm run typecheck` fails when it stops holding.
    const registerHandWritten = (handWritten: ManagedKind<ManagedObject>) =>
      registerManagedController({
        deps: {} as ControllerDeps,
        hostRuntime: {} as HostRuntime,
        hosts: {} as Informer<DockerHost>,
        // @ts-expect-error a hand-written ManagedKind would bring its own reconcile loop
        kind: handWritten,
      });
    expect(registerHandWritten).toBeTypeOf('function');
  });
});
