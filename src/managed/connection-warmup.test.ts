import { describe, expect, it } from 'vitest';
import { CONNECTION_WARMUP_MS, WARMUP_REQUEUE_MS, warmupOutcome } from './connection-warmup.js';

const entry = { name: 'h1', phase: 'Running', id: 'abc' };

describe('warmupOutcome', () => {
  it.each([
    {
      name: 'Ready object, known on this host, right after start: keep it, look again soon',
      input: { previous: entry, objectReady: true, sinceStartMs: 0 },
      want: { entry, ready: true, requeueAfterMs: WARMUP_REQUEUE_MS },
    },
    {
      name: 'just inside the warm-up',
      input: { previous: entry, objectReady: true, sinceStartMs: CONNECTION_WARMUP_MS - 1 },
      want: { entry, ready: true, requeueAfterMs: WARMUP_REQUEUE_MS },
    },
    {
      name: 'warm-up over: the missing connection is reported',
      input: { previous: entry, objectReady: true, sinceStartMs: CONNECTION_WARMUP_MS },
      want: undefined,
    },
    {
      name: 'object not Ready (or not for this generation): nothing to protect',
      input: { previous: entry, objectReady: false, sinceStartMs: 0 },
      want: undefined,
    },
    {
      name: 'never placed on this host before: no state to keep',
      input: { previous: undefined, objectReady: true, sinceStartMs: 0 },
      want: undefined,
    },
  ])('$name', ({ input, want }) => {
    expect(warmupOutcome(input)).toEqual(want);
  });
});
