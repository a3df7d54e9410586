import { describe, expect, it } from 'vitest';
import { specOrMetadataChanged } from './predicates.js';

const obj = (meta: Record<string, unknown>, status: unknown = {}) => ({
  metadata: { name: 'x', resourceVersion: '1', generation: 1, ...meta },
  status,
});

describe('specOrMetadataChanged', () => {
  it.each([
    ['status only', obj({}), obj({ resourceVersion: '2' }, { phase: 'Ready' }), false],
    ['resync (same resourceVersion)', obj({}), obj({}), true],
    ['spec changed (generation)', obj({}), obj({ resourceVersion: '2', generation: 2 }), true],
    ['labels changed', obj({}), obj({ resourceVersion: '2', labels: { a: 'b' } }), true],
    [
      'annotation changed',
      obj({ annotations: { 'dockyard.io/paused': 'true' } }),
      obj({ resourceVersion: '2' }),
      true,
    ],
    ['finalizer added', obj({}), obj({ resourceVersion: '2', finalizers: ['dockyard.io/cleanup'] }), false],
    [
      'finalizer removed',
      obj({ finalizers: ['dockyard.io/cleanup'] }),
      obj({ resourceVersion: '2', finalizers: [] }),
      true,
    ],
    [
      'finalizer replaced by another',
      obj({ finalizers: ['dockyard.io/cleanup'] }),
      obj({ resourceVersion: '2', finalizers: ['example.com/other'] }),
      true,
    ],
    [
      'deletion started',
      obj({}),
      obj({ resourceVersion: '2', deletionTimestamp: '2026-11-29T00:00:00Z' }),
      true,
    ],
  ])('%s → %s', (_name, a, b, expected) => {
    expect(specOrMetadataChanged(a, b)).toBe(expected);
  });
});
