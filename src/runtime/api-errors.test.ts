import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeError, isConflict, isGone, isNotFound, statusCodeOf, toError } from './api-errors.js';

describe('api error classification', () => {
  const watchError = Object.assign(new Error('Gone'), { statusCode: 410 });
  it.each([
    { name: 'ApiException 409', err: new ApiException(409, 'conflict', {}, {}), code: 409, conflict: true },
    { name: 'ApiException 404', err: new ApiException(404, 'nf', {}, {}), code: 404, notFound: true },
    { name: 'Watch error 410', err: watchError, code: 410, gone: true },
    { name: 'Status-like object', err: { code: 410, reason: 'Expired' }, code: 410, gone: true },
    { name: 'plain Error', err: new Error('x'), code: undefined },
    { name: 'string', err: 'boom', code: undefined },
    { name: 'undefined', err: undefined, code: undefined },
  ])('$name', ({ err, code, conflict = false, notFound = false, gone = false }) => {
    expect(statusCodeOf(err)).toBe(code);
    expect(isConflict(err)).toBe(conflict);
    expect(isNotFound(err)).toBe(notFound);
    expect(isGone(err)).toBe(gone);
  });
});

describe('toError / describeError', () => {
  const hostile = {
    toString() {
      throw new Error('nope');
    },
    toJSON() {
      throw new Error('nope');
    },
  };
  it.each([
    { value: new TypeError('t'), want: 't' },
    { value: 'text', want: 'non-Error thrown: text' },
    { value: 42, want: 'non-Error thrown: 42' },
    { value: undefined, want: 'non-Error thrown: undefined' },
    { value: Symbol('s'), want: 'non-Error thrown: Symbol(s)' },
    { value: hostile, want: 'non-Error thrown: [object Object]' },
  ])('toError($value)', ({ value, want }) => {
    const err = toError(value);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe(want);
  });

  it('keeps Error instances as they are', () => {
    const e = new Error('same');
    expect(toError(e)).toBe(e);
    expect(describeError(e)).toBe('same');
  });
});
