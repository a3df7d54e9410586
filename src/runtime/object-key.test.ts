import { describe, expect, it } from 'vitest';
import { objectKey, parseKey, requestFor, requestKey } from './object-key.js';

describe('object keys', () => {
  it.each([
    { req: { namespace: 'ns', name: 'a' }, key: 'ns/a' },
    { req: { name: 'cluster-wide' }, key: 'cluster-wide' },
  ])('$key round-trips', ({ req, key }) => {
    expect(requestKey(req)).toBe(key);
    expect(parseKey(key)).toEqual(req);
  });

  it.each([
    { obj: { metadata: { name: 'a', namespace: 'ns' } }, want: 'ns/a' },
    { obj: { metadata: { name: 'a' } }, want: 'a' },
    { obj: { metadata: { name: 'a', namespace: '' } }, want: 'a' },
    { obj: { metadata: {} }, want: undefined },
    { obj: {}, want: undefined },
  ])('objectKey($obj) = $want', ({ obj, want }) => {
    expect(objectKey(obj)).toBe(want);
    expect(requestFor(obj) === undefined).toBe(want === undefined);
  });
});
