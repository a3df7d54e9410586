import { describe, expect, it } from 'vitest';
import {
  formatTime,
  getCondition,
  isFalse,
  isTrue,
  markReady,
  markReconciling,
  markRetrying,
  markStalled,
  removeCondition,
  setCondition,
  type Condition,
  type ConditionStatus,
} from './conditions.js';

const T0 = new Date('2025-01-01T00:00:00.123Z');
const T1 = new Date('2025-01-01T00:05:00.999Z');
const cond = (
  type: string,
  status: ConditionStatus,
  at = '2025-01-01T00:00:00Z',
  reason = 'R',
): Condition => ({
  type,
  status,
  reason,
  message: 'm',
  lastTransitionTime: at,
});

describe('setCondition', () => {
  it.each([
    {
      name: 'appends a new condition stamped now (seconds precision)',
      before: [] as Condition[],
      input: { type: 'Ready', status: 'True' as const, reason: 'Ok', message: 'fine', observedGeneration: 3 },
      want: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ok',
          message: 'fine',
          observedGeneration: 3,
          lastTransitionTime: '2025-01-01T00:05:00Z',
        },
      ],
    },
    {
      name: 'keeps lastTransitionTime when status is unchanged but reason/message change',
      before: [cond('Ready', 'False')],
      input: {
        type: 'Ready',
        status: 'False' as const,
        reason: 'PullFailed',
        message: 'again',
        observedGeneration: 4,
      },
      want: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'PullFailed',
          message: 'again',
          observedGeneration: 4,
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
    },
    {
      name: 'moves lastTransitionTime when status flips',
      before: [cond('Ready', 'False')],
      input: { type: 'Ready', status: 'True' as const, reason: 'Ok', message: '' },
      want: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ok',
          message: '',
          lastTransitionTime: '2025-01-01T00:05:00Z',
        },
      ],
    },
    {
      name: 'replaces in place, keeping order of others',
      before: [cond('A', 'True'), cond('Ready', 'Unknown'), cond('B', 'True')],
      input: { type: 'Ready', status: 'True' as const, reason: 'Ok', message: '' },
      want: [
        cond('A', 'True'),
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ok',
          message: '',
          lastTransitionTime: '2025-01-01T00:05:00Z',
        },
        cond('B', 'True'),
      ],
    },
  ])('$name', ({ before, input, want }) => {
    const snapshot = structuredClone(before);
    expect(setCondition(before, input, T1)).toEqual(want);
    expect(before).toEqual(snapshot); // not mutated
  });

  it('accepts undefined conditions', () => {
    expect(setCondition(undefined, { type: 'X', status: 'True', reason: 'R', message: '' }, T0)).toHaveLength(
      1,
    );
  });

  it('is idempotent: setting the same condition twice changes nothing', () => {
    const once = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: '' }, T0);
    expect(setCondition(once, { type: 'Ready', status: 'True', reason: 'Ok', message: '' }, T1)).toEqual(
      once,
    );
  });
});

describe('queries', () => {
  const list = [cond('Ready', 'True'), cond('Stalled', 'False')];
  it.each([
    { type: 'Ready', t: true, f: false },
    { type: 'Stalled', t: false, f: true },
    { type: 'Missing', t: false, f: false },
  ])('$type', ({ type, t, f }) => {
    expect(isTrue(list, type)).toBe(t);
    expect(isFalse(list, type)).toBe(f);
  });
  it('getCondition / removeCondition', () => {
    expect(getCondition(list, 'Ready')?.status).toBe('True');
    expect(getCondition(undefined, 'Ready')).toBeUndefined();
    expect(removeCondition(list, 'Ready').map((c) => c.type)).toEqual(['Stalled']);
  });
  it('formatTime drops milliseconds', () => {
    expect(formatTime(T0)).toBe('2025-01-01T00:00:00Z');
  });
});

describe('kstatus helpers', () => {
  const d = { reason: 'Why', message: 'because', observedGeneration: 2 };
  const summary = (cs: Condition[]) => Object.fromEntries(cs.map((c) => [c.type, c.status]));

  it.each([
    { name: 'markReady', fn: markReady, want: { Ready: 'True' } },
    { name: 'markReconciling', fn: markReconciling, want: { Ready: 'Unknown', Reconciling: 'True' } },
    { name: 'markRetrying', fn: markRetrying, want: { Ready: 'False', Reconciling: 'True' } },
    { name: 'markStalled', fn: markStalled, want: { Ready: 'False', Stalled: 'True' } },
  ])('$name from any prior state gives $want', ({ fn, want }) => {
    const priors: Condition[][] = [
      [],
      [cond('Ready', 'True')],
      [cond('Ready', 'False'), cond('Reconciling', 'True'), cond('Stalled', 'True')],
      [cond('Other', 'True')],
    ];
    for (const prior of priors) {
      const next = fn(prior, d, T1);
      const { Other: _other, ...rest } = summary(next);
      expect(rest).toEqual(want);
      for (const c of next.filter((c) => c.type !== 'Other')) {
        expect(c).toMatchObject({ reason: 'Why', message: 'because', observedGeneration: 2 });
      }
    }
  });

  it('keeps other conditions', () => {
    expect(markReady([cond('HostReachable', 'True')], d, T1).map((c) => c.type)).toEqual([
      'HostReachable',
      'Ready',
    ]);
  });

  it('Ready transition time survives a Reconciling → Retrying round while Ready stays not-True', () => {
    const a = markRetrying([], d, T0);
    const b = markRetrying(a, { ...d, message: 'still failing' }, T1);
    expect(getCondition(b, 'Ready')?.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
    const c = markReady(b, d, T1);
    expect(getCondition(c, 'Ready')?.lastTransitionTime).toBe('2025-01-01T00:05:00Z');
  });
});
