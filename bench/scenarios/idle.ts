// Idle cost: converged objects and nothing changing. Over the window the
// controller should write nothing to the API server and change nothing on
// Docker; its CPU time is reported.

import type { Row, ScenarioResult } from '../support/report.js';
import { dockerRequestsByOperation, mutatingEvents, splitMutating, toObject } from '../support/metrics.js';
import { sleep } from '../support/pool.js';
import { waitUntilQuiet } from '../support/quiet.js';
import type { Session } from '../support/session.js';
import { counterDelta, total } from '../support/stats.js';
import {
  applyAndWait,
  containerSpec,
  CONVERGENCE_NAMESPACE,
  ensureNamespace,
  placements,
} from './convergence.js';

/**
 * After the queues empty, wait this long before the window opens: longer than
 * the DockerHost heartbeat (10 s), so the heartbeat that reports the new
 * container counts falls before the window, not in it.
 */
const SETTLE_MS = 15_000;

export async function idle(session: Session): Promise<ScenarioResult> {
  const { options, log, env } = session;
  const started = Date.now();
  await ensureNamespace(session, CONVERGENCE_NAMESPACE);
  const present = await env.kube.api.listNamespacedCustomObject({
    group: 'dockyard.io',
    version: 'v1alpha1',
    namespace: CONVERGENCE_NAMESPACE,
    plural: 'dockercontainers',
  });
  const count = (present as { items: unknown[] }).items.length;
  if (count === 0) {
    log(`[idle] converging ${options.n} DockerContainers first (convergence did not run)`);
    await applyAndWait(
      session,
      CONVERGENCE_NAMESPACE,
      placements(
        'c',
        options.n,
        env.nodes.map((n) => n.name),
      ),
      (p) => containerSpec(p.node, env.workloadImage),
      Math.max(300_000, options.n * 3_000),
    );
  }
  await waitUntilQuiet(session.controller, 300_000);
  await sleep(SETTLE_MS);

  const controller = session.controller;
  const before = {
    api: await session.apiWrites(),
    docker: dockerRequestsByOperation(await controller.metrics()),
    events: session.events.map((e) => e.snapshot()),
    cpu: controller.cpuSeconds(),
  };
  log(`[idle] ${options.idleSeconds} s idle window over ${count || options.n} converged containers`);
  await sleep(options.idleSeconds * 1000);
  const after = {
    api: await session.apiWrites(),
    docker: dockerRequestsByOperation(await controller.metrics()),
    events: session.events.map((e) => e.snapshot()),
    cpu: controller.cpuSeconds(),
  };

  const apiDelta = counterDelta(before.api.byResource, after.api.byResource);
  const apiWrites = after.api.dockyardAttributable - before.api.dockyardAttributable;
  const dockerDelta = splitMutating(counterDelta(before.docker, after.docker));
  const dockerMutations = total(dockerDelta.mutating);
  const eventDeltas = session.events.map((e, i) => ({
    node: e.node,
    all: counterDelta(before.events[i] as Map<string, number>, after.events[i] as Map<string, number>),
  }));
  const eventMutations = eventDeltas.reduce((sum, d) => sum + total(mutatingEvents(d.all)), 0);
  const cpu = after.cpu - before.cpu;
  const rows: Row[] = [
    {
      metric: "API server writes (excluding kube-apiserver's own Leases)",
      value: apiWrites,
      target: '0',
      pass: apiWrites === 0,
    },
    {
      metric: 'Docker mutating calls (controller metric)',
      value: dockerMutations,
      target: '0',
      pass: dockerMutations === 0,
    },
    {
      metric: 'Docker mutating actions (docker events, all nodes)',
      value: eventMutations,
      target: '0',
      pass: eventMutations === 0,
    },
    {
      metric: 'of which DockerHost status (heartbeat reports)',
      value: [...apiDelta].filter(([k]) => k.includes('dockerhosts/status')).reduce((n, [, v]) => n + v, 0),
    },
    { metric: 'Docker read calls (controller metric)', value: total(dockerDelta.reads) },
    { metric: 'Controller CPU', value: cpu, unit: 's' },
    { metric: 'Controller CPU share', value: (cpu / options.idleSeconds) * 100, unit: '% of one core' },
    { metric: 'Controller RSS at end', value: controller.rssBytes() / 2 ** 20, unit: 'MiB' },
  ];
  return {
    scenario: 'idle',
    title: `Idle cost (${options.idleSeconds} s after convergence)`,
    parameters: { idleSeconds: options.idleSeconds, objects: count || options.n, syncPeriod: '10m' },
    rows,
    data: {
      apiServerWritesByResource: toObject(apiDelta),
      apiServerOwnLeaseWrites: after.api.apiServerOwnLeases - before.api.apiServerOwnLeases,
      dockerMutatingByOperation: toObject(dockerDelta.mutating),
      dockerReadsByOperation: toObject(dockerDelta.reads),
      dockerEventsByNode: Object.fromEntries(eventDeltas.map((d) => [d.node, toObject(d.all)])),
    },
    notes: [
      "The window opens once the controller's queues are empty (after the reconcile wave of convergence) plus 15 s " +
        '(one DockerHost heartbeat, so the container counts it reports are written before the window).',
      'DockerHost status refreshes lastHeartbeatTime every 5 minutes even when nothing changed (by design, like a ' +
        "Node's status report), so a window may catch up to one such write per host.",
      'With the default --sync-period (10m) no periodic re-verification falls in a 2-minute window; ' +
        'reads are DockerHost heartbeats (`_ping`, every 10 s per host) and event streams.',
      `Pass needs both the controller's own count and the daemons' \`docker events\` to be 0; ` +
        'kube-apiserver renews its own identity Lease (kube-system) every 10 s, which is listed apart in the JSON.',
    ],
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
  };
}
