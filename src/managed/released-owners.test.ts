import { describe, expect, it } from 'vitest';
import { prunedReleases, withRelease, type ReleasedOwner } from './released-owners.js';

const entry = (uid: string, releasedAt = '2026-12-01T10:00:00Z'): ReleasedOwner => ({
  uid,
  kind: 'DockerVolume',
  namespace: 'team',
  name: uid,
  releasedAt,
});

describe('withRelease', () => {
  it.each<[string, ReleasedOwner[] | undefined, ReleasedOwner[] | 'full' | undefined]>([
    ['first entry', undefined, [entry('a')]],
    ['appended', [entry('b')], [entry('b'), entry('a')]],
    ['already recorded: no write', [entry('a', '2026-11-01T00:00:00Z')], undefined],
    ['at the bound: refused, never an old entry dropped', [entry('b'), entry('c')], 'full'],
  ])('%s', (_what, list, expected) => {
    expect(withRelease(list, entry('a'), 2)).toEqual(expected);
  });
});

describe('prunedReleases', () => {
  const listedAt = new Date('2026-12-01T12:00:00Z');
  it.each<[string, ReleasedOwner[] | undefined, string[], ReleasedOwner[] | undefined]>([
    ['nothing recorded', undefined, [], undefined],
    ['objects left: kept', [entry('a')], ['a'], undefined],
    ['no object left: dropped', [entry('a'), entry('b')], ['b'], [entry('b')]],
    [
      'released just before the listing: kept (its object may be newer than the list)',
      [entry('a', '2026-12-01T11:59:30Z')],
      [],
      undefined,
    ],
    ['unparsable time: kept', [entry('a', 'soon')], [], undefined],
  ])('%s', (_what, list, live, expected) => {
    expect(prunedReleases(list, new Set(live), listedAt, 60_000)).toEqual(expected);
  });
});
