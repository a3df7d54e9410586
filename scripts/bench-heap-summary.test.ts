import { describe, expect, it } from 'vitest';
import { groupHeap } from '../bench/support/heap-summary.js';

// A snapshot in V8's flat layout: nodes are rows of node_fields, names index strings.
const snapshot = {
  snapshot: {
    meta: {
      node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
      node_types: [['hidden', 'array', 'string', 'object', 'code', 'closure']] as [string[]],
    },
  },
  strings: ['Socket', 'abc', 'Histogram', 'onData', 'xyz'],
  nodes: [
    ...[3, 0, 1, 200, 0], // object Socket
    ...[3, 0, 3, 300, 0], // object Socket
    ...[2, 1, 5, 40, 0], // string "abc"
    ...[2, 4, 7, 60, 0], // string "xyz"
    ...[3, 2, 9, 1000, 0], // object Histogram
    ...[5, 3, 11, 32, 0], // closure onData
  ],
};

describe('groupHeap', () => {
  it('sums self sizes by constructor for objects and closures, by type for strings, largest first', () => {
    expect(groupHeap(snapshot)).toEqual([
      { name: 'object Histogram', count: 1, selfBytes: 1000 },
      { name: 'object Socket', count: 2, selfBytes: 500 },
      { name: 'string', count: 2, selfBytes: 100 },
      { name: 'closure onData', count: 1, selfBytes: 32 },
    ]);
  });
});
