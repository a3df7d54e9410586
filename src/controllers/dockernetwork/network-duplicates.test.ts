import { describe, expect, it } from 'vitest';
import type { ObservedNetwork } from '../../docker/network-client.js';
import {
  conflictOwnership,
  createdOrder,
  describeAttached,
  describeContainers,
  sortNetworks,
} from './network-duplicates.js';

const ours = { 'dockyard.io/uid': 'u-1' };
const other = { 'dockyard.io/uid': 'u-2', 'dockyard.io/namespace': 'team-b', 'dockyard.io/name': 'x' };
const nw = (
  id: string,
  name: string,
  created: string,
  labels: Record<string, string> = ours,
): ObservedNetwork => ({
  id,
  name,
  driver: 'bridge',
  created,
  labels,
  subnets: [],
  containers: [],
});
const T = (frac: string) => `2026-11-29T13:01:20.${frac}Z`;
const ids = (ns: readonly ObservedNetwork[]) => ns.map((n) => n.id);

describe('createdOrder', () => {
  it.each([
    ['earlier second first', '2026-11-29T13:01:19.9Z', '2026-11-29T13:01:20.1Z', -1],
    ['nanoseconds within one millisecond', T('150925690'), T('150925691'), -1],
    ['short and long fractions', T('5'), T('49999'), 1],
    ['no fraction is the start of the second', '2026-11-29T13:01:20Z', T('000000001'), -1],
    ['time zones are honoured', '2026-11-29T14:01:20.5+01:00', T('4'), 1],
    ['equal', T('1'), T('100'), 0],
  ])('%s', (_n, a, b, sign) => {
    expect(Math.sign(createdOrder(a, b))).toBe(sign);
  });
});

describe('sortNetworks', () => {
  const want = { name: 'team-a.web', uid: 'u-1' };
  it.each<[string, ObservedNetwork[], string | undefined, string | undefined, string[], string[], string[]]>([
    // name, networks, statusId, keeper, duplicates, conflicting, renamed
    ['nothing there', [], undefined, undefined, [], [], []],
    ['just ours', [nw('a', 'team-a.web', T('1'))], undefined, 'a', [], [], []],
    [
      'duplicates: the oldest wins without status',
      [nw('b', 'team-a.web', T('2')), nw('a', 'team-a.web', T('1')), nw('c', 'team-a.web', T('3'))],
      undefined,
      'a',
      ['b', 'c'],
      [],
      [],
    ],
    [
      'duplicates: the one in status wins',
      [nw('a', 'team-a.web', T('1')), nw('b', 'team-a.web', T('2'))],
      'b',
      'b',
      ['a'],
      [],
      [],
    ],
    [
      'a stale status id falls back to the oldest',
      [nw('b', 'team-a.web', T('2')), nw('a', 'team-a.web', T('1'))],
      'gone',
      'a',
      ['b'],
      [],
      [],
    ],
    [
      'same creation time: lowest id wins',
      [nw('z', 'team-a.web', T('1')), nw('m', 'team-a.web', T('1'))],
      undefined,
      'm',
      ['z'],
      [],
      [],
    ],
    [
      'a foreign network with our name',
      [nw('f', 'team-a.web', T('1'), {})],
      undefined,
      undefined,
      [],
      ['f'],
      [],
    ],
    [
      'another owner with our name, next to ours',
      [nw('o', 'team-a.web', T('1'), other), nw('a', 'team-a.web', T('2'))],
      undefined,
      'a',
      [],
      ['o'],
      [],
    ],
    [
      'ours under an old name',
      [nw('old', 'team-a.old', T('1')), nw('a', 'team-a.web', T('2'))],
      undefined,
      'a',
      [],
      [],
      ['old'],
    ],
    [
      'unrelated networks found by label only are not conflicts',
      [nw('x', 'something', T('1'), other)],
      undefined,
      undefined,
      [],
      [],
      [],
    ],
  ])('%s', (_n, networks, statusId, keeper, duplicates, conflicting, renamed) => {
    const s = sortNetworks(networks, { ...want, statusId });
    expect(s.keeper?.id).toBe(keeper);
    expect(ids(s.duplicates)).toEqual(duplicates);
    expect(ids(s.conflicting)).toEqual(conflicting);
    expect(ids(s.renamed)).toEqual(renamed);
  });

  it('is stable whatever order Docker lists them in', () => {
    const a = nw('a', 'team-a.web', T('1'));
    const b = nw('b', 'team-a.web', T('2'));
    expect(sortNetworks([a, b], want).keeper?.id).toBe(sortNetworks([b, a], want).keeper?.id);
  });
});

describe('conflictOwnership', () => {
  it.each<[string, Record<string, string>[], string | undefined]>([
    ['none', [], undefined],
    ['foreign', [{}], 'foreign'],
    ['other owner', [other], 'otherOwner'],
    ['foreign outranks other owner', [other, { app: 'x' }], 'foreign'],
  ])('%s', (_n, labels, want) => {
    expect(
      conflictOwnership(
        labels.map((l, i) => nw(`n${i}`, 'x', T('1'), l)),
        'u-1',
      ),
    ).toBe(want);
  });
});

describe('describeContainers', () => {
  it.each([
    [['a'], 'a'],
    [['a', 'b'], 'a, b'],
    [['a', 'b', 'c', 'd', 'e', 'f', 'g'], 'a, b, c, d, e and 2 more'],
  ])('%j', (names, want) => {
    expect(describeContainers(names)).toBe(want);
  });
});

describe('describeAttached', () => {
  it.each([
    [['team.a', 'team.b'], 'team.a, team.b'],
    [['team.a', 'other.secret', 'handmade'], 'team.a, handmade and 1 container of other namespaces'],
    [['other.secret', 'b.x'], '2 containers of other namespaces'],
  ])('%j → %s (other tenants’ names are only counted)', (names, want) => {
    expect(describeAttached(names, 'team')).toBe(want);
  });
});
