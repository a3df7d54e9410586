// Memory: the controller's RSS with 0, 1,000 and 5,000 converged objects
// (DockerVolumes: cheap on the daemon, so the figure is the controller's
// per-object cost — informer cache, queues, status — not Docker's).

import { sleep } from '../support/pool.js';
import type { Row, ScenarioResult } from '../support/report.js';
import { atMost } from '../support/report.js';
import type { Session } from '../support/session.js';
import { median } from '../support/stats.js';
import { counterSum } from '../support/metrics.js';
import { liveHeapBytes } from '../support/inspector.js';
import { waitUntilQuiet } from '../support/quiet.js';
import { applyAndWait, ensureNamespace, placements } from './convergence.js';

export const VOLUME_NAMESPACE = 'bench-volumes';
/** The target: at most 10 KB of controller memory per object. */
export const BYTES_PER_OBJECT_TARGET = 10 * 1024;
/** RSS is read this many times, this far apart, and the median kept (V8 heaps breathe). */
const RSS_READS = 10;
const RSS_READ_INTERVAL_MS = 1_000;

export const volumeSpec = (node: string) => ({ hostName: node, deletionPolicy: 'Delete' });

/** Grows the volume namespace to `target` Ready DockerVolumes (names v-0000…), returns how many were added. */
export async function growVolumes(session: Session, from: number, target: number): Promise<number> {
  if (target <= from) return 0;
  const nodes = session.env.nodes.map((n) => n.name);
  const all = placements('v', target, nodes).slice(from);
  await ensureNamespace(session, VOLUME_NAMESPACE);
  await applyAndWait(
    session,
    VOLUME_NAMESPACE,
    all,
    (p) => volumeSpec(p.node),
    120_000 + all.length * 200,
    'DockerVolume',
  );
  return all.length;
}

export async function countVolumes(session: Session): Promise<number> {
  await ensureNamespace(session, VOLUME_NAMESPACE);
  let count = 0;
  let cont: string | undefined;
  do {
    const page = (await session.env.kube.api.listNamespacedCustomObject({
      group: 'dockyard.io',
      version: 'v1alpha1',
      namespace: VOLUME_NAMESPACE,
      plural: 'dockervolumes',
      limit: 1000,
      ...(cont ? { _continue: cont } : {}),
    })) as { items: unknown[]; metadata?: { continue?: string } };
    count += page.items.length;
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return count;
}

/**
 * RSS: median of the reads. V8 heap in use (the controller's own
 * nodejs_heap_size_used_bytes): the lowest read, the closest to what is live
 * right after a collection, so it shows per-object state without heap slack.
 */
async function steadyMemory(
  session: Session,
): Promise<{ rssBytes: number; heapUsedBytes: number; liveHeapBytes: number | undefined }> {
  await waitUntilQuiet(session.controller, 600_000);
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < RSS_READS; i++) {
    rss.push(session.controller.rssBytes());
    heap.push(counterSum(await session.controller.metrics(), 'nodejs_heap_size_used_bytes'));
    await sleep(RSS_READ_INTERVAL_MS);
  }
  const port = session.controller.inspectPort;
  return {
    rssBytes: median(rss) as number,
    heapUsedBytes: Math.min(...heap),
    liveHeapBytes: port === undefined ? undefined : await liveHeapBytes(port),
  };
}

export async function memory(session: Session): Promise<ScenarioResult> {
  const { options, log } = session;
  const started = Date.now();
  let have = await countVolumes(session);
  if (have > (options.memorySteps[0] ?? 0))
    throw new Error(`memory needs an empty ${VOLUME_NAMESPACE}, found ${have}`);
  const steps: Array<{
    objects: number;
    rssBytes: number;
    heapUsedBytes: number;
    liveHeapBytes: number | undefined;
    convergeSeconds: number;
  }> = [];
  for (const step of options.memorySteps) {
    log(`[memory] growing to ${step} DockerVolumes`);
    const t = performance.now();
    have += await growVolumes(session, have, step);
    const convergeSeconds = (performance.now() - t) / 1000;
    const { rssBytes, heapUsedBytes, liveHeapBytes: live } = await steadyMemory(session);
    log(
      `[memory] ${step} objects: RSS ${(rssBytes / 2 ** 20).toFixed(1)} MiB, heap used ${(heapUsedBytes / 2 ** 20).toFixed(1)} MiB`,
    );
    steps.push({ objects: step, rssBytes, heapUsedBytes, liveHeapBytes: live, convergeSeconds });
  }
  const base = steps[0] as (typeof steps)[number];
  const top = steps[steps.length - 1] as (typeof steps)[number];
  const perObject =
    top.objects > base.objects ? (top.rssBytes - base.rssBytes) / (top.objects - base.objects) : undefined;
  const rows: Row[] = steps.map((s) => ({
    metric: `RSS at ${s.objects} DockerVolumes`,
    value: s.rssBytes / 2 ** 20,
    unit: 'MiB',
  }));
  // Slopes between neighbouring steps, when there are more than two steps.
  for (let i = 1; i < steps.length && steps.length > 2; i++) {
    const a = steps[i - 1] as (typeof steps)[number];
    const b = steps[i] as (typeof steps)[number];
    rows.push({
      metric: `RSS bytes per object, ${a.objects} → ${b.objects}`,
      value: (b.rssBytes - a.rssBytes) / (b.objects - a.objects),
      unit: 'B',
    });
  }
  rows.push({
    metric: `RSS bytes per object, ${base.objects} → ${top.objects}`,
    value: perObject,
    unit: 'B',
    target: `≤ ${BYTES_PER_OBJECT_TARGET} B`,
    pass: atMost(perObject, BYTES_PER_OBJECT_TARGET),
  });
  const liveSlope =
    top.objects > base.objects && top.liveHeapBytes !== undefined && base.liveHeapBytes !== undefined
      ? (top.liveHeapBytes - base.liveHeapBytes) / (top.objects - base.objects)
      : undefined;
  rows.push({
    metric: `Live heap per object after a full GC, ${base.objects} → ${top.objects}`,
    value: liveSlope,
    unit: 'B',
    target: `≤ ${BYTES_PER_OBJECT_TARGET} B`,
    pass: atMost(liveSlope, BYTES_PER_OBJECT_TARGET),
  });
  rows.push({
    metric: `V8 heap used per object (no forced GC), ${base.objects} → ${top.objects}`,
    value:
      top.objects > base.objects
        ? (top.heapUsedBytes - base.heapUsedBytes) / (top.objects - base.objects)
        : undefined,
    unit: 'B',
  });
  return {
    scenario: 'memory',
    title: `Memory (controller RSS at ${options.memorySteps.join(', ')} DockerVolumes)`,
    parameters: { memorySteps: options.memorySteps, nodes: options.nodes },
    rows,
    data: { steps },
    notes: [
      "RSS is the median of 10 reads of VmRSS (/proc/<pid>/status), 1 s apart, once the controller's queues are empty; " +
        'heap used is the lowest of 10 reads of its nodejs_heap_size_used_bytes (closest to live data after a GC).',
      'Live heap: the controller runs with --inspect on loopback for this scenario; HeapProfiler.collectGarbage, ' +
        'then Runtime.getHeapUsage. It is what the objects keep (informer caches, queues, timers), without garbage.',
      'RSS keeps what the creation wave made the heap grow to (V8 returns little to the OS), so the RSS slope ' +
        'overstates the steady per-object cost; the heap slope and the restart scenario (a fresh process over ' +
        'the same objects) show the steady state.',
      'Volumes alternate between the nodes (hostName); each is one Docker volume. RSS includes V8 heap slack, ' +
        'so small steps are noisy; the first-to-last slope is the figure to trust.',
    ],
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
  };
}
