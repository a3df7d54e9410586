import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { installCrds } from '../../src/crds/install.js';
import { run } from '../../src/localenv/exec.js';
import { waitFor } from '../../src/localenv/process.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import type { LogLine } from '../support/log-capture.js';
import { createNamespace, GadgetClient, installGadgetCrd, isConverged } from '../support/test-crd.js';
import { killAllTestProcesses, TestProcess } from '../support/test-process.js';

// Leader election between real processes over a real Lease: only the leader
// reconciles, a killed leader is replaced once its lease expires, a stopped
// one hands over at once, a leader that loses its lease exits at once without
// draining (a blocked call is cut, nothing written after the loss); and the real
// CLI takes, then releases, its Lease.

const NAMESPACE = 'election';
/** Short, so takeovers are quick; the same proportions as the defaults (15 s / 10 s / 2 s). */
const LEASE = { durationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 500 };

let cp: ControlPlane;
let kc: KubeConfig;
let gadgets: GadgetClient;

beforeAll(async () => {
  cp = await startControlPlane();
  kc = cp.kubeConfig();
  await installGadgetCrd(kc);
  await createNamespace(kc, NAMESPACE);
  gadgets = new GadgetClient(kc, NAMESPACE);
}, CONTROL_PLANE_START_TIMEOUT_MS);

afterEach(async () => {
  await killAllTestProcesses();
});

afterAll(async () => {
  await killAllTestProcesses();
  await cp?.stop();
});

function startReplica(identity: string, lease: string, extraEnv: Record<string, string> = {}): TestProcess {
  return new TestProcess(identity, 'test/support/test-manager.ts', [], {
    DOCKYARD_TEST_KUBECONFIG: cp.kubeconfigPath,
    DOCKYARD_TEST_NAMESPACE: NAMESPACE,
    DOCKYARD_TEST_LEASE: lease,
    DOCKYARD_TEST_IDENTITY: identity,
    DOCKYARD_TEST_LEASE_MS: String(LEASE.durationMs),
    DOCKYARD_TEST_RENEW_MS: String(LEASE.renewDeadlineMs),
    DOCKYARD_TEST_RETRY_MS: String(LEASE.retryPeriodMs),
    ...extraEnv,
  });
}

const acquired = (l: LogLine): boolean => l.msg === 'successfully acquired lease';
const observedLeader = (leader: string) => (l: LogLine) =>
  l.msg === 'new leader observed' && l.leader === leader;
const reconciled = (l: LogLine): boolean => l.msg === 'reconciled';
/** Starting a child (Node + tsx compiling the runtime) takes a few seconds on a busy machine. */
const START_TIMEOUT_MS = 30_000;

/** Every gadget named is converged and was last reconciled by `identity`. */
async function reconciledBy(names: readonly string[], identity: string): Promise<boolean> {
  const items = await gadgets.list();
  return names.every((name) => {
    const g = items.find((i) => i.metadata.name === name);
    return g !== undefined && isConverged(g) && g.status?.reconciledBy === identity;
  });
}

interface LeaseJson {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number };
}

async function kubectlLease(namespace: string, name: string): Promise<LeaseJson> {
  const { stdout } = await run(cp.kubectlPath, [
    `--kubeconfig=${cp.kubeconfigPath}`,
    `--cache-dir=${join(cp.dataDir, 'kubectl-cache')}`,
    'get',
    'lease',
    '-n',
    namespace,
    name,
    '-o',
    'json',
  ]);
  return JSON.parse(stdout) as LeaseJson;
}

describe('leader election between processes', () => {
  it('lets only the leader reconcile; after a SIGKILL a standby takes over once the lease expires', async () => {
    const replicas = [startReplica('replica-a', 'kill-test'), startReplica('replica-b', 'kill-test')];
    const leader = await Promise.any(
      replicas.map((r) => r.waitForLog(acquired, START_TIMEOUT_MS, 'acquire the lease').then(() => r)),
    );
    const standby = replicas.find((r) => r !== leader);
    if (!standby) throw new Error('two replicas expected');
    await standby.waitForLog(observedLeader(leader.name), START_TIMEOUT_MS, 'see the leader');

    // While both run: objects created and changed are reconciled by the leader alone.
    const names = ['k-0', 'k-1', 'k-2', 'k-3'];
    for (const [i, name] of names.entries()) await gadgets.create(name, i);
    for (const name of names) await gadgets.setValue(name, 10);
    await waitFor(() => reconciledBy(names, leader.name), {
      timeoutMs: 20_000,
      what: 'the leader to reconcile',
    });
    expect(leader.count(reconciled)).toBeGreaterThanOrEqual(names.length);
    expect(standby.count(reconciled)).toBe(0);
    expect(standby.find(acquired)).toBeUndefined();
    expect((await kubectlLease(NAMESPACE, 'kill-test')).spec?.holderIdentity).toBe(leader.name);

    // A crash: the lease is not released, so the standby must wait for it to expire.
    const killedAt = performance.now();
    await leader.kill();
    const takeover = await standby.waitForLog(acquired, LEASE.durationMs + 10_000, 'take over');
    const takeoverMs = takeover.at - killedAt;
    expect(takeoverMs).toBeGreaterThan(LEASE.durationMs / 2);
    expect(takeoverMs).toBeLessThan(LEASE.durationMs + 5_000);

    // The new leader reconciles everything (its informer delivers every object), and new changes too.
    await gadgets.setValue('k-0', 20);
    await waitFor(() => reconciledBy(names, standby.name), {
      timeoutMs: 20_000,
      what: 'the new leader to reconcile',
    });
    const lease = await kubectlLease(NAMESPACE, 'kill-test');
    expect(lease.spec?.holderIdentity).toBe(standby.name);
    expect(lease.spec?.leaseTransitions).toBe(1);
  });

  it('hands over at once when the leader is stopped with SIGTERM, and the leader exits 0', async () => {
    const leader = startReplica('replica-c', 'term-test');
    await leader.waitForLog(acquired, START_TIMEOUT_MS, 'acquire the lease');
    const standby = startReplica('replica-d', 'term-test');
    await standby.waitForLog(observedLeader(leader.name), START_TIMEOUT_MS, 'see the leader');
    await gadgets.create('t-0', 1);
    await waitFor(() => reconciledBy(['t-0'], leader.name), {
      timeoutMs: 20_000,
      what: 'the leader to reconcile',
    });

    const stoppedAt = leader.signal('SIGTERM');
    const takeover = await standby.waitForLog(acquired, LEASE.durationMs, 'take over');
    // Released, not expired: an expiry could not be seen before ~leaseDuration - 1.1 s (the
    // standby's last observation of a renewal is at most one jittered retry period old).
    expect(takeover.at - stoppedAt).toBeLessThan(LEASE.durationMs - 2_000);
    const exit = await leader.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - stoppedAt).toBeLessThan(30_000);
    expect(leader.find((l) => l.msg === 'released lease')).toBeDefined();

    await gadgets.setValue('t-0', 2);
    await waitFor(() => reconciledBy(['t-0'], standby.name), {
      timeoutMs: 20_000,
      what: 'the new leader to reconcile',
    });
  });

  it('exits 1 at once when it loses the lease: a blocked call is cut, nothing is written after the loss', async () => {
    // A slow endpoint the reconcile of `slow-*` gadgets calls without the reconcile's signal (as
    // most Docker calls are made) before writing status. It answers after HOLD_MS, later than
    // the loss, but well inside the graceful-shutdown window (10 s) a drain would wait for.
    const HOLD_MS = 9_000;
    const slow = await startSlowServer(HOLD_MS);
    try {
      const leader = startReplica('replica-e', 'lost-test', { DOCKYARD_TEST_SLOW_URL: slow.url });
      await leader.waitForLog(acquired, START_TIMEOUT_MS, 'acquire the lease');
      await gadgets.create('slow-0', 1);
      await waitFor(async () => slow.requests.length > 0, {
        timeoutMs: 20_000,
        what: 'the reconcile to block',
      });

      // Someone else writes the lease (a replica that wrongly believes it expired, or a person).
      const stolenAt = performance.now();
      await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
        {
          group: 'coordination.k8s.io',
          version: 'v1',
          plural: 'leases',
          namespace: NAMESPACE,
          name: 'lost-test',
          body: { spec: { holderIdentity: 'intruder' } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const exit = await leader.exited;
      expect(exit.code, leader.describe()).toBe(1);
      // Noticed within a retry period plus the renew deadline, then no drain at all.
      expect(exit.at - stolenAt).toBeLessThan(LEASE.retryPeriodMs + LEASE.renewDeadlineMs + 2_500);
      expect(leader.find((l) => l.msg === 'leader election lost')).toBeDefined();
      expect(leader.find((l) => l.msg === 'All workers finished')).toBeUndefined();

      // The blocked call was cut when the process went, before its answer came.
      const [request] = slow.requests;
      await waitFor(async () => request?.closedAt !== undefined, {
        timeoutMs: 5_000,
        what: 'the call to be cut',
      });
      expect(request?.answered).toBe(false);
      // Long after the answer would have come: no status write happened after the loss.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, (request?.at ?? 0) + HOLD_MS + 1_000 - performance.now())),
      );
      expect((await gadgets.get('slow-0')).status?.reconciledBy).toBeUndefined();
      expect(leader.find((l) => l.msg === 'slow call returned')).toBeUndefined();
      expect((await kubectlLease(NAMESPACE, 'lost-test')).spec?.holderIdentity).toBe('intruder');
    } finally {
      await slow.close();
    }
  });
});

interface SlowRequest {
  at: number;
  answered: boolean;
  closedAt?: number;
}

/** An HTTP endpoint that answers every request after `holdMs`, recording whether the client hung up first. */
async function startSlowServer(
  holdMs: number,
): Promise<{ url: string; requests: SlowRequest[]; close: () => Promise<void> }> {
  const requests: SlowRequest[] = [];
  const server = createServer((req, res) => {
    const record: SlowRequest = { at: performance.now(), answered: false };
    requests.push(record);
    const timer = setTimeout(() => {
      record.answered = true;
      res.end('ok');
    }, holdMs);
    res.on('close', () => {
      clearTimeout(timer);
      record.closedAt = performance.now();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('dockyard controller (the CLI)', () => {
  it('takes the Lease with --leader-elect, and on SIGTERM exits 0 and releases it', async () => {
    await createNamespace(kc, 'dockyard-system'); // the default --leader-election-namespace outside a pod
    await installCrds(kc); // the controllers' informers list them; /readyz waits for that
    const cli = new TestProcess(
      'dockyard controller',
      'src/main.ts',
      [
        'controller',
        '--leader-elect',
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        '--log-format=json',
      ],
      { KUBECONFIG: cp.kubeconfigPath, KUBERNETES_SERVICE_HOST: undefined },
    );
    const took = await cli.waitForLog(acquired, START_TIMEOUT_MS, 'acquire the lease');
    const identity = String(took.line.identity);
    expect(identity).toMatch(new RegExp(`^${hostname()}_[0-9a-f-]{36}$`));
    const lease = await kubectlLease('dockyard-system', 'dockyard-controller');
    expect(lease.spec?.holderIdentity).toBe(identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(15);

    // The probes and metrics are served where the flags said.
    const port = (msg: string): number => {
      const address = cli.find((l) => l.msg === msg)?.line.address as { port?: number } | undefined;
      if (!address?.port) throw new Error(`no "${msg}" log line with a port\n${cli.describe()}`);
      return address.port;
    };
    const probes = `http://127.0.0.1:${port('serving health probes')}`;
    expect((await fetch(`${probes}/healthz`)).status).toBe(200);
    await waitFor(async () => (await fetch(`${probes}/readyz`)).status === 200, {
      timeoutMs: 15_000,
      what: "the CLI's informers to sync (/readyz)",
    });
    const metrics = await fetch(`http://127.0.0.1:${port('serving metrics')}/metrics`);
    expect(await metrics.text()).toContain('process_cpu_user_seconds_total');

    const stoppedAt = cli.signal('SIGTERM');
    const exit = await cli.exited;
    expect(exit.code, cli.describe()).toBe(0);
    expect(exit.at - stoppedAt).toBeLessThan(30_000);
    const released = await kubectlLease('dockyard-system', 'dockyard-controller');
    expect(released.spec?.holderIdentity ?? '').toBe('');
    expect(released.spec?.leaseDurationSeconds).toBe(1);
  });
});
