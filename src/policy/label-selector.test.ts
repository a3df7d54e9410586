import { describe, expect, it } from 'vitest';
import type { LabelSelector } from '../crds/kit.js';
import { matchesSelector } from './label-selector.js';

describe('matchesSelector', () => {
  const labels = { site: 'lab', tier: 'edge', gpu: 'true' };
  const cases: Array<[string, LabelSelector | undefined, Record<string, string>, boolean]> = [
    ['absent selector matches', undefined, labels, true],
    ['empty selector matches', {}, labels, true],
    ['matchLabels equal', { matchLabels: { site: 'lab' } }, labels, true],
    ['matchLabels differ', { matchLabels: { site: 'dc' } }, labels, false],
    ['matchLabels missing key', { matchLabels: { zone: 'a' } }, labels, false],
    [
      'In hit',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge', 'core'] }] },
      labels,
      true,
    ],
    ['In miss', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['core'] }] }, labels, false],
    [
      'In on missing key',
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      labels,
      false,
    ],
    [
      'NotIn hit',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['edge'] }] },
      labels,
      false,
    ],
    [
      'NotIn on missing key',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      labels,
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, labels, true],
    ['Exists missing', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, labels, false],
    [
      'labels and expressions together',
      { matchLabels: { site: 'lab' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge'] }] },
      labels,
      true,
    ],
  ];
  it.each(cases)('%s', (_name, selector, input, expected) => {
    expect(matchesSelector(selector, input)).toBe(expected);
  });
});
