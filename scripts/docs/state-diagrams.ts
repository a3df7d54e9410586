// docs/state-machines.md from the controllers' xstate machines: one Mermaid
// stateDiagram-v2 and one transition table per machine, read from the machine
// definitions themselves (states, transitions: event, guard, target, actions).
// Pure.
import type { AnyStateMachine } from 'xstate';
import { cell, code, table } from './markdown.js';

export interface MachineDoc {
  kind: string;
  machine: AnyStateMachine;
  version: number;
  source: string;
  about: string;
}

/** One transition as declared: from a state (or from every state, declared on the root). */
export interface Transition {
  /** A state key, or undefined for a transition declared on the machine itself (from every state). */
  source: string | undefined;
  event: string;
  guard: string | undefined;
  /** The target state key; undefined when the state does not change. */
  target: string | undefined;
  actions: string[];
}

function nameOf(thing: unknown, fallback: string): string {
  if (typeof thing === 'string') return thing;
  if (typeof thing === 'object' && thing !== null && 'type' in thing) return String(thing.type);
  if (typeof thing === 'function' && thing.name) return thing.name;
  return fallback;
}

type StateNodeLike = AnyStateMachine['root'];

function transitionsOf(node: StateNodeLike, source: string | undefined): Transition[] {
  const out: Transition[] = [];
  for (const [event, list] of node.transitions) {
    for (const t of list) {
      out.push({
        source,
        event,
        guard: t.guard === undefined ? undefined : nameOf(t.guard, 'guard'),
        target: t.target?.[0]?.key,
        actions: t.actions.map((a) => nameOf(a, 'action')).filter((a) => !a.startsWith('xstate.')),
      });
    }
  }
  return out;
}

export function stateKeys(machine: AnyStateMachine): string[] {
  return Object.keys(machine.root.states);
}

export function initialState(machine: AnyStateMachine): string {
  const initial = machine.root.initial?.target[0]?.key;
  if (!initial) throw new Error(`machine ${machine.id} has no initial state`);
  return initial;
}

/** Every transition of the machine: the root's first (they apply in every state), then each state's. */
export function machineTransitions(machine: AnyStateMachine): Transition[] {
  const root = machine.root;
  const states = root.states as Record<string, StateNodeLike>;
  return [
    ...transitionsOf(root, undefined),
    ...Object.entries(states).flatMap(([key, node]) => transitionsOf(node, key)),
  ];
}

function entryActions(machine: AnyStateMachine, state: string): string[] {
  const node = (machine.root.states as Record<string, StateNodeLike>)[state];
  return (node?.entry ?? []).map((a) => nameOf(a, 'action'));
}

/** "every state", "every state except A, B" or "A, B": whichever is shortest to read. */
function describeSources(sources: ReadonlySet<string | undefined>, all: readonly string[]): string {
  if (sources.has(undefined) || all.every((s) => sources.has(s))) return 'every state';
  const inside = all.filter((s) => sources.has(s));
  const outside = all.filter((s) => !sources.has(s));
  if (inside.length > 3 && outside.length < inside.length) return `every state except ${outside.join(', ')}`;
  return inside.join(', ');
}

/**
 * Per event, its guards in the order the machine tries them (unguarded: ''),
 * merged over every state's list (all states try them in one consistent order).
 */
function guardOrders(transitions: readonly Transition[]): Map<string, string[]> {
  const perSource = new Map<string, string[]>();
  for (const t of transitions) {
    const key = `${t.source ?? ''}\u0000${t.event}`;
    perSource.set(key, [...(perSource.get(key) ?? []), t.guard ?? '']);
  }
  const orders = new Map<string, string[]>();
  for (const [key, list] of perSource) {
    const event = key.split('\u0000')[1] ?? '';
    const merged = orders.get(event) ?? [];
    list.forEach((guard, i) => {
      if (merged.includes(guard)) return;
      const next = list.slice(i + 1).find((g) => merged.includes(g));
      if (next === undefined) merged.push(guard);
      else merged.splice(merged.indexOf(next), 0, guard);
    });
    orders.set(event, merged);
  }
  return orders;
}

function label(t: Transition, orders: Map<string, string[]>): string {
  if (t.guard) return `${t.event} [${t.guard}]`;
  return (orders.get(t.event) ?? []).length > 1 ? `${t.event} (otherwise)` : t.event;
}

/**
 * The Mermaid diagram. The machines decide from every state the same way (a
 * level-based decision on a fresh observation), so a transition declared in
 * every state is drawn once from "any state"; the rest from their state.
 * Transitions that keep the state are listed in the table only.
 */
export function mermaid(machine: AnyStateMachine): string {
  const all = stateKeys(machine);
  const edges = new Map<string, { from: string; to: string; labels: string[] }>();
  const bySignature = new Map<string, Set<string | undefined>>();
  const declared = machineTransitions(machine);
  const orders = guardOrders(declared);
  const transitions = declared.filter((t) => t.target !== undefined);
  for (const t of transitions) {
    const sig = `${t.event}\u0000${t.guard ?? ''}\u0000${t.target}`;
    const set = bySignature.get(sig) ?? new Set();
    set.add(t.source);
    bySignature.set(sig, set);
  }
  const add = (from: string, to: string, text: string) => {
    const key = `${from}\u0000${to}`;
    const edge = edges.get(key) ?? { from, to, labels: [] };
    if (!edge.labels.includes(text)) edge.labels.push(text);
    edges.set(key, edge);
  };
  for (const t of transitions) {
    const sources = bySignature.get(`${t.event}\u0000${t.guard ?? ''}\u0000${t.target}`) ?? new Set();
    const universal = sources.has(undefined) || all.every((s) => sources.has(s));
    add(universal ? 'AnyState' : (t.source ?? 'AnyState'), t.target ?? '', label(t, orders));
  }
  const lines = ['stateDiagram-v2', '  state "any state" as AnyState', `  [*] --> ${initialState(machine)}`];
  for (const e of edges.values()) lines.push(`  ${e.from} --> ${e.to}: ${e.labels.join(', ')}`);
  return ['```mermaid', ...lines, '```'].join('\n');
}

/**
 * The transition table: one row per event, guard and outcome (target and
 * actions), with the states it applies in. Rows for one event are in the
 * order the machine tries them; the first whose guard passes wins.
 */
export function transitionTable(machine: AnyStateMachine): string {
  const all = stateKeys(machine);
  const transitions = machineTransitions(machine);
  const eventOrder = [...new Set(transitions.map((t) => t.event))];
  const guardOrder = guardOrders(transitions);
  const rows = new Map<string, { t: Transition; sources: Set<string | undefined>; seen: number }>();
  transitions.forEach((t, seen) => {
    const key = [t.event, t.guard ?? '', t.target ?? '', t.actions.join(',')].join('\u0000');
    const row = rows.get(key) ?? { t, sources: new Set(), seen };
    row.sources.add(t.source);
    rows.set(key, row);
  });
  const sorted = [...rows.values()].sort(
    (a, b) =>
      eventOrder.indexOf(a.t.event) - eventOrder.indexOf(b.t.event) ||
      (guardOrder.get(a.t.event) ?? []).indexOf(a.t.guard ?? '') -
        (guardOrder.get(b.t.event) ?? []).indexOf(b.t.guard ?? '') ||
      a.seen - b.seen,
  );
  return table(
    ['Event', 'Guard', 'From', 'To', 'Actions'],
    sorted.map(({ t, sources }) => [
      code(t.event),
      t.guard ? code(t.guard) : (guardOrder.get(t.event) ?? []).length > 1 ? '(otherwise)' : '',
      cell(describeSources(sources, all)),
      t.target ? t.target : '(stays)',
      t.actions.map(code).join(', '),
    ]),
  );
}

function machineSection(doc: MachineDoc): string {
  const states = stateKeys(doc.machine);
  const entries = states
    .map((s) => ({ s, actions: entryActions(doc.machine, s) }))
    .filter((e) => e.actions.length > 0)
    .map((e) => `${code(e.s)}: ${e.actions.map(code).join(', ')}`);
  return [
    `## ${doc.kind}`,
    `${doc.about} Machine ${code(doc.machine.id)}, version ${doc.version}, in ${code(doc.source)}.`,
    `States: ${states.map(code).join(', ')}; initial ${code(initialState(doc.machine))}.`,
    ...(entries.length > 0 ? [`Entry actions: ${entries.join('; ')}.`] : []),
    mermaid(doc.machine),
    transitionTable(doc.machine),
  ].join('\n\n');
}

export function renderStateMachinesDoc(machines: readonly MachineDoc[]): string {
  return [
    '# Controller state machines',
    '<!-- Generated from the xstate machines by scripts/generate-docs.ts; do not edit. -->',
    'Each controller keeps one xstate machine per object and host (one per DockerHost for the host ' +
      'controller). A machine is a pure decision: the controller restores the saved state from ' +
      '`status` (`machine.state`, a small context and the machine version; another version starts ' +
      'over from the initial state), feeds it one event built from a fresh observation of Docker ' +
      '(`OBSERVED`, or the situation the observation was classified as) or from the result of work it ' +
      'started (`CREATED`, `PULL_SUCCEEDED`, …), and carries out the actions the step returns. An action ' +
      'is an effect the machine only names; the kind handles each in a typed table (`src/managed/host-flow.ts` ' +
      "runs observe → decide → act → report); the actions that only update the machine's context " +
      '(`assign`) stay inside it. There are no ' +
      'timers inside: when to look again is the reconcile result. The state is the phase shown in ' +
      '`status.hosts[].phase`.',
    'Because the decision is level-based, most transitions are declared the same way in every state; ' +
      'the diagrams draw those once from "any state". In the tables, the rows for one event are tried ' +
      'top to bottom and the first whose guard passes is taken; "(stays)" keeps the state.',
    machines.map((m) => `- [${m.kind}](#${m.kind.toLowerCase()})`).join('\n'),
    ...machines.map(machineSection),
  ].join('\n\n');
}
