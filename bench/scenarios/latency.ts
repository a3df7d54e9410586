// Single apply latency: one DockerContainer applied to an idle controller
// until Ready, against one direct dockerode create + start, on the same real
// Docker node, --latency-samples each, alternating which goes first.
//
// Its own scenario rather than a part of `scale`: it needs a real Docker
// daemon (the host dockerd and a Docker-in-Docker node, which only one
// process on a machine may start), while scale runs on hollow hosts with a
// control plane only; and "idle controller" means one with nothing else to
// do, not one that also keeps 1,000 hollow hosts' heartbeats.

import type Dockerode from 'dockerode';
import { deadlineDocker } from '../support/clients.js';
import { API_CALL_MS, inStep, withDeadline, withProgress } from '../support/deadline.js';
import { sleep } from '../support/pool.js';
import { ReadyTracker } from '../support/ready-tracker.js';
import type { Row, ScenarioResult } from '../support/report.js';
import { atMost } from '../support/report.js';
import { waitContainersIdle } from '../support/scale-controller.js';
import type { Session } from '../support/session.js';
import { summarize } from '../support/stats.js';

export const LATENCY_NAMESPACE = 'bench-latency';
/** The goal: Dockyard's p50 at most this much above direct dockerode's. */
export const LATENCY_OVERHEAD_TARGET_MS = 100;
/** One sample may take this long before the run fails (a real node answers in well under a second). */
const SAMPLE_TIMEOUT_MS = 60_000;

/** One direct create + start, timed; the container is removed afterwards, untimed. */
async function directSample(docker: Dockerode, image: string, i: number): Promise<number> {
  const t0 = performance.now();
  const container = await docker.createContainer({
    name: `latency-direct-${i}`,
    Image: image,
    Cmd: ['sleep', '86400'],
    Labels: { 'dockyard.bench': 'direct' },
  });
  await container.start();
  const ms = performance.now() - t0;
  await container.remove({ force: true });
  return ms;
}

/** One DockerContainer created, timed until the watch first shows it Ready; then the queue let go idle. */
async function dockyardSample(session: Session, tracker: ReadyTracker, node: string, i: number) {
  const name = `latency-${i}`;
  const spec = { hostName: node, image: session.env.workloadImage, command: ['sleep', '86400'] };
  const t0 = performance.now();
  await withDeadline(session.env.kube.create('DockerContainer', LATENCY_NAMESPACE, name, spec), {
    host: 'the API server',
    call: `create dockercontainer ${LATENCY_NAMESPACE}/${name}`,
    ms: API_CALL_MS,
  });
  const deadline = t0 + SAMPLE_TIMEOUT_MS;
  while (!tracker.readyAt.has(name)) {
    if (performance.now() > deadline)
      throw new Error(
        `latency sample ${i}: ${LATENCY_NAMESPACE}/${name} not Ready after ${SAMPLE_TIMEOUT_MS / 1000} s`,
      );
    await sleep(5);
  }
  const ms = (tracker.readyAt.get(name) as number) - t0;
  // The next sample meets an idle controller again (its check after its own status write included).
  await waitContainersIdle(session.controller, `latency sample ${i}`, SAMPLE_TIMEOUT_MS, session.log, 2);
  return ms;
}

export async function latency(session: Session): Promise<ScenarioResult> {
  const { env, options, log } = session;
  const startedAt = Date.now();
  const [first] = env.nodes;
  if (!first) throw new Error('the latency scenario needs one Docker node');
  const node = first.name;
  const docker = deadlineDocker(first.client(), node);
  await withDeadline(env.kube.namespace(LATENCY_NAMESPACE), { call: 'create namespace', ms: API_CALL_MS });
  // Its list and watch connects have their own deadlines.
  const tracker = await new ReadyTracker(env.cp.kubeConfig(), 'DockerContainer', LATENCY_NAMESPACE).start();
  const direct: number[] = [];
  const dockyard: number[] = [];
  try {
    await waitContainersIdle(session.controller, '[latency]', SAMPLE_TIMEOUT_MS, log);
    await inStep('[latency]', () =>
      withProgress(
        { label: '[latency] samples', total: options.latencySamples, verb: 'pairs', log },
        async (p) => {
          for (let i = 0; i < options.latencySamples; i++) {
            // Alternate which side goes first, so neither always meets a just-woken daemon.
            if (i % 2 === 0) {
              direct.push(await directSample(docker, env.workloadImage, i));
              dockyard.push(await dockyardSample(session, tracker, node, i));
            } else {
              dockyard.push(await dockyardSample(session, tracker, node, i));
              direct.push(await directSample(docker, env.workloadImage, i));
            }
            p.tick();
          }
        },
      ),
    );
  } finally {
    tracker.stop();
  }
  return latencyResult(options.latencySamples, direct, dockyard, startedAt);
}

function latencyResult(
  samples: number,
  direct: number[],
  dockyard: number[],
  startedAt: number,
): ScenarioResult {
  const d = summarize(direct);
  const k = summarize(dockyard);
  const overhead = d && k ? k.p50 - d.p50 : undefined;
  const rows: Row[] = [
    { metric: 'Direct dockerode create + start p50', value: d?.p50, unit: 'ms' },
    { metric: 'Direct dockerode create + start p99', value: d?.p99, unit: 'ms' },
    { metric: 'Dockyard apply → Ready p50', value: k?.p50, unit: 'ms' },
    { metric: 'Dockyard apply → Ready p99', value: k?.p99, unit: 'ms' },
    {
      metric: 'Dockyard p50 − direct p50',
      value: overhead,
      unit: 'ms',
      target: `≤ ${LATENCY_OVERHEAD_TARGET_MS} ms`,
      pass: atMost(overhead, LATENCY_OVERHEAD_TARGET_MS),
    },
  ];
  return {
    scenario: 'latency',
    title: `Single apply latency (idle controller, one real Docker node, ${samples} samples each)`,
    parameters: { latencySamples: samples, nodes: 1 },
    rows,
    data: { directMs: direct, dockyardMs: dockyard, direct: d, dockyard: k },
    notes: [
      'Dockyard: from the create request until the watch event that first shows the object Ready for its generation; ' +
        'direct: createContainer + start through dockerode. Same node, same image (present), alternating which side goes first; ' +
        "before each Dockyard sample the controller's DockerContainer queue is idle.",
    ],
    startedAt: new Date(startedAt).toISOString(),
    durationSeconds: (Date.now() - startedAt) / 1000,
  };
}
