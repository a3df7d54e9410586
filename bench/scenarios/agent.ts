// Edge agents (#17): the same Docker daemons reached directly and then
// through `dockyard agent` (the built dist/main.js inside each node, dialling
// the controller's agent endpoint), with the same work on both: N
// DockerContainers converged, then drift repairs with the event stream;
// then, with every node's link to the controller cut, the same removals
// repaired by the agents alone (their local repair).
// Reported as ratios agent / direct, plus the agent's own RSS and CPU while
// idle and while the controller converges through it.

import type { DockerNode } from '../../src/localenv/docker-node.js';
import {
  agentUsage,
  bootstrapSecret,
  cutLink,
  handOverBootstrap,
  restoreLink,
  startAgentInNode,
  waitHostReason,
} from '../../test/support/edge-agent.js';
import { isReady } from '../../test/support/kube.js';
import { sleep } from '../support/pool.js';
import { waitUntilQuiet } from '../support/quiet.js';
import { atMost, type Row, type ScenarioResult } from '../support/report.js';
import type { Session } from '../support/session.js';
import { ratio, summarize, type Summary } from '../support/stats.js';
import { nodeCall } from '../support/env.js';
import { applyAndWait, containerSpec, deleteAllAndWait, ensureNamespace, placements } from './convergence.js';
import { measureRepairs, timeRepairs, victims } from './drift.js';

const DIRECT_NAMESPACE = 'bench-agent-direct';
const AGENT_NAMESPACE = 'bench-agent-tunnel';
/** Agent over direct, convergence time: the tunnel may cost something, not a multiple. */
export const AGENT_CONVERGENCE_RATIO_TARGET = 1.25;
/** Drift repair p99 through the agent: the same one second as reached directly. */
export const AGENT_DRIFT_P99_TARGET_S = 1;
/** An agent's own repair while the controller is away (#17: within one second). */
export const AGENT_LOCAL_REPAIR_P99_TARGET_S = 1;
const CLOCK_TICKS_PER_SECOND = 100;

interface Phase {
  convergeSeconds: number;
  repairs: Summary | undefined;
}

/** Converges `count` DockerContainers in `namespace`, then times `drift` out-of-band removals. */
async function runPhase(session: Session, namespace: string): Promise<Phase> {
  const { env, options } = session;
  await ensureNamespace(session, namespace);
  const items = placements(
    'a',
    options.agentN,
    env.nodes.map((n) => n.name),
  );
  const run = await applyAndWait(
    session,
    namespace,
    items,
    (p) => containerSpec(p.node, env.workloadImage),
    Math.max(300_000, options.agentN * 3_000),
  );
  await waitUntilQuiet(session.controller, 300_000);
  const samples = await measureRepairs(session, {
    count: Math.min(options.drift, options.agentN),
    timeoutMs: 60_000,
    label: namespace,
    namespace,
  });
  return { convergeSeconds: run.totalSeconds, repairs: summarize(samples) };
}

/** Turns a direct DockerHost into an agent-connected one: spec.agent, its bootstrap Secret handed over, the agent started. */
async function switchToAgent(session: Session, node: DockerNode): Promise<void> {
  const { kube } = session.env;
  const endpoint = session.agentEndpoint;
  if (!endpoint) throw new Error('the agent scenario needs a session opened with agents');
  await kube.patch('DockerHost', undefined, node.name, {
    spec: { endpoint: null, insecure: null, tls: null, agent: {} },
  });
  const secret = await bootstrapSecret(kube, endpoint, node.name);
  await nodeCall(node, 'exec: hand over the bootstrap Secret', () => handOverBootstrap(node, secret));
  await nodeCall(node, 'exec: start dockyard agent', () => startAgentInNode(node, { built: true }));
  await kube.waitFor('DockerHost', undefined, node.name, isReady, 'Ready through its agent', 120_000);
}

/**
 * Every node's link to the controller cut (iptables inside the node, as the
 * fault suite's partition), then `count` of `namespace`'s containers removed
 * one by one and timed until each runs again: only the agents can repair them.
 */
async function localRepairs(
  session: Session,
  opts: { namespace: string; count: number },
): Promise<Summary | undefined> {
  const { env } = session;
  const endpoint = session.agentEndpoint;
  if (!endpoint) throw new Error('the agent scenario needs a session opened with agents');
  const picked = await victims(session, opts.count, opts.namespace);
  if (picked.length < opts.count)
    throw new Error(`only ${picked.length} running containers to remove, want ${opts.count}`);
  const forEachNode = (what: string, f: (n: DockerNode) => Promise<unknown>) =>
    Promise.all(env.nodes.map((n) => nodeCall(n, what, () => f(n))));
  await forEachNode('exec: cut the link to the controller', (n) => cutLink(n, endpoint));
  try {
    await forEachNode('wait for AgentDisconnected', (n) =>
      waitHostReason(env.kube, { name: n.name, status: 'False', reason: 'AgentDisconnected' }, 60_000),
    );
    const samples = await timeRepairs(session, { picked, timeoutMs: 60_000, label: 'agents alone' });
    return summarize(samples);
  } finally {
    await forEachNode('exec: restore the link', (n) => restoreLink(n, endpoint));
    await forEachNode('wait for Ready', (n) =>
      env.kube.waitFor('DockerHost', undefined, n.name, isReady, 'Ready after the link came back', 120_000),
    );
  }
}

interface AgentLoad {
  /** Share of one core, averaged over the agents. */
  cpuCores: number;
  /** Highest RSS any agent showed. */
  rssBytes: number;
}

/** Samples every agent's CPU and RSS every second until `work` settles. */
async function agentLoadDuring(nodes: readonly DockerNode[], work: Promise<unknown>): Promise<AgentLoad> {
  const usage = (n: DockerNode) => nodeCall(n, "exec: read the agent's /proc", () => agentUsage(n));
  const first = await Promise.all(nodes.map(usage));
  const t0 = performance.now();
  let rssBytes = Math.max(...first.map((u) => u.rssBytes));
  let settled = false;
  const done = work.finally(() => (settled = true));
  while (!settled) {
    await Promise.race([sleep(1_000), done.catch(() => {})]);
    const now = await Promise.all(nodes.map(usage));
    rssBytes = Math.max(rssBytes, ...now.map((u) => u.rssBytes));
  }
  await done;
  const last = await Promise.all(nodes.map(usage));
  const seconds = (performance.now() - t0) / 1000;
  const ticks = last.reduce((sum, u, i) => sum + u.cpuTicks - (first[i]?.cpuTicks ?? 0), 0);
  return { cpuCores: ticks / CLOCK_TICKS_PER_SECOND / seconds / nodes.length, rssBytes };
}

export async function agent(session: Session): Promise<ScenarioResult> {
  const { options, log, env } = session;
  const started = Date.now();
  log(`[agent] direct: ${options.agentN} DockerContainers, then drift`);
  const direct = await runPhase(session, DIRECT_NAMESPACE);
  await deleteAllAndWait(session, DIRECT_NAMESPACE);

  log('[agent] the same hosts through their agents');
  for (const node of env.nodes) await switchToAgent(session, node);
  await waitUntilQuiet(session.controller, 300_000);
  const idle = await agentLoadDuring(env.nodes, sleep(options.agentIdleSeconds * 1_000));
  log(`[agent] through the agents: ${options.agentN} DockerContainers, then drift`);
  let tunnel: Phase | undefined;
  const busy = await agentLoadDuring(
    env.nodes,
    runPhase(session, AGENT_NAMESPACE).then((p) => (tunnel = p)),
  );
  log(`[agent] every link to the controller cut: removals repaired by the agents alone`);
  const local = await localRepairs(session, {
    namespace: AGENT_NAMESPACE,
    count: Math.min(options.drift, options.agentN),
  });
  return report({ session, started, direct, tunnel: tunnel as Phase, local, idle, busy });
}

function report(r: {
  session: Session;
  started: number;
  direct: Phase;
  tunnel: Phase;
  /** Removals repaired by the agents alone, their links cut. */
  local: Summary | undefined;
  idle: AgentLoad;
  busy: AgentLoad;
}): ScenarioResult {
  const { options } = r.session;
  const convergeRatio = ratio(r.tunnel.convergeSeconds, r.direct.convergeSeconds);
  const mib = (b: number) => b / 2 ** 20;
  const rows: Row[] = [
    { metric: `Converge ${options.agentN} containers, direct`, value: r.direct.convergeSeconds, unit: 's' },
    {
      metric: `Converge ${options.agentN} containers, through agents`,
      value: r.tunnel.convergeSeconds,
      unit: 's',
    },
    {
      metric: 'Convergence ratio, agent / direct',
      value: convergeRatio,
      target: `≤ ${AGENT_CONVERGENCE_RATIO_TARGET}`,
      pass: atMost(convergeRatio, AGENT_CONVERGENCE_RATIO_TARGET),
    },
    { metric: 'Drift repair p50, direct', value: r.direct.repairs?.p50, unit: 's' },
    { metric: 'Drift repair p50, through agents', value: r.tunnel.repairs?.p50, unit: 's' },
    { metric: 'Drift repair p99, direct', value: r.direct.repairs?.p99, unit: 's' },
    {
      metric: 'Drift repair p99, through agents',
      value: r.tunnel.repairs?.p99,
      unit: 's',
      target: `≤ ${AGENT_DRIFT_P99_TARGET_S} s`,
      pass: atMost(r.tunnel.repairs?.p99, AGENT_DRIFT_P99_TARGET_S),
    },
    {
      metric: 'Drift repair p50 ratio, agent / direct',
      value: ratio(r.tunnel.repairs?.p50, r.direct.repairs?.p50),
    },
    { metric: 'Local repair p50, agents disconnected', value: r.local?.p50, unit: 's' },
    {
      metric: 'Local repair p99, agents disconnected',
      value: r.local?.p99,
      unit: 's',
      target: `≤ ${AGENT_LOCAL_REPAIR_P99_TARGET_S} s`,
      pass: atMost(r.local?.p99, AGENT_LOCAL_REPAIR_P99_TARGET_S),
    },
    {
      metric: `Agent CPU idle (${options.agentIdleSeconds} s)`,
      value: r.idle.cpuCores * 100,
      unit: '% of a core',
    },
    { metric: 'Agent CPU while converging and repairing', value: r.busy.cpuCores * 100, unit: '% of a core' },
    { metric: 'Agent RSS idle (highest)', value: mib(r.idle.rssBytes), unit: 'MiB' },
    { metric: 'Agent RSS while converging (highest)', value: mib(r.busy.rssBytes), unit: 'MiB' },
  ];
  return {
    scenario: 'agent',
    title: `Edge agents (${options.agentN} containers over ${options.nodes} hosts, direct vs through agents)`,
    parameters: {
      containers: options.agentN,
      drift: Math.min(options.drift, options.agentN),
      nodes: options.nodes,
      idleSeconds: options.agentIdleSeconds,
    },
    rows,
    data: { direct: r.direct, tunnel: r.tunnel, local: r.local, idle: r.idle, busy: r.busy },
    notes: [
      'The same daemons both times: first as DockerHosts with spec.endpoint (published port), then the same ' +
        'DockerHosts patched to spec.agent, each node running the built `dockyard agent` that dials the ' +
        "controller's agent endpoint; the direct phase's containers are deleted before the agent phase.",
      'Convergence: from the first create to the last DockerContainer Ready; drift: `docker rm -f` on the node, ' +
        'then inspect by name every 20 ms until a container of that name runs with a new ID (the controller ' +
        'repairs it: an agent repairs locally only while disconnected).',
      "Local repair: every node's packets to the controller's agent endpoint dropped (iptables in the node), " +
        'each DockerHost AgentDisconnected, then the same removal and timing: the agent alone re-creates the ' +
        'container from its recorded desired state (the destroy event wakes it: list, create, start).',
      "Agent CPU: user + system ticks of each agent's process (/proc inside its node), per second of wall " +
        'clock, averaged over the agents; RSS: the highest VmRSS read, once a second.',
    ],
    startedAt: new Date(r.started).toISOString(),
    durationSeconds: (Date.now() - r.started) / 1000,
  };
}
