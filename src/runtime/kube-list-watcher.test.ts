import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { WatchIdleTimeout, type WatchEvent } from './informer.js';
import {
  KubeListWatcher,
  resourcePath,
  toWatchEvent,
  type ListPageOptions,
  type WatchFn,
} from './kube-list-watcher.js';

describe('resourcePath', () => {
  it.each([
    {
      r: { group: 'dockyard.io', version: 'v1alpha1', plural: 'dockerhosts' },
      want: '/apis/dockyard.io/v1alpha1/dockerhosts',
    },
    {
      r: { group: 'dockyard.io', version: 'v1alpha1', plural: 'containers', namespace: 'team-a' },
      want: '/apis/dockyard.io/v1alpha1/namespaces/team-a/containers',
    },
    {
      r: { group: '', version: 'v1', plural: 'secrets', namespace: 'ns' },
      want: '/api/v1/namespaces/ns/secrets',
    },
  ])('$want', ({ r, want }) => {
    expect(resourcePath(r)).toBe(want);
  });
});

describe('toWatchEvent', () => {
  const o = { metadata: { name: 'a', resourceVersion: '5' } };
  it.each<{ phase: string; obj: unknown; want: WatchEvent<unknown> | undefined }>([
    { phase: 'ADDED', obj: o, want: { type: 'ADDED', object: o } },
    { phase: 'MODIFIED', obj: o, want: { type: 'MODIFIED', object: o } },
    { phase: 'DELETED', obj: o, want: { type: 'DELETED', object: o } },
    {
      phase: 'BOOKMARK',
      obj: { metadata: { resourceVersion: '9' } },
      want: { type: 'BOOKMARK', resourceVersion: '9' },
    },
    {
      phase: 'ERROR',
      obj: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
      want: { type: 'ERROR', status: { code: 410, reason: 'Expired', message: 'too old resource version' } },
    },
    { phase: 'SOMETHING', obj: o, want: undefined },
  ])('$phase', ({ phase, obj, want }) => {
    expect(toWatchEvent(phase, obj)).toEqual(want);
  });
});

describe('KubeListWatcher', () => {
  it('follows continue tokens, keeps the first page resourceVersion and stamps apiVersion/kind', async () => {
    const calls: ListPageOptions[] = [];
    const pages = [
      { items: [{ metadata: { name: 'a' } }], metadata: { resourceVersion: '100', continue: 't1' } },
      { items: [{ metadata: { name: 'b' } }], metadata: { resourceVersion: '100', _continue: 't2' } },
      { items: [{ metadata: { name: 'c' } }], metadata: { resourceVersion: '100' } },
    ];
    const lw = new KubeListWatcher<KubernetesObject>({
      path: '/apis/x/v1/things',
      listPage: (o) => {
        calls.push(o);
        return Promise.resolve(pages[calls.length - 1] ?? {});
      },
      watch: { watch: () => Promise.reject(new Error('unused')) },
      apiVersion: 'x/v1',
      kind: 'Thing',
      labelSelector: 'app=dockyard',
      pageSize: 1,
    });
    const result = await lw.list();
    expect(result.resourceVersion).toBe('100');
    expect(result.items.map((i) => [i.metadata?.name, i.apiVersion, i.kind])).toEqual([
      ['a', 'x/v1', 'Thing'],
      ['b', 'x/v1', 'Thing'],
      ['c', 'x/v1', 'Thing'],
    ]);
    expect(calls.map((c) => c.continueToken)).toEqual([undefined, 't1', 't2']);
    expect(calls.every((c) => c.limit === 1 && c.labelSelector === 'app=dockyard')).toBe(true);
  });

  it('watches with bookmarks from the given resourceVersion and maps the done callback', async () => {
    const seen: { path: string; params: Record<string, unknown> }[] = [];
    let done: ((err: unknown) => void) | undefined;
    let emit: ((phase: string, obj: unknown) => void) | undefined;
    let aborted = false;
    const watch: WatchFn = {
      watch: (path, params, cb, d) => {
        seen.push({ path, params });
        emit = cb;
        done = d;
        const ac = new AbortController();
        ac.signal.addEventListener('abort', () => (aborted = true));
        return Promise.resolve(ac);
      },
    };
    const lw = new KubeListWatcher<KubernetesObject>({
      path: '/apis/x/v1/things',
      listPage: () => Promise.resolve({}),
      watch,
    });
    const events: WatchEvent<KubernetesObject>[] = [];
    const ends: unknown[] = [];
    const handle = await lw.watch(
      '42',
      (e) => events.push(e),
      (err) => ends.push(err),
    );
    expect(seen).toEqual([
      {
        path: '/apis/x/v1/things',
        params: {
          allowWatchBookmarks: true,
          resourceVersion: '42',
          timeoutSeconds: 25,
          labelSelector: undefined,
          fieldSelector: undefined,
        },
      },
    ]);
    emit?.('ADDED', { metadata: { name: 'a' } });
    emit?.('WEIRD', {});
    expect(events).toEqual([{ type: 'ADDED', object: { metadata: { name: 'a' } } }]);

    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    done?.(timeout); // client-node's inactivity abort: re-watch, but no sign of the server's life
    done?.(null);
    const refused = new Error('ECONNREFUSED');
    done?.(refused);
    expect(ends).toHaveLength(3);
    expect(ends[0]).toBeInstanceOf(WatchIdleTimeout);
    expect(ends.slice(1)).toEqual([undefined, refused]);

    handle.abort();
    expect(aborted).toBe(true);
  });
});
