import { describe, expect, it } from 'vitest';
import { summarize } from './summary.js';
import type { HostOutcome } from './types.js';

const now = new Date('2026-11-29T12:00:00Z');
const ok = (host: string): { host: string; outcome: HostOutcome } => ({
  host,
  outcome: { entry: { name: host, phase: 'Ready' }, ready: true },
});
const busy = (host: string, phase = 'Creating'): { host: string; outcome: HostOutcome } => ({
  host,
  outcome: { entry: { name: host, phase }, ready: false },
});
const failing = (host: string): { host: string; outcome: HostOutcome } => ({
  host,
  outcome: {
    entry: { name: host, phase: 'HostNotReady' },
    ready: false,
    failure: { reason: 'HostNotReady', message: 'down' },
  },
});
const stalled = (host: string): { host: string; outcome: HostOutcome } => ({
  host,
  outcome: {
    entry: { name: host, phase: 'PolicyViolation' },
    ready: false,
    stalled: { reason: 'PolicyViolation', message: 'spec.security.privileged: not allowed' },
  },
});

const unseen = (host: string): { host: string; outcome: HostOutcome } => ({
  host,
  outcome: {
    entry: { name: host, phase: 'AgentDisconnected' },
    ready: false,
    unknown: { reason: 'AgentDisconnected', message: 'state unknown since 2026-11-29T11:59:00Z' },
  },
});

function conds(s: ReturnType<typeof summarize>) {
  return Object.fromEntries(s.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));
}

describe('summarize', () => {
  it('is Ready=Unknown, never the last state seen, while a host cannot be seen', () => {
    const s = summarize({ outcomes: [ok('a'), unseen('edge')], generation: 1, now });
    expect(conds(s)).toEqual({ Ready: 'Unknown/AgentDisconnected', Reconciling: 'True/AgentDisconnected' });
    expect(s).toMatchObject({ hostsReady: '1/2', phase: 'AgentDisconnected' });
    expect(s.conditions.find((c) => c.type === 'Ready')?.message).toBe(
      'edge: state unknown since 2026-11-29T11:59:00Z',
    );
  });

  it('lets a failure on another host win over a host that cannot be seen', () => {
    const s = summarize({ outcomes: [unseen('edge'), failing('b')], now });
    expect(conds(s).Ready).toBe('False/HostNotReady');
  });

  it('is Ready only when every placed host is', () => {
    const s = summarize({ outcomes: [ok('a'), ok('b')], generation: 3, now });
    expect(s).toMatchObject({ hostsReady: '2/2', phase: 'Ready' });
    expect(conds(s)).toEqual({ Ready: 'True/Converged' });
    expect(s.conditions[0]?.observedGeneration).toBe(3);
  });
  it('names the hosts still in progress', () => {
    const s = summarize({ outcomes: [ok('a'), busy('b')], generation: 1, now });
    expect(s).toMatchObject({ hostsReady: '1/2', phase: 'Creating' });
    expect(conds(s)).toEqual({ Ready: 'Unknown/Progressing', Reconciling: 'True/Progressing' });
    expect(s.conditions.find((c) => c.type === 'Ready')?.message).toContain('b: Creating');
  });
  it('reports failures as retrying with the first reason and every failing host', () => {
    const s = summarize({ outcomes: [failing('a'), ok('b'), failing('c')], generation: 1, now });
    expect(conds(s)).toEqual({ Ready: 'False/HostNotReady', Reconciling: 'True/HostNotReady' });
    const message = s.conditions.find((c) => c.type === 'Ready')?.message ?? '';
    expect(message).toContain('a: HostNotReady: down');
    expect(message).toContain('c: HostNotReady: down');
  });
  it('is Stalled when any host needs the user to act', () => {
    const s = summarize({ outcomes: [failing('a'), stalled('b')], generation: 1, now });
    expect(conds(s)).toEqual({ Ready: 'False/PolicyViolation', Stalled: 'True/PolicyViolation' });
    expect(s.conditions.find((c) => c.type === 'Stalled')?.message).toContain('spec.security.privileged');
  });
  it('explains why nothing was placed', () => {
    const s = summarize({
      outcomes: [],
      refused: [{ host: 'x', reason: 'HostNotFound', message: 'DockerHost x does not exist' }],
      generation: 1,
      now,
    });
    expect(s).toMatchObject({ hostsReady: '0/0', phase: 'Unplaced' });
    expect(conds(s)).toEqual({ Ready: 'False/HostNotFound', Reconciling: 'True/HostNotFound' });
    const none = summarize({ outcomes: [], generation: 1, now });
    expect(none.conditions.find((c) => c.type === 'Ready')?.message).toContain('no DockerHost matches');
  });
  it('waits for removals from hosts that stopped matching', () => {
    const s = summarize({ outcomes: [ok('a')], pendingRemoval: ['b'], generation: 1, now });
    expect(conds(s)).toEqual({ Ready: 'Unknown/Progressing', Reconciling: 'True/Progressing' });
    expect(s.conditions.find((c) => c.type === 'Ready')?.message).toContain('b: removing');
  });
  it('says what a removal waits for', () => {
    const s = summarize({
      outcomes: [busy('a')],
      pendingRemoval: [{ host: 'b', message: 'waiting for a to be Ready' }],
      generation: 1,
      now,
    });
    expect(s.conditions.find((c) => c.type === 'Ready')?.message).toContain('b: waiting for a to be Ready');
  });

  const kept = {
    host: 'b',
    reason: 'HostNoLongerMatches' as const,
    message: 'DockerHost b no longer matches spec.hostSelector; kept there',
  };
  it.each([
    [
      'kept host Ready: still Ready, PlacementMatched=False',
      [ok('a'), ok('b')],
      { Ready: 'True/Converged', PlacementMatched: 'False/HostNoLongerMatches' },
    ],
    [
      'kept host not Ready: progress as usual',
      [ok('a'), busy('b')],
      {
        Ready: 'Unknown/Progressing',
        Reconciling: 'True/Progressing',
        PlacementMatched: 'False/HostNoLongerMatches',
      },
    ],
    [
      'kept host stalled: Stalled as usual',
      [ok('a'), stalled('b')],
      {
        Ready: 'False/PolicyViolation',
        Stalled: 'True/PolicyViolation',
        PlacementMatched: 'False/HostNoLongerMatches',
      },
    ],
  ])('%s', (_name, outcomes, expected) => {
    const s = summarize({ outcomes, generation: 2, now, kept: [kept] });
    expect(conds(s)).toEqual(expected);
    const matched = s.conditions.find((c) => c.type === 'PlacementMatched');
    expect(matched).toMatchObject({ message: `b: ${kept.message}`, observedGeneration: 2 });
  });
  it('names kept hosts in the Ready message, and drops PlacementMatched once they match again', () => {
    const s = summarize({ outcomes: [ok('a'), ok('b')], generation: 1, now, kept: [kept] });
    expect(s.conditions.find((c) => c.type === 'Ready')?.message).toBe(
      'ready on 2/2 hosts; kept on b (HostNoLongerMatches)',
    );
    const again = summarize({ outcomes: [ok('a'), ok('b')], generation: 1, previous: s.conditions, now });
    expect(conds(again)).toEqual({ Ready: 'True/Converged' });
  });
});
