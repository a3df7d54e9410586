// Cold restart: the controller is stopped and started again over thousands
// of converged objects. Time until every object was verified (reconciled once
// by the new process, queues empty), and what it changed: Docker mutations
// (target 0, from its metric and from the daemons' events) and API writes.

import { waitFor } from '../../src/localenv/process.js';
import {
  counterSum,
  dockerRequestsByOperation,
  mutatingEvents,
  splitMutating,
  toObject,
} from '../support/metrics.js';
import { stepLabel, withProgress } from '../support/deadline.js';
import type { Row, ScenarioResult } from '../support/report.js';
import type { Session } from '../support/session.js';
import { counterDelta, total } from '../support/stats.js';
import { waitUntilQuiet } from '../support/quiet.js';
import { countVolumes, growVolumes } from './memory.js';

export async function restart(session: Session): Promise<ScenarioResult> {
  const { options, log } = session;
  const started = Date.now();
  const have = await countVolumes(session);
  if (have < options.restartObjects) {
    log(`[restart] growing to ${options.restartObjects} DockerVolumes`);
    await growVolumes(session, have, options.restartObjects);
  }
  const objects = Math.max(have, options.restartObjects);
  await waitUntilQuiet(session.controller, 600_000);

  const before = {
    api: await session.apiWrites(),
    events: session.events.map((e) => e.snapshot()),
  };
  log(`[restart] restarting the controller over ${objects} DockerVolumes`);
  const t0 = performance.now();
  const controller = await session.restartController({});
  const spawnedAt = controller.startedAt;
  const readyzSeconds = (performance.now() - spawnedAt) / 1000;
  // Verified: one finished reconcile per object, then nothing queued or running.
  let reconciled = 0;
  await withProgress(
    {
      label: stepLabel('dockervolume reconciles'),
      total: objects,
      verb: 'done',
      log,
      count: () => Math.min(reconciled, objects),
    },
    () =>
      waitFor(
        async () => {
          reconciled = counterSum(await controller.metrics(), 'controller_runtime_reconcile_total', {
            controller: 'dockervolume',
          });
          return reconciled >= objects;
        },
        {
          timeoutMs: 900_000,
          intervalMs: 200,
          what: `${objects} dockervolume reconciles after the restart`,
        },
      ),
  );
  await waitUntilQuiet(controller, 600_000, 1, 200);
  const verifiedSeconds = (performance.now() - spawnedAt) / 1000;
  const stopToVerifiedSeconds = (performance.now() - t0) / 1000;

  const after = {
    api: await session.apiWrites(),
    events: session.events.map((e) => e.snapshot()),
    samples: await controller.metrics(),
  };
  // A fresh process: its metric counts from zero, so the whole value is the restart's.
  const docker = splitMutating(dockerRequestsByOperation(after.samples));
  const dockerMutations = total(docker.mutating);
  const eventDeltas = session.events.map((e, i) => ({
    node: e.node,
    all: counterDelta(before.events[i] as Map<string, number>, after.events[i] as Map<string, number>),
  }));
  const eventMutations = eventDeltas.reduce((sum, d) => sum + total(mutatingEvents(d.all)), 0);
  const apiWrites = after.api.dockyardAttributable - before.api.dockyardAttributable;
  const rows: Row[] = [
    { metric: 'Process start → /readyz', value: readyzSeconds, unit: 's' },
    { metric: `Process start → all ${objects} objects verified`, value: verifiedSeconds, unit: 's' },
    { metric: 'Verified objects per second', value: objects / verifiedSeconds, unit: '/s' },
    {
      metric: 'Docker mutating calls (controller metric)',
      value: dockerMutations,
      target: '0',
      pass: dockerMutations === 0,
    },
    {
      metric: 'Docker mutating actions (docker events)',
      value: eventMutations,
      target: '0',
      pass: eventMutations === 0,
    },
    { metric: 'Docker read calls', value: total(docker.reads) },
    { metric: 'API server writes during restart', value: apiWrites },
    { metric: 'Controller CPU until verified', value: controller.cpuSeconds(), unit: 's' },
    { metric: 'Controller RSS when verified', value: controller.rssBytes() / 2 ** 20, unit: 'MiB' },
    {
      metric: 'Controller V8 heap used when verified',
      value: counterSum(after.samples, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      unit: 'MiB',
    },
  ];
  return {
    scenario: 'restart',
    title: `Cold restart (${objects} converged DockerVolumes)`,
    parameters: { restartObjects: options.restartObjects, objects },
    rows,
    data: {
      stopToVerifiedSeconds,
      dockerMutatingByOperation: toObject(docker.mutating),
      dockerReadsByOperation: toObject(docker.reads),
      apiServerWritesByResource: toObject(counterDelta(before.api.byResource, after.api.byResource)),
      dockerEventsByNode: Object.fromEntries(eventDeltas.map((d) => [d.node, toObject(d.all)])),
    },
    notes: [
      'The old process stops gracefully (SIGTERM); times run from spawning the new one. "Verified" = ' +
        'controller_runtime_reconcile_total{controller="dockervolume"} reached the object count and the queues are empty.',
    ],
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
  };
}
