// The scale scenario's sharding runs: the headline fleet again over N
// sharded replicas (`--leader-elect --shards=N`, separate processes on this
// machine), once undisturbed (the speed-up over one process, each replica's
// memory) and once with one replica SIGKILLed when half the objects are
// Ready (its shards are taken over once their Leases expire). After each
// run every hollow host must hold exactly its own containers: no duplicate
// (two replicas creating one object) and no orphan (a container no object
// names). Then the objects are deleted through the replicas left.

import type { HollowHost } from '../hollow/index.js';
import { counterSum } from './metrics.js';
import { inStep } from './deadline.js';
import type { ControllerProcess } from './controller.js';
import { sleep } from './pool.js';
import { ReadyTracker } from './ready-tracker.js';
import { applyWithProgress, deleteContainers, type ScaleItem } from './scale-api.js';
import { reconcilesOf, steadyMemory, waitContainersIdle } from './scale-controller.js';
import { emptyHosts, type Emptied } from './scale-fleet.js';
import type { ScaleContext } from './scale-phases.js';

export interface ShardedRun {
  replicas: number;
  /** First create → the last object seen Ready. */
  seconds: number;
  applySeconds: number;
  /** Per replica still running at the end: converged RSS and CPU since its start. */
  rssBytes: number[];
  cpuSeconds: number[];
  /** Ready objects when a replica was killed (absent: nobody was). */
  killedAtReady?: number;
  /** Containers beyond one per object name on a host. */
  duplicates: number;
  /** Dockyard containers on a host that no object placed there names, or that are missing. */
  orphans: number;
  missing: number;
  leftovers: Emptied;
}

/** A sharding run that did not finish: what stopped it (the headline's figures are still reported). */
export interface FailedShardedRun {
  replicas: number;
  kill: boolean;
  failed: string;
}

/** Replicas started together, each holding its share of the shards, every DockerHost reconciled. */
async function startReplicas(
  ctx: ScaleContext,
  replicas: number,
  label: string,
): Promise<ControllerProcess[]> {
  const started = await Promise.all(
    Array.from({ length: replicas }, () =>
      ctx.session.startController({
        ...ctx.controllerSettings,
        sharding: { shards: replicas, namespace: ctx.namespace },
      }),
    ),
  );
  const sum = async (f: (samples: Awaited<ReturnType<ControllerProcess['metrics']>>) => number) =>
    (await Promise.all(started.map(async (c) => f(await c.metrics())))).reduce((a, b) => a + b, 0);
  const deadline = performance.now() + ctx.timeoutMs;
  for (;;) {
    const held = await sum((s) => counterSum(s, 'dockyard_shards_held'));
    const hostsReconciled = await sum((s) => reconcilesOf(s, 'dockerhost'));
    if (held === replicas && hostsReconciled >= ctx.hosts.length) break;
    if (performance.now() > deadline)
      throw new Error(`${label}: ${held}/${replicas} shards held, ${hostsReconciled} DockerHost reconciles`);
    await sleep(250);
  }
  for (const c of started) await waitContainersIdle(c, label, ctx.timeoutMs, ctx.session.log);
  return started;
}

/** Duplicates, orphans and missing containers over the hosts, against the objects' placement. */
export function auditHosts(
  hosts: readonly HollowHost[],
  items: readonly ScaleItem[],
): Pick<ShardedRun, 'duplicates' | 'orphans' | 'missing'> {
  const expected = new Map<string, Set<string>>();
  for (const item of items) {
    const names = expected.get(item.host) ?? new Set<string>();
    names.add(item.name);
    expected.set(item.host, names);
  }
  let duplicates = 0;
  let orphans = 0;
  let missing = 0;
  for (const host of hosts) {
    const seen = new Map<string, number>();
    for (const c of host.state.containers.values()) {
      const name = c.config.Labels['dockyard.io/name'];
      if (name !== undefined) seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    const want = expected.get(host.name) ?? new Set<string>();
    for (const [name, n] of seen) {
      if (!want.has(name)) orphans += n;
      else duplicates += n - 1;
    }
    for (const name of want) if (!seen.has(name)) missing++;
  }
  return { duplicates, orphans, missing };
}

/** The headline fleet over `replicas` sharded replicas; with `kill`, one is SIGKILLed at half Ready. */
export async function shardedRun(
  ctx: ScaleContext,
  label: string,
  opts: { replicas: number; kill: boolean },
): Promise<ShardedRun> {
  const { session, namespace, items } = ctx;
  let replicas = await startReplicas(ctx, opts.replicas, label);
  try {
    return await inStep(label, async () => {
      const tracker = await new ReadyTracker(session.cp.kubeConfig(), 'DockerContainer', namespace).start();
      let killedAtReady: number | undefined;
      try {
        const t0 = performance.now();
        await applyWithProgress(session.kube, namespace, items, `${label} apply`, session.log);
        const applySeconds = (performance.now() - t0) / 1000;
        const names = items.map((item) => item.name);
        if (opts.kill) {
          while (tracker.readyAt.size < items.length / 2) await sleep(50);
          killedAtReady = tracker.readyAt.size;
          const victim = replicas[0] as ControllerProcess;
          await victim.kill();
          replicas = replicas.slice(1);
          session.log(`${label}: replica killed (SIGKILL) at ${killedAtReady}/${items.length} Ready`);
        }
        await tracker.waitAllReady(names, ctx.timeoutMs, `${items.length} DockerContainers Ready`, {
          log: session.log,
          label,
        });
        const seconds = (Math.max(...names.map((n) => tracker.readyAt.get(n) as number)) - t0) / 1000;
        for (const c of replicas) await waitContainersIdle(c, label, ctx.timeoutMs, session.log);
        const memory = await Promise.all(replicas.map((c) => steadyMemory(c)));
        const audit = auditHosts(ctx.hosts, items);
        await deleteContainers(session.kube, namespace, names, {
          label: `${label}: deleting`,
          timeoutMs: ctx.timeoutMs,
          log: session.log,
        });
        return {
          replicas: opts.replicas,
          seconds,
          applySeconds,
          rssBytes: memory.map((m) => m.rssBytes),
          cpuSeconds: replicas.map((c) => c.cpuSeconds()),
          ...(killedAtReady !== undefined ? { killedAtReady } : {}),
          ...audit,
          leftovers: emptyHosts(ctx.hosts),
        };
      } finally {
        tracker.stop();
      }
    });
  } finally {
    await Promise.all(replicas.map((c) => c.stop()));
  }
}
