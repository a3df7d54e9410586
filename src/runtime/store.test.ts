import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { namespaceIndex, Store } from './store.js';

type Obj = KubernetesObject & { spec?: { host?: string } };

const obj = (namespace: string | undefined, name: string, host?: string, rv = '1'): Obj => ({
  metadata: { name, ...(namespace ? { namespace } : {}), resourceVersion: rv },
  ...(host ? { spec: { host } } : {}),
});
const byHost = (o: Obj): string[] => (o.spec?.host ? [o.spec.host] : []);
const names = (list: readonly KubernetesObject[]): string[] => list.map((o) => o.metadata?.name ?? '').sort();

describe('Store', () => {
  it('gets by key and by name, lists by namespace', () => {
    const s = new Store<Obj>();
    s.upsert(obj('a', 'x'));
    s.upsert(obj('b', 'y'));
    s.upsert(obj(undefined, 'cluster'));
    expect(s.get('a/x')?.metadata?.name).toBe('x');
    expect(s.getByName('y', 'b')?.metadata?.namespace).toBe('b');
    expect(s.getByName('cluster')?.metadata?.name).toBe('cluster');
    expect(names(s.list('a'))).toEqual(['x']);
    expect(names(s.list())).toEqual(['cluster', 'x', 'y']);
    expect(s.keys().sort()).toEqual(['a/x', 'b/y', 'cluster']);
  });

  it('upsert returns the previous object and remove returns the cached one', () => {
    const s = new Store<Obj>();
    expect(s.upsert(obj('a', 'x', undefined, '1'))).toBeUndefined();
    expect(s.upsert(obj('a', 'x', undefined, '2'))?.metadata?.resourceVersion).toBe('1');
    expect(s.remove(obj('a', 'x'))?.metadata?.resourceVersion).toBe('2');
    expect(s.remove(obj('a', 'x'))).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('ignores objects without a name', () => {
    const s = new Store<Obj>();
    expect(s.upsert({ metadata: {} })).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it.each([
    {
      name: 'first list: everything added',
      before: [],
      after: [obj('n', 'a'), obj('n', 'b')],
      want: { added: ['a', 'b'], updated: [], deleted: [] },
    },
    {
      name: 'relist: kept updated, new added, vanished deleted',
      before: [obj('n', 'a'), obj('n', 'gone')],
      after: [obj('n', 'a', undefined, '2'), obj('n', 'new')],
      want: { added: ['new'], updated: ['a'], deleted: ['gone'] },
    },
    {
      name: 'empty relist deletes all',
      before: [obj('n', 'a'), obj(undefined, 'c')],
      after: [],
      want: { added: [], updated: [], deleted: ['a', 'c'] },
    },
  ])('replace: $name', ({ before, after, want }) => {
    const s = new Store<Obj>();
    for (const o of before) s.upsert(o);
    const r = s.replace(after);
    expect({
      added: names(r.added),
      updated: names(r.updated.map((u) => u.current)),
      deleted: names(r.deleted),
    }).toEqual(want);
    expect(names(s.list())).toEqual(names(after));
  });

  it('keeps indexes current through upsert, remove and replace', () => {
    const s = new Store<Obj>();
    s.upsert(obj('n', 'a', 'h1'));
    s.addIndexer('host', byHost); // built from existing content
    s.upsert(obj('n', 'b', 'h1'));
    expect(names(s.byIndex('host', 'h1'))).toEqual(['a', 'b']);

    s.upsert(obj('n', 'a', 'h2')); // moved hosts
    expect(names(s.byIndex('host', 'h1'))).toEqual(['b']);
    expect(names(s.byIndex('host', 'h2'))).toEqual(['a']);

    s.remove(obj('n', 'b'));
    expect(s.byIndex('host', 'h1')).toEqual([]);

    s.replace([obj('n', 'c', 'h2')]);
    expect(names(s.byIndex('host', 'h2'))).toEqual(['c']);
  });

  it('rejects unknown and duplicate index names', () => {
    const s = new Store<Obj>();
    s.addIndexer('namespace', namespaceIndex);
    expect(() => s.byIndex('nope', 'x')).toThrow(/no indexer/);
    expect(() => s.addIndexer('namespace', namespaceIndex)).toThrow(/already exists/);
  });

  it('namespaceIndex indexes namespaced objects only', () => {
    expect(namespaceIndex(obj('n', 'a'))).toEqual(['n']);
    expect(namespaceIndex(obj(undefined, 'a'))).toEqual([]);
  });
});
