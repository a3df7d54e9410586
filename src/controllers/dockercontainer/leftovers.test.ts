import { describe, expect, it } from 'vitest';
import { settleLeftovers, type LeftoverFacts, type LeftoverStep } from './leftovers.js';

const old = { id: 'old', name: 'abc_team-a.web', state: 'exited', created: 100 };
const older = { id: 'older', name: 'team-a.web-v1', state: 'running', created: 50 };
const started = { id: 'new', ownership: 'ours' as const, everStarted: true };
const unstarted = { id: 'new', ownership: 'ours' as const, everStarted: false };

describe('settleLeftovers', () => {
  it.each<[string, LeftoverFacts, LeftoverStep[]]>([
    ['nothing aside: nothing to do', { current: started, aside: [] }, []],
    ['nothing at all', { aside: [] }, []],
    [
      'crash after the rename: put the old one back (the recreate then runs again)',
      { aside: [old] },
      [{ type: 'restore', id: 'old' }],
    ],
    [
      'crash after the create: the never-started new one goes, the old one comes back',
      { current: unstarted, aside: [old] },
      [
        { type: 'removeCurrent', id: 'new' },
        { type: 'restore', id: 'old' },
      ],
    ],
    [
      'crash after the start: the recreate is done, the old one goes',
      { current: started, aside: [old] },
      [{ type: 'remove', id: 'old' }],
    ],
    [
      'the name taken by another owner: ours stays aside',
      { current: { ...started, ownership: 'otherOwner' }, aside: [old] },
      [],
    ],
    [
      'the name taken by a foreign container: ours stays aside',
      { current: { ...unstarted, ownership: 'foreign' }, aside: [old] },
      [],
    ],
    [
      'several aside, nothing at the name: the newest comes back, the rest go',
      { aside: [older, old] },
      [
        { type: 'restore', id: 'old' },
        { type: 'remove', id: 'older' },
      ],
    ],
    [
      'several aside, a started one at the name: all go',
      { current: started, aside: [older, old] },
      [
        { type: 'remove', id: 'old' },
        { type: 'remove', id: 'older' },
      ],
    ],
  ])('%s', (_name, facts, steps) => {
    expect(settleLeftovers(facts)).toEqual(steps);
  });
});
