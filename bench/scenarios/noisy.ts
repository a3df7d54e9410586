// Noisy neighbour: one node made unreachable (paused: accepts connections,
// never answers; or halted: refuses them). The healthy node's containers must
// converge as fast as when both nodes are healthy; reported as a ratio.

import type { Row, ScenarioResult } from '../support/report.js';
import { atMost } from '../support/report.js';
import { waitUntilQuiet } from '../support/quiet.js';
import type { Session } from '../support/session.js';
import { ratio } from '../support/stats.js';
import { containerSpec, ensureNamespace, placements, type Placement } from './convergence.js';
import { ReadyTracker } from '../support/ready-tracker.js';
import { mapLimit } from '../support/pool.js';
import { stepLabel, withProgress } from '../support/deadline.js';
import { nodeCall } from '../support/env.js';

export const NOISY_RATIO_TARGET = 1.1;

/** Applies the items and returns seconds until every one on `healthyNode` is Ready (others may never be). */
async function healthyNodeSeconds(
  session: Session,
  namespace: string,
  items: readonly Placement[],
  healthyNode: string,
  timeoutMs: number,
): Promise<number> {
  const tracker = await new ReadyTracker(session.env.cp.kubeConfig(), 'DockerContainer', namespace).start();
  try {
    const t0 = performance.now();
    const label = stepLabel(`DockerContainers in ${namespace}`);
    await withProgress({ label, total: items.length, verb: 'created', log: session.log }, (progress) =>
      mapLimit(items, 16, async (p) => {
        await session.env.kube.create(
          'DockerContainer',
          namespace,
          p.name,
          containerSpec(p.node, session.env.workloadImage),
        );
        progress.tick();
      }),
    );
    const healthy = items.filter((p) => p.node === healthyNode).map((p) => p.name);
    // No stall rule: how long the healthy half waits behind the bad node is the measurement.
    await tracker.waitAllReady(healthy, timeoutMs, `${healthy.length} containers on ${healthyNode}`, {
      log: session.log,
      label: stepLabel(`containers on ${healthyNode}`),
      stallMs: timeoutMs,
    });
    return (Math.max(...healthy.map((n) => tracker.readyAt.get(n) as number)) - t0) / 1000;
  } finally {
    tracker.stop();
  }
}

export async function noisy(session: Session): Promise<ScenarioResult> {
  const { options, log, env } = session;
  const started = Date.now();
  const [healthy, bad] = env.nodes;
  if (!healthy || !bad) throw new Error('noisy needs two nodes');
  const pair = [healthy.name, bad.name];
  const timeoutMs = Math.max(300_000, options.n * 3_000);

  log(`[noisy] baseline: ${options.n} containers over ${pair.join(' and ')}, both healthy`);
  await ensureNamespace(session, 'bench-noisy-base');
  await waitUntilQuiet(session.controller, 300_000);
  const baseItems = placements('b', options.n, pair);
  const baseline = await healthyNodeSeconds(session, 'bench-noisy-base', baseItems, healthy.name, timeoutMs);
  // Let the other node's half finish too, so the next phase starts from quiet.
  const rest = await new ReadyTracker(env.cp.kubeConfig(), 'DockerContainer', 'bench-noisy-base').start();
  try {
    await rest.waitAllReady(
      baseItems.map((p) => p.name),
      timeoutMs,
      'baseline containers on both nodes',
      { log, label: stepLabel('baseline containers on both nodes') },
    );
  } finally {
    rest.stop();
  }
  await waitUntilQuiet(session.controller, 300_000);

  log(`[noisy] ${options.noisyFault} ${bad.name}, then ${options.n} more containers over both`);
  await ensureNamespace(session, 'bench-noisy-fault');
  if (options.noisyFault === 'pause') await nodeCall(bad, 'pause the node container', () => bad.pause());
  else await nodeCall(bad, 'stop the node container', () => bad.halt());
  let faulted: number;
  try {
    faulted = await healthyNodeSeconds(
      session,
      'bench-noisy-fault',
      placements('f', options.n, pair),
      healthy.name,
      timeoutMs,
    );
  } finally {
    if (options.noisyFault === 'pause')
      await nodeCall(bad, 'unpause the node container', () => bad.unpause());
    else await nodeCall(bad, 'start the node container again', () => bad.resume(), 180_000);
  }
  const r = ratio(faulted, baseline);
  const rows: Row[] = [
    { metric: `${healthy.name} converged, both nodes healthy`, value: baseline, unit: 's' },
    { metric: `${healthy.name} converged, ${bad.name} ${options.noisyFault}d`, value: faulted, unit: 's' },
    {
      metric: 'Ratio (neighbour bad / healthy)',
      value: r,
      target: `≤ ${NOISY_RATIO_TARGET}`,
      pass: atMost(r, NOISY_RATIO_TARGET),
    },
  ];
  return {
    scenario: 'noisy',
    title: `Noisy neighbour (${options.n / 2} containers per node, ${bad.name} ${options.noisyFault}d)`,
    parameters: { n: options.n, fault: options.noisyFault, concurrency: options.concurrency },
    rows,
    data: { baselineSeconds: baseline, faultedSeconds: faulted },
    notes: [
      "Both phases apply N containers, half per node, and time only the healthy node's half (first create → last Ready).",
      'pause = `docker pause` of the node container: TCP connects succeed but nothing answers (a hang); ' +
        'halt = `docker stop`: connections are refused. The image in this environment has no `tc`, so "slow" is not simulated.',
    ],
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
  };
}
