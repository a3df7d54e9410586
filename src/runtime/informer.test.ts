import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Informer,
  WatchIdleTimeout,
  type EventHandler,
  type InformerOptions,
  type ListResult,
  type ListWatcher,
  type WatchEvent,
  type WatchHandle,
} from './informer.js';

type Obj = KubernetesObject & { spec?: { host?: string } };

const obj = (name: string, rv: string, host?: string): Obj => ({
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerHost',
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  ...(host ? { spec: { host } } : {}),
});

interface FakeWatch {
  resourceVersion: string;
  emit(event: WatchEvent<Obj>): void;
  end(err?: unknown): void;
  aborted: boolean;
}

/** A scripted transport: each list() takes the next scripted answer; watches are driven by the test. */
class FakeListWatcher implements ListWatcher<Obj> {
  readonly listAnswers: (ListResult<Obj> | Error | 'hang')[] = [];
  listCalls = 0;
  readonly watches: FakeWatch[] = [];
  watchFails: Error | undefined;

  list(): Promise<ListResult<Obj>> {
    this.listCalls++;
    const answer = this.listAnswers.shift() ?? new Error('no scripted list answer');
    if (answer === 'hang') return new Promise(() => {});
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }

  watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent<Obj>) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    if (this.watchFails) return Promise.reject(this.watchFails);
    const w: FakeWatch = { resourceVersion, emit: onEvent, end: onDone, aborted: false };
    this.watches.push(w);
    return Promise.resolve({ abort: () => (w.aborted = true) });
  }

  get lastWatch(): FakeWatch {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch started');
    return w;
  }
}

/** Records handler calls as compact strings: `add:a@1`, `update:a@1>2`, `delete:a@2`. */
function recorder(): EventHandler<Obj> & { log: string[] } {
  const log: string[] = [];
  const id = (o: Obj): string => `${o.metadata?.name}@${o.metadata?.resourceVersion}`;
  return {
    log,
    onAdd: (o) => log.push(`add:${id(o)}`),
    onUpdate: (a, b) => log.push(`update:${id(a)}>${b.metadata?.resourceVersion}`),
    onDelete: (o) => log.push(`delete:${id(o)}`),
  };
}

const flush = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(0);
};

function setup(overrides: Partial<InformerOptions<Obj>> = {}) {
  const lw = new FakeListWatcher();
  const counts = { restarts: 0, relists: 0 };
  const informer = new Informer<Obj>({
    resource: 'dockerhosts.dockyard.io',
    listWatcher: lw,
    metrics: { restart: () => counts.restarts++, relist: () => counts.relists++ },
    backoff: { initialMs: 1000, maxMs: 30_000, random: () => 0 },
    resyncPeriodMs: 0,
    ...overrides,
  });
  const rec = recorder();
  informer.addEventHandler(rec);
  return { lw, informer, rec, counts };
}

describe('Informer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lists, syncs, then watches from the list resourceVersion', async () => {
    const { lw, informer, rec } = setup();
    lw.listAnswers.push({ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '10' });
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    await flush();
    expect(informer.hasSynced()).toBe(true);
    expect(rec.log).toEqual(['add:a@1', 'add:b@2']);
    expect(lw.lastWatch.resourceVersion).toBe('10');
    expect(informer.getByName('a', 'ns')?.metadata?.resourceVersion).toBe('1');
    await informer.stop();
  });

  it('applies watch events to the cache and handlers and tracks the resourceVersion', async () => {
    const { lw, informer, rec } = setup();
    lw.listAnswers.push({ items: [obj('a', '1')], resourceVersion: '10' });
    informer.start();
    await flush();
    const w = lw.lastWatch;
    w.emit({ type: 'ADDED', object: obj('b', '11') });
    w.emit({ type: 'MODIFIED', object: obj('a', '12') });
    w.emit({ type: 'ADDED', object: obj('a', '13') }); // ADDED for a known key is an update
    w.emit({ type: 'DELETED', object: obj('b', '14') });
    w.emit({ type: 'BOOKMARK', resourceVersion: '20' });
    expect(rec.log.slice(1)).toEqual(['add:b@11', 'update:a@1>12', 'update:a@12>13', 'delete:b@14']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['a']);
    expect(informer.lastSyncResourceVersion()).toBe('20');
    await informer.stop();
  });

  it('caches objects without managedFields (listed and watched), leaving the originals untouched', async () => {
    const { lw, informer } = setup();
    const managed = (o: Obj): Obj => ({
      ...o,
      metadata: { ...o.metadata, managedFields: [{ manager: 'kubectl', operation: 'Update' }] },
    });
    const listed = managed(obj('a', '1'));
    lw.listAnswers.push({ items: [listed], resourceVersion: '10' });
    informer.start();
    await flush();
    const watched = managed(obj('b', '11'));
    lw.lastWatch.emit({ type: 'ADDED', object: watched });
    expect(informer.getByName('a', 'ns')?.metadata).toEqual({
      name: 'a',
      namespace: 'ns',
      resourceVersion: '1',
    });
    expect(informer.getByName('b', 'ns')?.metadata?.managedFields).toBeUndefined();
    expect(informer.getByName('b', 'ns')?.metadata?.resourceVersion).toBe('11');
    expect(listed.metadata?.managedFields).toHaveLength(1);
    expect(watched.metadata?.managedFields).toHaveLength(1);
    await informer.stop();
  });

  it('re-watches from the last resourceVersion when a watch ends normally, without relisting', async () => {
    const { lw, informer, counts } = setup();
    lw.listAnswers.push({ items: [], resourceVersion: '10' });
    informer.start();
    await flush();
    lw.lastWatch.emit({ type: 'ADDED', object: obj('a', '15') });
    lw.lastWatch.end();
    await flush();
    expect(lw.watches.map((w) => w.resourceVersion)).toEqual(['10', '15']);
    expect(lw.listCalls).toBe(1);
    expect(counts).toEqual({ restarts: 0, relists: 0 });
    await informer.stop();
  });

  it('backs off before re-watching when watches close at once without events', async () => {
    const { lw, informer } = setup();
    lw.listAnswers.push({ items: [], resourceVersion: '10' });
    informer.start();
    await flush();
    lw.lastWatch.end();
    await flush();
    expect(lw.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(lw.watches).toHaveLength(2);
    await informer.stop();
  });

  it.each([
    {
      name: 'ERROR event with 410',
      breakWatch: (w: FakeWatch) => w.emit({ type: 'ERROR', status: { code: 410 } }),
    },
    {
      name: 'ERROR event with reason Expired',
      breakWatch: (w: FakeWatch) => w.emit({ type: 'ERROR', status: { reason: 'Expired' } }),
    },
    {
      name: 'watch ending with HTTP 410',
      breakWatch: (w: FakeWatch) => w.end(Object.assign(new Error('Gone'), { statusCode: 410 })),
    },
  ])('relists at once on $name and reports vanished objects as deleted', async ({ breakWatch }) => {
    const { lw, informer, rec, counts } = setup();
    lw.listAnswers.push({ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '10' });
    lw.listAnswers.push({ items: [obj('a', '30'), obj('c', '31')], resourceVersion: '40' });
    informer.start();
    await flush();
    const first = lw.lastWatch;
    breakWatch(first);
    await flush();
    expect(first.aborted).toBe(true);
    expect(lw.listCalls).toBe(2);
    expect(rec.log.slice(2)).toEqual(['add:c@31', 'update:a@1>30', 'delete:b@2']);
    expect(lw.lastWatch.resourceVersion).toBe('40');
    expect(counts).toEqual({ restarts: 0, relists: 1 });
    await informer.stop();
  });

  it('backs off when 410 repeats right after a relist', async () => {
    const { lw, informer } = setup();
    for (let i = 0; i < 3; i++) lw.listAnswers.push({ items: [], resourceVersion: `${i}` });
    informer.start();
    await flush();
    lw.lastWatch.emit({ type: 'ERROR', status: { code: 410 } });
    await flush();
    expect(lw.listCalls).toBe(2);
    lw.lastWatch.emit({ type: 'ERROR', status: { code: 410 } });
    await flush();
    expect(lw.listCalls).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(lw.listCalls).toBe(3);
    await informer.stop();
  });

  it.each([
    { name: 'watch ends with an error', breakWatch: (w: FakeWatch) => w.end(new Error('ECONNRESET')) },
    {
      name: 'ERROR event other than 410',
      breakWatch: (w: FakeWatch) => w.emit({ type: 'ERROR', status: { code: 500, message: 'etcd' } }),
    },
  ])('restarts with backoff when the $name', async ({ breakWatch }) => {
    const { lw, informer, counts } = setup();
    lw.listAnswers.push({ items: [], resourceVersion: '10' }, { items: [], resourceVersion: '11' });
    informer.start();
    await flush();
    breakWatch(lw.lastWatch);
    await vi.advanceTimersByTimeAsync(999);
    expect(lw.listCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(lw.listCalls).toBe(2);
    expect(counts).toEqual({ restarts: 1, relists: 1 });
    expect(informer.hasSynced()).toBe(true);
    await informer.stop();
  });

  it('restarts when the watch call itself rejects', async () => {
    const { lw, informer, counts } = setup();
    lw.listAnswers.push({ items: [], resourceVersion: '10' });
    lw.watchFails = new Error('No currently active cluster');
    informer.start();
    await flush();
    expect(counts.restarts).toBe(1);
    await informer.stop();
  });

  it('retries failing lists with exponential backoff, then syncs', async () => {
    const { lw, informer, counts } = setup();
    lw.listAnswers.push(new Error('refused'), new Error('refused'), new Error('refused'));
    lw.listAnswers.push({ items: [obj('a', '1')], resourceVersion: '5' });
    informer.start();
    await flush();
    const callsAt = (ms: number) => vi.advanceTimersByTimeAsync(ms).then(() => lw.listCalls);
    expect(lw.listCalls).toBe(1);
    expect(await callsAt(1000)).toBe(2); // +1 s
    expect(await callsAt(1999)).toBe(2);
    expect(await callsAt(1)).toBe(3); // +2 s
    expect(await callsAt(4000)).toBe(4); // +4 s
    expect(informer.hasSynced()).toBe(true);
    expect(counts.restarts).toBe(3);
    await informer.stop();
  });

  it('abandons a list that hangs past the list timeout', async () => {
    const { lw, informer, counts } = setup({ listTimeoutMs: 5000 });
    lw.listAnswers.push('hang', { items: [], resourceVersion: '1' });
    informer.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(counts.restarts).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(informer.hasSynced()).toBe(true);
    await informer.stop();
  });

  it('resets the backoff after a healthy watch', async () => {
    const { lw, informer } = setup({ healthyAfterMs: 60_000, watchdogMs: 3_600_000 });
    for (let i = 0; i < 5; i++) lw.listAnswers.push({ items: [], resourceVersion: `${i}` });
    informer.start();
    await flush();
    lw.lastWatch.end(new Error('boom')); // quick failure: 1 s
    await vi.advanceTimersByTimeAsync(1000);
    lw.lastWatch.end(new Error('boom')); // quick failure: 2 s
    await vi.advanceTimersByTimeAsync(2000);
    expect(lw.listCalls).toBe(3);
    await vi.advanceTimersByTimeAsync(60_000); // healthy for a minute
    lw.lastWatch.end(new Error('boom'));
    await vi.advanceTimersByTimeAsync(1000); // back to 1 s, not 4 s
    expect(lw.listCalls).toBe(4);
    await informer.stop();
  });

  it.each([
    { name: 'server watch timeout 20 s, idle resource', events: 0 },
    { name: 'server watch timeout 20 s, busy resource', events: 3 },
  ])('resets the backoff after a healthy period made of many short watches ($name)', async ({ events }) => {
    const { lw, informer } = setup({ healthyAfterMs: 60_000, watchdogMs: 3_600_000 });
    for (let i = 0; i < 5; i++) lw.listAnswers.push({ items: [], resourceVersion: `${i}` });
    informer.start();
    await flush();
    lw.lastWatch.end(new Error('boom')); // quick failure: 1 s
    await vi.advanceTimersByTimeAsync(1000);
    lw.lastWatch.end(new Error('boom')); // quick failure: 2 s
    await vi.advanceTimersByTimeAsync(2000);
    expect(lw.listCalls).toBe(3);
    // Three minutes of health, the server ending every watch after 20 s (its timeout).
    for (let i = 0; i < 9; i++) {
      for (let e = 0; e < events; e++) {
        lw.lastWatch.emit({ type: 'MODIFIED', object: obj('a', `${100 + i * 10 + e}`) });
      }
      await vi.advanceTimersByTimeAsync(20_000);
      lw.lastWatch.end();
      await flush();
    }
    expect(lw.listCalls).toBe(3); // normal ends re-watch without relisting
    lw.lastWatch.end(new Error('boom'));
    await vi.advanceTimersByTimeAsync(1000); // back to 1 s, not 4 s
    expect(lw.listCalls).toBe(4);
    await informer.stop();
  });

  it('keeps backing off while failures come before a healthy period is over', async () => {
    const { lw, informer } = setup({ healthyAfterMs: 60_000, watchdogMs: 3_600_000 });
    for (let i = 0; i < 5; i++) lw.listAnswers.push({ items: [], resourceVersion: `${i}` });
    informer.start();
    await flush();
    lw.lastWatch.end(new Error('boom')); // 1 s
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(30_000); // up for 30 s only (less than healthyAfterMs)
    lw.lastWatch.end(new Error('boom')); // 2 s
    await vi.advanceTimersByTimeAsync(2000);
    await vi.advanceTimersByTimeAsync(50_000); // up for 50 s: still short of a healthy period
    lw.lastWatch.end(new Error('boom')); // 4 s: time spent backing off never counts as health
    await vi.advanceTimersByTimeAsync(3999);
    expect(lw.listCalls).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(lw.listCalls).toBe(4);
    await informer.stop();
  });

  it('restarts a watch that stays silent longer than the watchdog period', async () => {
    const { lw, informer, counts } = setup({ watchdogMs: 10_000 });
    lw.listAnswers.push({ items: [], resourceVersion: '1' }, { items: [], resourceVersion: '2' });
    informer.start();
    await flush();
    const w = lw.lastWatch;
    await vi.advanceTimersByTimeAsync(6000);
    w.emit({ type: 'BOOKMARK', resourceVersion: '3' }); // traffic: the watchdog starts over
    await vi.advanceTimersByTimeAsync(9999);
    expect(w.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.aborted).toBe(true);
    expect(counts.restarts).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(lw.listCalls).toBe(2);
    await informer.stop();
  });

  // Runtime fix: kube-apiserver sends no bookmark on an idle resource, so the server's own end
  // of a watch must count as a sign of life, or every idle informer restarts each watchdog period.
  it('counts a watch the server ended after a while as a sign of life', async () => {
    const { lw, informer, counts } = setup({ watchdogMs: 10_000 });
    lw.listAnswers.push({ items: [], resourceVersion: '1' });
    informer.start();
    await flush();
    await vi.advanceTimersByTimeAsync(6000);
    lw.lastWatch.end(); // the server's timeoutSeconds
    await flush();
    const second = lw.lastWatch;
    expect(second.resourceVersion).toBe('1');
    await vi.advanceTimersByTimeAsync(9999);
    expect(second.aborted).toBe(false);
    expect(counts.restarts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(second.aborted).toBe(true); // silent and not ended: stalled
    expect(counts.restarts).toBe(1);
    await informer.stop();
  });

  it('gives no such credit to a watch the client ended for silence', async () => {
    const { lw, informer, counts } = setup({ watchdogMs: 10_000 });
    lw.listAnswers.push({ items: [], resourceVersion: '1' });
    informer.start();
    await flush();
    await vi.advanceTimersByTimeAsync(6000);
    lw.lastWatch.end(new WatchIdleTimeout());
    await flush();
    const second = lw.lastWatch;
    expect(second.resourceVersion).toBe('1'); // re-watched, not relisted
    expect(lw.listCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(second.aborted).toBe(true);
    expect(counts.restarts).toBe(1);
    await informer.stop();
  });

  it('re-delivers every cached object as an update on each resync period', async () => {
    const { lw, informer, rec } = setup({ resyncPeriodMs: 60_000, watchdogMs: 3_600_000 });
    lw.listAnswers.push({ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '10' });
    informer.start();
    await flush();
    rec.log.length = 0;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rec.log).toEqual(['update:a@1>1', 'update:b@2>2']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rec.log).toHaveLength(4);
    await informer.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rec.log).toHaveLength(4);
  });

  it('keeps calling other handlers when one throws', async () => {
    const { lw, informer, rec } = setup();
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('bad handler');
      },
    });
    const second = recorder();
    informer.addEventHandler(second);
    lw.listAnswers.push({ items: [obj('a', '1')], resourceVersion: '10' });
    informer.start();
    await flush();
    expect(rec.log).toEqual(['add:a@1']);
    expect(second.log).toEqual(['add:a@1']);
    await informer.stop();
  });

  it('replays cached objects as adds to a handler registered after sync', async () => {
    const { lw, informer } = setup();
    lw.listAnswers.push({ items: [obj('a', '1')], resourceVersion: '10' });
    informer.start();
    await flush();
    const late = recorder();
    informer.addEventHandler(late);
    expect(late.log).toEqual(['add:a@1']);
    await informer.stop();
  });

  it('serves indexes built from cached objects', async () => {
    const { lw, informer } = setup();
    informer.addIndexer('host', (o) => (o.spec?.host ? [o.spec.host] : []));
    lw.listAnswers.push({ items: [obj('a', '1', 'h1'), obj('b', '2', 'h2')], resourceVersion: '10' });
    informer.start();
    await flush();
    lw.lastWatch.emit({ type: 'MODIFIED', object: obj('b', '11', 'h1') });
    expect(informer.byIndex('host', 'h1').map((o) => o.metadata?.name)).toEqual(['a', 'b']);
    await informer.stop();
  });

  it('stop aborts the watch, ends the loop, and a stopped informer lists no more', async () => {
    const { lw, informer } = setup();
    lw.listAnswers.push({ items: [], resourceVersion: '10' });
    informer.start();
    await flush();
    const w = lw.lastWatch;
    await informer.stop();
    expect(w.aborted).toBe(true);
    w.end(new Error('late'));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(lw.listCalls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop during a backoff returns at once', async () => {
    const { lw, informer } = setup();
    lw.listAnswers.push(new Error('refused'));
    informer.start();
    await flush();
    await informer.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(lw.listCalls).toBe(1);
  });
});
