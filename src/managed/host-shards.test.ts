import { describe, expect, it } from 'vitest';
import { Reason } from '../crds/reasons.js';
import { carriedOutcome, participates, resultOf } from './host-shards.js';
import type { HostOutcome } from './types.js';

const entry = { name: 'h1', phase: 'Running' };

describe('resultOf and carriedOutcome', () => {
  const cases: Array<[string, HostOutcome]> = [
    ['ready', { entry, ready: true }],
    ['progressing', { entry, ready: false, requeueAfterMs: 2_000 }],
    ['failed', { entry, ready: false, failure: { reason: Reason.PullError, message: 'no such image' } }],
    ['stalled', { entry, ready: false, stalled: { reason: Reason.PolicyViolation, message: 'privileged' } }],
    [
      'unknown',
      { entry, ready: false, unknown: { reason: Reason.AgentDisconnected, message: 'tunnel down' } },
    ],
  ];

  it.each(cases)('%s: the entry records what another replica summarises the same way', (_what, outcome) => {
    const recorded = { ...outcome.entry, result: resultOf(outcome) };
    const carried = carriedOutcome('h1', recorded);
    expect(carried.ready).toBe(outcome.ready);
    expect(carried.failure).toEqual(outcome.failure);
    expect(carried.stalled).toEqual(outcome.stalled);
    expect(carried.unknown).toEqual(outcome.unknown);
    // Recording a carried outcome again changes nothing: replicas do not fight over it.
    expect(resultOf(carried)).toEqual(recorded.result);
  });

  it('a stalled outcome that also failed records Stalled (the summary ranks it first)', () => {
    const both: HostOutcome = {
      entry,
      ready: false,
      failure: { reason: Reason.PullError, message: 'x' },
      stalled: { reason: Reason.PolicyViolation, message: 'y' },
    };
    expect(resultOf(both)).toEqual({ state: 'Stalled', reason: Reason.PolicyViolation, message: 'y' });
  });

  it('a host without an entry, or whose entry records nothing yet, is not Ready', () => {
    expect(carriedOutcome('h2', undefined)).toMatchObject({
      ready: false,
      entry: { name: 'h2', phase: 'Pending' },
    });
    expect(carriedOutcome('h1', entry)).toEqual({ entry, ready: false });
  });
});

describe('participates', () => {
  const ownership = (owned: string[]) => ({
    owns: (key: string) => owned.includes(key),
    run: <R>(_key: string, work: () => Promise<R>) => work(),
  });

  it('when it holds one of the hosts, or the object’s own key (its home)', () => {
    expect(participates(ownership(['h2']), { objectKey: 'ns/a', hostNames: ['h1', 'h2'] })).toBe(true);
    expect(participates(ownership(['ns/a']), { objectKey: 'ns/a', hostNames: [] })).toBe(true);
    expect(participates(ownership(['h3']), { objectKey: 'ns/a', hostNames: ['h1', 'h2'] })).toBe(false);
  });
});
