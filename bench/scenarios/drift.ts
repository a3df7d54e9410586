// Drift repair latency: managed containers removed out of band, one at a
// time, timed until a container of the same name runs again. Once with the
// Docker event stream (the controller hears the destroy at once), once
// poll-only (--docker-events=false, short --sync-period: found by the
// periodic re-verification).

import type Dockerode from 'dockerode';
import { parseDuration } from '../../src/cli/duration.js';
import { waitFor } from '../../src/localenv/process.js';
import type { Row, ScenarioResult } from '../support/report.js';
import { atMost } from '../support/report.js';
import { stepLabel, withProgress } from '../support/deadline.js';
import { sleep } from '../support/pool.js';
import { waitUntilQuiet } from '../support/quiet.js';
import type { Session } from '../support/session.js';
import { summarize } from '../support/stats.js';
import {
  applyAndWait,
  containerSpec,
  CONVERGENCE_NAMESPACE,
  ensureNamespace,
  placements,
} from './convergence.js';

/** The target with the event stream: p99 repair within one second. */
export const DRIFT_EVENTS_P99_TARGET_S = 1;
/** Poll-only repairs must come within one poll interval plus this much work. */
export const DRIFT_POLL_SLACK_S = 2;

export interface Victim {
  name: string;
  node: string;
  containerName: string;
  id: string;
}

/** Up to `count` containers of `namespace` running now, spread over the nodes. */
export async function victims(session: Session, count: number, namespace: string): Promise<Victim[]> {
  const list = (await session.env.kube.api.listNamespacedCustomObject({
    group: 'dockyard.io',
    version: 'v1alpha1',
    namespace,
    plural: 'dockercontainers',
  })) as {
    items: Array<{ metadata: { name: string }; status?: { hosts?: Array<Record<string, unknown>> } }>;
  };
  const out: Victim[] = [];
  for (const item of list.items) {
    const host = item.status?.hosts?.[0];
    if (typeof host?.id === 'string' && typeof host.containerName === 'string' && host.phase === 'Running') {
      out.push({
        name: item.metadata.name,
        node: String(host.name),
        containerName: host.containerName,
        id: host.id,
      });
    }
  }
  // Spread over the nodes and the list: every k-th object.
  const step = Math.max(1, Math.floor(out.length / count));
  return out.filter((_, i) => i % step === 0).slice(0, count);
}

/** Removes the container by id and returns seconds until one of the same name runs with a new id. */
async function repairSeconds(docker: Dockerode, v: Victim, timeoutMs: number): Promise<number> {
  const current = await docker.getContainer(v.containerName).inspect();
  const t0 = performance.now();
  await docker.getContainer(current.Id).remove({ force: true });
  await waitFor(
    async () => {
      const info = await docker
        .getContainer(v.containerName)
        .inspect()
        .catch(() => undefined);
      return info !== undefined && info.Id !== current.Id && info.State.Running;
    },
    { timeoutMs, intervalMs: 20, what: `container ${v.containerName} on ${v.node} to run again` },
  );
  return (performance.now() - t0) / 1000;
}

/** Removes `count` running containers of `namespace` one at a time; seconds until each ran again. */
export async function measureRepairs(
  session: Session,
  opts: { count: number; timeoutMs: number; label: string; namespace: string },
): Promise<number[]> {
  const { count, timeoutMs, label, namespace } = opts;
  const picked = await victims(session, count, namespace);
  if (picked.length < count)
    throw new Error(`only ${picked.length} running containers to remove, want ${count}`);
  return timeRepairs(session, { picked, timeoutMs, label });
}

/** Removes each of `picked` in turn; seconds until each ran again (whoever repairs it). */
export async function timeRepairs(
  session: Session,
  opts: { picked: Victim[]; timeoutMs: number; label: string },
): Promise<number[]> {
  const { picked, timeoutMs, label } = opts;
  const samples: number[] = [];
  await withProgress(
    { label: stepLabel(`removals (${label})`), total: picked.length, verb: 'repaired', log: session.log },
    async (progress) => {
      for (const v of picked) {
        samples.push(await repairSeconds(session.env.client(v.node), v, timeoutMs));
        progress.tick();
        // Let the status write of this repair land before the next removal.
        await sleep(200);
      }
    },
  );
  return samples;
}

export async function drift(session: Session): Promise<ScenarioResult> {
  const { options, log, env } = session;
  const started = Date.now();
  const want = Math.max(options.drift, options.driftPollOnly);
  await ensureNamespace(session, CONVERGENCE_NAMESPACE);
  const existing = await victims(session, want, CONVERGENCE_NAMESPACE);
  if (existing.length < want) {
    log(
      `[drift] creating ${want} DockerContainers to remove (${existing.length} running: convergence did not run, or --n < ${want})`,
    );
    await applyAndWait(
      session,
      CONVERGENCE_NAMESPACE,
      placements(
        'drift',
        want,
        env.nodes.map((n) => n.name),
      ),
      (p) => containerSpec(p.node, env.workloadImage),
      Math.max(300_000, want * 3_000),
    );
  }

  log(`[drift] with the event stream: ${options.drift} removals`);
  await waitUntilQuiet(session.controller, 300_000);
  const withEvents = await measureRepairs(session, {
    count: options.drift,
    timeoutMs: 60_000,
    label: 'events',
    namespace: CONVERGENCE_NAMESPACE,
  });

  const pollMs = parseDuration(options.pollSyncPeriod);
  log(
    `[drift] poll only (--docker-events=false --sync-period=${options.pollSyncPeriod}): ${options.driftPollOnly} removals`,
  );
  await session.restartController({ dockerEvents: false, syncPeriod: options.pollSyncPeriod });
  await waitUntilQuiet(session.controller, 300_000);
  const pollOnly = await measureRepairs(session, {
    count: options.driftPollOnly,
    timeoutMs: pollMs * 4 + 60_000,
    label: 'poll-only',
    namespace: CONVERGENCE_NAMESPACE,
  });
  // Later scenarios expect the default controller.
  await session.restartController({});

  const e = summarize(withEvents);
  const p = summarize(pollOnly);
  const pollLimit = pollMs / 1000 + DRIFT_POLL_SLACK_S;
  const rows: Row[] = [
    { metric: 'With event stream: repair p50', value: e?.p50, unit: 's' },
    {
      metric: 'With event stream: repair p99',
      value: e?.p99,
      unit: 's',
      target: `≤ ${DRIFT_EVENTS_P99_TARGET_S} s`,
      pass: atMost(e?.p99, DRIFT_EVENTS_P99_TARGET_S),
    },
    { metric: `Poll only (sync period ${options.pollSyncPeriod}): repair p50`, value: p?.p50, unit: 's' },
    {
      metric: `Poll only (sync period ${options.pollSyncPeriod}): repair p99`,
      value: p?.p99,
      unit: 's',
      target: `≤ ${pollLimit} s (poll interval + ${DRIFT_POLL_SLACK_S} s)`,
      pass: atMost(p?.p99, pollLimit),
    },
  ];
  return {
    scenario: 'drift',
    title: `Drift repair latency (${options.drift} removals with events, ${options.driftPollOnly} poll-only)`,
    parameters: {
      drift: options.drift,
      driftPollOnly: options.driftPollOnly,
      pollSyncPeriod: options.pollSyncPeriod,
      objectsPresent: options.n,
    },
    rows,
    data: { withEvents: { summary: e, samples: withEvents }, pollOnly: { summary: p, samples: pollOnly } },
    notes: [
      'Each sample: `docker rm -f` of the managed container on its node, then inspect by name every 20 ms ' +
        'until a container of that name runs with a new ID.',
      'Poll only: the controller runs with --docker-events=false, so drift is found only when the object is ' +
        're-verified (every --sync-period); latencies spread over 0…interval.',
    ],
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
  };
}
