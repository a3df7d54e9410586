import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { GatedListWatcher } from '../support/gated-list-watcher.js';
import { gadgetManager, type GadgetManager } from '../support/gadget-manager.js';
import { formatLines } from '../support/log-capture.js';
import { sampleValue } from '../support/prometheus.js';
import {
  createNamespace,
  GadgetClient,
  GADGETS,
  installGadgetCrd,
  isConverged,
  type Gadget,
} from '../support/test-crd.js';

// The supervised informer against a real kube-apiserver that is restarted,
// compacted and frozen. The watch cache is off (the default here), so every
// watch is served by etcd and a compaction really expires old resourceVersions.

let cp: ControlPlane;
let kc: KubeConfig;

beforeAll(async () => {
  cp = await startControlPlane();
  kc = cp.kubeConfig();
  await installGadgetCrd(kc);
}, CONTROL_PLANE_START_TIMEOUT_MS);

afterAll(async () => {
  await cp?.stop();
});

async function informerCounter(h: GadgetManager, name: string): Promise<number> {
  const text = await h.manager.metrics.registry.metrics();
  return sampleValue(text, name, { resource: GADGETS.resource }) ?? Number.NaN;
}

/** The namespace holds exactly `values` (name → spec.value), every one converged, and the cache agrees. */
async function convergedTo(
  gadgets: GadgetClient,
  h: GadgetManager,
  values: Record<string, number>,
): Promise<boolean> {
  const items = await gadgets.list();
  const byName = new Map(items.map((g) => [g.metadata.name, g] as const));
  const cached = h.informer
    .list()
    .map((g) => g.metadata.name)
    .sort();
  return (
    items.length === Object.keys(values).length &&
    Object.entries(values).every(([name, value]) => {
      const g = byName.get(name);
      return g !== undefined && isConverged(g) && g.spec.value === value;
    }) &&
    JSON.stringify(cached) === JSON.stringify(Object.keys(values).sort())
  );
}

function deletionsSeen(h: GadgetManager, namespace: string, names: string[]): boolean {
  return names.every((name) => h.reconciler.recorder.deletionsObserved.has(`${namespace}/${name}`));
}

describe('informer against a real API server', () => {
  it('resumes after kube-apiserver restarts and misses no change made around the outage', async () => {
    const namespace = 'restart';
    await createNamespace(kc, namespace);
    const gadgets = new GadgetClient(kc, namespace);
    for (let i = 0; i < 6; i++) await gadgets.create(`a-${i}`, i);
    // kube-apiserver lets open watches finish before it exits on SIGTERM (or is killed after
    // 10 s): short watches keep the outage short.
    const h = gadgetManager(kc, {
      namespace,
      watchTimeoutSeconds: 3,
      informer: { backoff: { initialMs: 200, maxMs: 1_000 } },
    });
    await h.manager.start();
    try {
      await waitFor(
        () => convergedTo(gadgets, h, { 'a-0': 0, 'a-1': 1, 'a-2': 2, 'a-3': 3, 'a-4': 4, 'a-5': 5 }),
        {
          timeoutMs: 20_000,
          what: 'the first gadgets to converge',
        },
      );

      // Changes right before the outage: the watch may or may not deliver them before it breaks.
      await gadgets.setValue('a-0', 10);
      await gadgets.delete('a-1');
      await gadgets.create('b-0', 20);
      await cp.stopApiServer();
      await waitFor(async () => (await informerCounter(h, 'dockyard_informer_restarts_total')) > 0, {
        timeoutMs: 15_000,
        what: 'the informer to notice the outage',
      });
      await cp.startApiServer();
      // Changes after it: only a resumed watch (or relist) can see them.
      await gadgets.setValue('a-2', 30);
      await gadgets.delete('a-3');
      await gadgets.create('b-1', 40);

      await waitFor(
        async () =>
          deletionsSeen(h, namespace, ['a-1', 'a-3']) &&
          (await convergedTo(gadgets, h, { 'a-0': 10, 'a-2': 30, 'a-4': 4, 'a-5': 5, 'b-0': 20, 'b-1': 40 })),
        { timeoutMs: 45_000, what: 'every change around the outage to be reconciled' },
      );
    } finally {
      await h.manager.stop();
    }
  });

  it('relists after a 410 Gone and delivers the deletions it missed', async () => {
    const namespace = 'gone';
    await createNamespace(kc, namespace);
    const gadgets = new GadgetClient(kc, namespace);
    for (let i = 0; i < 5; i++) await gadgets.create(`c-${i}`, i);
    let gate: GatedListWatcher<Gadget> | undefined;
    // Short server-side watch timeout: the informer's watch ends (cleanly) every 2 s and is re-opened.
    const h = gadgetManager(kc, {
      namespace,
      watchTimeoutSeconds: 2,
      wrapListWatcher: (lw) => (gate = new GatedListWatcher(lw)),
      informer: { watchdogMs: 60_000 },
    });
    const deleted: string[] = [];
    h.informer.addEventHandler({ onDelete: (g) => deleted.push(g.metadata.name) });
    await h.manager.start();
    try {
      if (!gate) throw new Error('the transport was not wrapped');
      const held = gate;
      await waitFor(() => convergedTo(gadgets, h, { 'c-0': 0, 'c-1': 1, 'c-2': 2, 'c-3': 3, 'c-4': 4 }), {
        timeoutMs: 20_000,
        what: 'the gadgets to converge',
      });
      const relistsBefore = await informerCounter(h, 'dockyard_informer_relists_total');

      // Hold the informer's next watch, change the cluster behind its back, and compact the history.
      held.close();
      await waitFor(async () => held.held === 1, { timeoutMs: 10_000, what: 'the next watch to be held' });
      const staleVersion = Number(held.watchedFrom.at(-1));
      await gadgets.delete('c-0');
      await gadgets.delete('c-1');
      await gadgets.setValue('c-2', 99);
      await gadgets.create('c-5', 5);
      const compacted = await cp.compactEtcd();
      expect(staleVersion).toBeLessThan(compacted);
      held.open();

      await waitFor(
        async () =>
          deletionsSeen(h, namespace, ['c-0', 'c-1']) &&
          (await convergedTo(gadgets, h, { 'c-2': 99, 'c-3': 3, 'c-4': 4, 'c-5': 5 })),
        { timeoutMs: 30_000, what: 'the changes made during the gap to be reconciled' },
      );
      expect(deleted.sort()).toEqual(['c-0', 'c-1']);
      expect(
        h.logs.some((l) => l.msg === 'watch expired (410 Gone); relisting'),
        formatLines(h.logs),
      ).toBe(true);
      expect(await informerCounter(h, 'dockyard_informer_relists_total')).toBeGreaterThan(relistsBefore);
    } finally {
      await h.manager.stop();
    }
  });

  it('keeps an idle watch the server ends on time, and restarts one that stalls', async () => {
    const namespace = 'stall';
    await createNamespace(kc, namespace);
    const gadgets = new GadgetClient(kc, namespace);
    await gadgets.create('s-0', 0);
    const watchdogMs = 4_000; // twice the watch timeout: a slow re-watch must not look like a stall
    const h = gadgetManager(kc, {
      namespace,
      watchTimeoutSeconds: 2,
      informer: { watchdogMs, listTimeoutMs: 20_000, backoff: { initialMs: 200, maxMs: 1_000 } },
    });
    await h.manager.start();
    try {
      await waitFor(() => convergedTo(gadgets, h, { 's-0': 0 }), {
        timeoutMs: 20_000,
        what: 's-0 to converge',
      });

      // Idle: no events, and no bookmarks either (kube-apiserver sends none for an idle
      // resource), only the server ending each watch after 2 s. That is a healthy watch.
      await new Promise((r) => setTimeout(r, 2 * watchdogMs));
      expect(await informerCounter(h, 'dockyard_informer_restarts_total'), formatLines(h.logs)).toBe(0);

      // Frozen: the open watch receives nothing and does not end; the watchdog must notice.
      cp.pauseApiServer();
      const pausedAt = performance.now();
      let detectedAfterMs: number;
      try {
        await waitFor(async () => (await informerCounter(h, 'dockyard_informer_restarts_total')) > 0, {
          timeoutMs: watchdogMs + 5_000,
          intervalMs: 50,
          what: 'the watchdog to restart the frozen watch',
        });
        detectedAfterMs = performance.now() - pausedAt;
        // Stay frozen a little longer, so the restarted list/watch also meets the frozen server.
        await new Promise((r) => setTimeout(r, 1_000));
      } finally {
        cp.resumeApiServer();
      }
      expect(detectedAfterMs).toBeLessThanOrEqual(watchdogMs + 1_000);
      expect(h.logs.some((l) => l.msg === 'watch went silent; restarting')).toBe(true);

      await gadgets.setValue('s-0', 5);
      await waitFor(() => convergedTo(gadgets, h, { 's-0': 5 }), {
        timeoutMs: 30_000,
        what: 'a change made after the resume to be reconciled',
      });
    } finally {
      await h.manager.stop();
    }
  });
});
