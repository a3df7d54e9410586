import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import {
  SHARD_SET_LABEL,
  ShardCoordinator,
  type ShardLeaseApi,
} from '../../src/runtime/shard-coordinator.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { createNamespace } from '../support/test-crd.js';

// Shard Leases on a real API server: replicas spread the shards evenly, a
// replica that dies (its API calls fail) stops its work on a shard before
// another takes the shard over, a replica that stops hands its shards back
// at once (drained first), and a replica that joins gets its share. One
// invariant is sampled all along: no shard is held by two replicas at once.

const NAMESPACE = 'shards';
const SHARDS = 6;
/** Short, in the defaults' proportions (15 s / 10 s / 2 s). */
const LEASE = { leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 500 };

let cp: ControlPlane;
let kc: KubeConfig;

beforeAll(async () => {
  cp = await startControlPlane();
  kc = cp.kubeConfig();
  await createNamespace(kc, NAMESPACE);
}, CONTROL_PLANE_START_TIMEOUT_MS);

afterAll(async () => {
  await cp?.stop();
});

interface Replica {
  identity: string;
  coordinator: ShardCoordinator;
  stop: AbortController;
  running: Promise<void>;
  /** Makes every API call fail from now on: the replica is cut off (as if its pod died). */
  die(): void;
  drained: number[];
  lost: Array<{ shard: number; at: number }>;
}

function startReplica(
  identity: string,
  setName: string,
  opts: { drainMs?: number; replaceDelayMs?: number } = {},
): Replica {
  const real = kc.makeApiClient(CoordinationV1Api);
  let dead = false;
  const cut = () => Promise.reject(new Error(`${identity} is cut off`));
  // A loaded API server: every Lease update answered late (the write itself is real).
  const late = <T>(answer: Promise<T>) =>
    opts.replaceDelayMs
      ? answer.then((v) => new Promise<T>((r) => setTimeout(() => r(v), opts.replaceDelayMs)))
      : answer;
  const api: ShardLeaseApi = {
    listNamespacedLease: (req) => (dead ? cut() : real.listNamespacedLease(req)),
    createNamespacedLease: (req) => (dead ? cut() : real.createNamespacedLease(req)),
    replaceNamespacedLease: (req) => (dead ? cut() : late(real.replaceNamespacedLease(req))),
    deleteNamespacedLease: (req) => (dead ? cut() : real.deleteNamespacedLease(req)),
  };
  const drained: number[] = [];
  const lost: Replica['lost'] = [];
  const coordinator = new ShardCoordinator({
    api,
    namespace: NAMESPACE,
    setName,
    identity,
    shards: SHARDS,
    ...LEASE,
    onAcquired: () => {},
    drain: async (shard) => {
      // A shard's work in flight can take a while to end (Docker calls on its hosts).
      if (opts.drainMs) await new Promise((resolve) => setTimeout(resolve, opts.drainMs));
      drained.push(shard);
    },
    onLost: (shard) => lost.push({ shard, at: Date.now() }),
  });
  const stop = new AbortController();
  return {
    identity,
    coordinator,
    stop,
    running: coordinator.run(stop.signal),
    die: () => {
      dead = true;
    },
    drained,
    lost,
  };
}

/** Samples every replica's held shards every 20 ms; records any shard two hold at once. */
function watchOverlaps(replicas: () => Replica[]): { stop(): string[] } {
  const overlaps: string[] = [];
  const timer = setInterval(() => {
    const owner = new Map<number, string>();
    for (const r of replicas()) {
      for (const shard of r.coordinator.heldShards()) {
        const other = owner.get(shard);
        if (other) overlaps.push(`shard ${shard}: ${other} and ${r.identity}`);
        owner.set(shard, r.identity);
      }
    }
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return overlaps;
    },
  };
}

const counts = (rs: Replica[]) => rs.map((r) => r.coordinator.heldShards().length);

async function waitBalanced(rs: Replica[], what: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const held = counts(rs);
      const total = held.reduce((a, b) => a + b, 0);
      const even = held.every(
        (n) => n === Math.floor(SHARDS / rs.length) || n === Math.ceil(SHARDS / rs.length),
      );
      return total === SHARDS && even ? true : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `${what} (held now: ${rs.map((r) => r.identity).join(', ')})` },
  );
}

/** Runs `body` over the replicas it starts; then stops them all and checks no shard was ever held twice. */
async function withReplicas(body: (replicas: Replica[]) => Promise<void>): Promise<void> {
  const replicas: Replica[] = [];
  const overlaps = watchOverlaps(() => replicas);
  try {
    await body(replicas);
  } finally {
    const seen = overlaps.stop();
    for (const r of replicas) r.stop.abort();
    await Promise.all(replicas.map((r) => r.running));
    expect(seen, 'a shard held by two replicas at once').toEqual([]);
  }
}

describe('shard Leases over replicas', () => {
  it('spread evenly, survive a dead replica, hand back on stop, give a joining replica its share', async () => {
    const setName = 'dockyard-controller';
    const replicas: Replica[] = [];
    const overlaps = watchOverlaps(() => replicas);
    try {
      replicas.push(startReplica('a', setName), startReplica('b', setName), startReplica('c', setName));
      await waitBalanced(replicas, '6 shards spread 2/2/2');
      expect(counts(replicas)).toEqual([2, 2, 2]);

      // What the API server says is what each replica believes it holds.
      const leases = await kc
        .makeApiClient(CoordinationV1Api)
        .listNamespacedLease({ namespace: NAMESPACE, labelSelector: `${SHARD_SET_LABEL}=${setName}` });
      const holderOf = new Map(leases.items.map((l) => [l.metadata?.name, l.spec?.holderIdentity]));
      for (const r of replicas)
        for (const shard of r.coordinator.heldShards())
          expect(holderOf.get(`${setName}-shard-${shard}`)).toBe(r.identity);
      expect(
        leases.items.filter((l) => l.metadata?.labels?.['dockyard.io/lease-role'] === 'member'),
      ).toHaveLength(3);

      // c dies: its shards stop on c first (onLost), then a and b take them over.
      const [a, b, c] = replicas as [Replica, Replica, Replica];
      const cShards = c.coordinator.heldShards();
      c.die();
      const diedAt = Date.now();
      await waitFor(async () => (c.lost.length === cShards.length ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 50,
        what: 'the dead replica to give up its shards',
      });
      expect(c.lost.map((l) => l.shard).sort()).toEqual(cShards);
      await waitBalanced([a, b], 'a and b to take over c’s shards (3/3)');
      const lastLost = Math.max(...c.lost.map((l) => l.at));
      expect(lastLost - diedAt, 'c stopped within its renew deadline plus a round').toBeLessThan(
        LEASE.renewDeadlineMs + 2 * LEASE.retryPeriodMs,
      );
      c.stop.abort();
      await c.running;
      replicas.splice(replicas.indexOf(c), 1);

      // b stops: drained, handed back, and a holds all six well before a Lease would expire.
      const bShards = b.coordinator.heldShards();
      const stoppedAt = Date.now();
      b.stop.abort();
      await b.running;
      expect(b.drained.sort()).toEqual(bShards);
      expect(b.coordinator.heldShards()).toEqual([]);
      replicas.splice(replicas.indexOf(b), 1);
      const members = await kc
        .makeApiClient(CoordinationV1Api)
        .listNamespacedLease({ namespace: NAMESPACE, labelSelector: 'dockyard.io/lease-role=member' });
      expect(
        members.items.map((l) => l.metadata?.name),
        'a stopped replica deletes its member Lease',
      ).not.toContain(`${setName}-member-b`);
      await waitFor(async () => (a.coordinator.heldShards().length === SHARDS ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: 'a to hold every shard',
      });
      expect(Date.now() - stoppedAt, 'a hand-back is taken at once, not after expiry').toBeLessThan(
        LEASE.leaseDurationMs,
      );

      // d joins: a hands three back (drained first), d takes them.
      const drainedBefore = a.drained.length;
      const d = startReplica('d', setName);
      replicas.push(d);
      await waitBalanced([a, d], 'd to get its share (3/3)');
      expect(a.drained.length - drainedBefore).toBe(3);
      expect(a.lost, 'a never lost a shard').toEqual([]);
    } finally {
      const seen = overlaps.stop();
      for (const r of replicas) r.stop.abort();
      await Promise.all(replicas.map((r) => r.running));
      expect(seen, 'a shard held by two replicas at once').toEqual([]);
    }
  }, 180_000);

  it(
    'a replica handing shards back keeps the others while each drain outlasts the renew deadline',
    () =>
      withReplicas(async (replicas) => {
        const setName = 'slow-drain';
        const drainMs = LEASE.renewDeadlineMs + 1_000;
        const a = startReplica('a', setName, { drainMs });
        replicas.push(a);
        await waitBalanced(replicas, 'a to hold all 6 shards');
        // b joins: a drains three shards one after another (15 s in one round), renewing the others meanwhile.
        const b = startReplica('b', setName);
        replicas.push(b);
        await waitBalanced(replicas, 'b to get its share (3/3)', 60_000);
        expect(a.drained).toHaveLength(3);
        expect(a.lost, 'a lost no shard while draining').toEqual([]);
        expect(b.lost).toEqual([]);
      }),
    180_000,
  );

  it(
    'a replica whose Lease updates are answered after the retry period (but within the renew deadline) keeps its shards',
    () =>
      withReplicas(async (replicas) => {
        const a = startReplica('a', 'slow-api', { replaceDelayMs: 2 * LEASE.retryPeriodMs });
        replicas.push(a);
        await waitBalanced(replicas, 'a to hold all 6 shards');
        // Several renew deadlines of slow renewals: six shards and the member Lease renewed side by side.
        await new Promise((resolve) => setTimeout(resolve, 3 * LEASE.renewDeadlineMs));
        expect(a.lost, 'a lost no shard to slow renewals').toEqual([]);
        expect(a.coordinator.heldShards()).toHaveLength(SHARDS);
      }),
    180_000,
  );
});
