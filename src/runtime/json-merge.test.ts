import { describe, expect, it } from 'vitest';
import { createMergePatch, jsonEqual } from './json-merge.js';

describe('jsonEqual', () => {
  it.each([
    { a: { x: 1, y: { z: [1, 2] } }, b: { y: { z: [1, 2] }, x: 1 }, eq: true },
    { a: { x: 1, y: undefined }, b: { x: 1 }, eq: true },
    { a: [1, 2], b: [2, 1], eq: false },
    { a: { x: 1 }, b: { x: '1' }, eq: false },
    { a: { x: null }, b: {}, eq: false },
    { a: null, b: undefined, eq: false },
    { a: [], b: {}, eq: false },
    { a: new Date(5), b: new Date(5), eq: true },
    { a: Number.NaN, b: Number.NaN, eq: true },
    { a: { x: { y: 1 } }, b: { x: { y: 2 } }, eq: false },
  ])('$a vs $b → $eq', ({ a, b, eq }) => {
    expect(jsonEqual(a, b)).toBe(eq);
    expect(jsonEqual(b, a)).toBe(eq);
  });
});

describe('createMergePatch', () => {
  it.each([
    { name: 'no change', from: { a: 1 }, to: { a: 1 }, want: {} },
    { name: 'changed scalar', from: { a: 1, b: 2 }, to: { a: 1, b: 3 }, want: { b: 3 } },
    { name: 'added key', from: {}, to: { a: { b: 1 } }, want: { a: { b: 1 } } },
    { name: 'removed key becomes null', from: { a: 1, b: 2 }, to: { a: 1 }, want: { b: null } },
    { name: 'undefined counts as removed', from: { a: 1 }, to: { a: undefined }, want: { a: null } },
    { name: 'nested diff', from: { o: { x: 1, y: 2 } }, to: { o: { x: 1, y: 3 } }, want: { o: { y: 3 } } },
    { name: 'arrays replaced whole', from: { l: [1, 2] }, to: { l: [1, 2, 3] }, want: { l: [1, 2, 3] } },
    { name: 'object replaced by scalar', from: { o: { x: 1 } }, to: { o: 5 }, want: { o: 5 } },
    { name: 'non-object target', from: { a: 1 }, to: 'x', want: 'x' },
  ])('$name', ({ from, to, want }) => {
    expect(createMergePatch(from, to)).toEqual(want);
  });
});
