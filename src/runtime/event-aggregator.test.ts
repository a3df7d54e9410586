import { describe, expect, it } from 'vitest';
import { EventAggregator, eventKey } from './event-aggregator.js';

describe('eventKey', () => {
  it.each([
    { a: { uid: 'u', reason: 'R', note: 'n' }, b: { uid: 'u', reason: 'R', note: 'n' }, same: true },
    { a: { uid: 'u', reason: 'R', note: 'n' }, b: { uid: 'v', reason: 'R', note: 'n' }, same: false },
    { a: { uid: 'u', reason: 'R', note: 'n' }, b: { uid: 'u', reason: 'S', note: 'n' }, same: false },
    { a: { uid: 'u', reason: 'R', note: 'n' }, b: { uid: 'u', reason: 'R', note: 'm' }, same: false },
    // No ambiguity from separators inside the parts.
    { a: { uid: 'u|R', reason: '', note: 'n' }, b: { uid: 'u', reason: 'R|', note: 'n' }, same: false },
  ])('$a vs $b', ({ a, b, same }) => {
    expect(eventKey(a) === eventKey(b)).toBe(same);
  });
});

describe('EventAggregator', () => {
  it('creates first, patches the series count on repeats, and coalesces while a write is in flight', () => {
    const agg = new EventAggregator(60_000);
    expect(agg.record('k', 0)).toEqual({ kind: 'create' });
    expect(agg.record('k', 10)).toEqual({ kind: 'none' }); // create still in flight
    expect(agg.created('k', 'obj.1', 'ns')).toEqual({
      kind: 'patch',
      name: 'obj.1',
      namespace: 'ns',
      count: 2,
      lastObservedTime: 10,
    });
    expect(agg.record('k', 20)).toEqual({ kind: 'none' }); // patch in flight
    expect(agg.record('k', 30)).toEqual({ kind: 'none' });
    expect(agg.patched('k')).toMatchObject({ kind: 'patch', count: 4, lastObservedTime: 30 });
    expect(agg.patched('k')).toEqual({ kind: 'none' });
    expect(agg.record('k', 40)).toMatchObject({ kind: 'patch', count: 5 });
  });

  it.each([
    { name: 'within the window', gap: 60_000, want: 'patch' },
    { name: 'past the window', gap: 60_001, want: 'create' },
  ])('a repeat $name → $want', ({ gap, want }) => {
    const agg = new EventAggregator(60_000);
    agg.record('k', 0);
    agg.created('k', 'e', 'ns');
    expect(agg.record('k', gap).kind).toBe(want);
  });

  it('the window runs from the last occurrence, not the first', () => {
    const agg = new EventAggregator(60_000);
    agg.record('k', 0);
    agg.created('k', 'e', 'ns');
    for (const t of [50_000, 100_000, 150_000]) {
      expect(agg.record('k', t).kind).toBe('patch');
      agg.patched('k');
    }
  });

  it('after a failure the next occurrence creates a new event', () => {
    const agg = new EventAggregator();
    agg.record('k', 0);
    agg.failed('k');
    expect(agg.record('k', 1)).toEqual({ kind: 'create' });
  });

  it('keeps keys apart and evicts the least recently observed beyond its capacity', () => {
    const agg = new EventAggregator(60_000, 2);
    agg.record('a', 0);
    agg.created('a', 'a', 'ns');
    agg.record('b', 1);
    agg.created('b', 'b', 'ns');
    agg.record('a', 2); // a is now the most recent
    agg.patched('a');
    agg.record('c', 3); // evicts b
    expect(agg.size).toBe(2);
    expect(agg.record('b', 4).kind).toBe('create');
  });

  it('ignores completions for unknown keys', () => {
    const agg = new EventAggregator();
    expect(agg.created('x', 'n', 'ns')).toEqual({ kind: 'none' });
    expect(agg.patched('x')).toEqual({ kind: 'none' });
  });
});
