import { describe, expect, it } from 'vitest';
import { Expectations } from './expectations.js';
import type { Replica } from './types.js';

const replica = (name: string, state: Replica['state'] = 'Available'): Replica => ({
  name,
  slot: '0',
  host: 'n1',
  revision: 'a',
  state,
  ready: state === 'Available',
});

describe('Expectations', () => {
  it('shows a replica just deleted as Terminating until the cache does, and one just created as Starting', () => {
    const e = new Expectations();
    e.deleted('ns/s', 'old', 0);
    e.created('ns/s', { name: 'new', slot: '1', host: 'n2', revision: 'b' }, 0);
    expect(e.apply('ns/s', [replica('old')], 10)).toEqual([
      { ...replica('old'), state: 'Terminating', ready: false },
      { name: 'new', slot: '1', host: 'n2', revision: 'b', state: 'Starting', ready: false },
    ]);
    // The cache caught up: the cache is the truth again.
    const caught = [replica('old', 'Terminating'), replica('new', 'Starting')];
    expect(e.apply('ns/s', caught, 20)).toEqual(caught);
    expect(e.apply('ns/s', [replica('old')], 30)).toEqual([replica('old')]);
  });

  it('forgets what the cache never showed after a minute, and keeps services apart', () => {
    const e = new Expectations();
    e.deleted('ns/s', 'old', 0);
    expect(e.apply('ns/other', [replica('old')], 1)).toEqual([replica('old')]);
    expect(e.apply('ns/s', [replica('old')], 61_000)).toEqual([replica('old')]);
  });
});
