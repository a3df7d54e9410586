import { describe, expect, it } from 'vitest';
import { hostCandidates } from './register.js';
import type { ManagedObject } from './types.js';

const obj = (spec: Record<string, unknown>, hosts: string[] = []): ManagedObject =>
  ({
    metadata: { name: 'o', namespace: 'ns' },
    spec,
    ...(hosts.length ? { status: { hosts: hosts.map((name) => ({ name, phase: 'Ready' })) } } : {}),
  }) as unknown as ManagedObject;

describe('hostCandidates (the index behind "which objects does a host change concern")', () => {
  it('names the spec host and every host the status lists, once each', () => {
    expect(hostCandidates(obj({ hostName: 'a' }, ['a', 'b']))).toEqual(['a', 'b']);
  });

  it('puts an object with a selector under any host: every host may come to match it', () => {
    expect(hostCandidates(obj({ hostSelector: { matchLabels: { fleet: 'x' } } }, ['c']))).toEqual(['c', '*']);
    expect(hostCandidates(obj({ hostSelector: {} }))).toEqual(['*']);
  });

  it('names nothing for an object placed nowhere yet', () => {
    expect(hostCandidates(obj({}))).toEqual([]);
  });
});
