import { describe, expect, it } from 'vitest';
import { backoffDelay, changesObservedState, parseEventChunk, sinceParameter } from './event-stream.js';

const line = (o: object) => JSON.stringify(o) + '\n';

describe('parseEventChunk', () => {
  const ev = {
    Type: 'container',
    Action: 'die',
    Actor: { ID: 'abc', Attributes: { 'dockyard.io/name': 'web', exitCode: '1' } },
    time: 1700000000,
    timeNano: '1700000000123456789',
  };
  it('parses complete lines and keeps the tail', () => {
    const text = line(ev) + line({ ...ev, Action: 'start' }) + '{"Type":"cont';
    const { events, rest } = parseEventChunk(text);
    expect(events.map((e) => e.action)).toEqual(['die', 'start']);
    expect(events[0]).toMatchObject({
      type: 'container',
      id: 'abc',
      attributes: { 'dockyard.io/name': 'web' },
    });
    expect(rest).toBe('{"Type":"cont');
  });
  it('joins a line split across chunks', () => {
    const full = line(ev);
    const first = parseEventChunk(full.slice(0, 20));
    expect(first.events).toHaveLength(0);
    const second = parseEventChunk(first.rest + full.slice(20));
    expect(second.events).toHaveLength(1);
    expect(second.rest).toBe('');
  });
  it('skips garbled lines', () => {
    expect(parseEventChunk('not json\n' + line(ev)).events).toHaveLength(1);
  });
  it('keeps timeNano exact beyond 2^53', () => {
    const raw =
      '{"Type":"container","Action":"start","Actor":{"ID":"x"},"time":1700000000,"timeNano":1700000000123456789}\n';
    expect(parseEventChunk(raw).events[0]?.timeNano).toBe(1_700_000_000_123_456_789n);
  });
  it('falls back to seconds when timeNano is missing', () => {
    const { events } = parseEventChunk(
      line({ Type: 'volume', Action: 'destroy', Actor: { ID: 'v' }, time: 5 }),
    );
    expect(events[0]?.timeNano).toBe(5_000_000_000n);
  });
});

describe('sinceParameter', () => {
  it.each([
    [1_700_000_000_123_456_789n, '1700000000.123456789'],
    [5_000_000_001n, '5.000000001'],
    [0n, '0.000000000'],
  ])('%s → %s', (nanos, text) => {
    expect(sinceParameter(nanos)).toBe(text);
  });
});

describe('backoffDelay', () => {
  it.each([
    [0, 0, 250],
    [0, 1, 500],
    [3, 1, 4000],
    [20, 1, 30000],
    [20, 0, 15000],
  ])('attempt %i with random %f → %i ms', (attempt, r, expected) => {
    expect(backoffDelay(attempt, 500, 30_000, () => r)).toBe(expected);
  });
});

describe('changesObservedState', () => {
  it.each([
    ['container', 'exec_create: /bin/sh -c true', false],
    ['container', 'exec_start: /bin/sh -c true', false],
    ['container', 'exec_die', false],
    ['container', 'top', false],
    ['container', 'attach', false],
    ['container', 'health_status: unhealthy', true],
    ['container', 'die', true],
    ['container', 'start', true],
    ['container', 'update', true],
    ['container', 'a-future-action', true],
    ['image', 'exec_create', true],
    ['network', 'disconnect', true],
  ])('%s %s → %s', (type, action, expected) => {
    expect(changesObservedState({ type, action })).toBe(expected);
  });
});
