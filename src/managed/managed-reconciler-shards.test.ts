import { describe, expect, it } from 'vitest';
import type { DockerHost } from '../crds/dockerhost.js';
import { Reason } from '../crds/reasons.js';
import type { HostOwnership } from './host-shards.js';
import { fakeKind, fakeObject, fakeWorld, readyHost } from './test-support.js';
import type { HostOutcome, ManagedObject, ManagedStatus } from './types.js';

// Sharded (--shards): a replica does the Docker work on the hosts it holds
// only, carries the other hosts' entries as their replicas left them, locks
// every status write to the version it read, and summarises the object from
// what the entries record — so replicas writing one object never fight.

const hosts: DockerHost[] = ['h1', 'h2'].map((name) => ({
  ...readyHost(),
  metadata: { name, labels: { fleet: 'x' } },
}));

function owning(keys: string[]): HostOwnership {
  return {
    owns: (key) => keys.includes(key),
    run: (key, work) => (keys.includes(key) ? work() : Promise.reject(new Error(`${key} not owned`))),
  };
}

type StatusBody = { metadata?: { resourceVersion?: string }; status: ManagedStatus };

const readyOn = (host: string): HostOutcome => ({ entry: { name: host, phase: 'Ready' }, ready: true });

function world(o: { owned: string[]; object: ManagedObject; outcome?: (host: string) => HostOutcome }) {
  const worked: string[] = [];
  const finalized: string[] = [];
  const writes: StatusBody[] = [];
  const finalizerWrites: unknown[] = [];
  const kind = fakeKind({
    reconcileHost: (ctx) => {
      worked.push(ctx.host.metadata.name);
      return Promise.resolve((o.outcome ?? readyOn)(ctx.host.metadata.name));
    },
    finalizeHost: (ctx) => {
      finalized.push(ctx.host.metadata.name);
      return Promise.resolve({ done: true });
    },
  });
  const w = fakeWorld({
    kind,
    hosts,
    object: () => o.object,
    ownership: owning(o.owned),
    onStatus: (body) => writes.push(body as StatusBody),
    onFinalizer: (body) => finalizerWrites.push(body),
  });
  return { ...w, worked, finalized, writes, finalizerWrites };
}

const bySelector = (status?: ManagedStatus) =>
  fakeObject({
    metadata: { resourceVersion: '7' },
    spec: { hostName: undefined, hostSelector: { matchLabels: { fleet: 'x' } } },
    ...(status ? { status } : {}),
  });

/** RFC 7386: what the API server makes of a merge patch (status writes are merge patches). */
function mergePatched<V>(target: V, patch: unknown): V {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch as V;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatched(out[key], value);
  }
  return out as V;
}

const ready = (status: ManagedStatus | undefined) =>
  status?.conditions?.find((c) => c.type === 'Ready')?.status;

describe('ManagedReconciler, sharded', () => {
  it('works on its own host only and carries the other as waiting; the write is locked', async () => {
    const w = world({ owned: ['h1'], object: bySelector() });
    await w.reconcile();
    expect(w.worked).toEqual(['h1']);
    const [write] = w.writes;
    expect(write?.metadata?.resourceVersion).toBe('7');
    expect(write?.status.hosts).toEqual([
      expect.objectContaining({ name: 'h1', phase: 'Ready', result: { state: 'Ready' } }),
      expect.objectContaining({ name: 'h2', phase: 'Pending', result: { state: 'Progressing' } }),
    ]);
    expect(ready(write?.status)).not.toBe('True');
  });

  it('is Ready once the other replica recorded its host Ready, and keeps that entry as it was', async () => {
    const theirs = { name: 'h2', phase: 'Ready', id: 'c2', result: { state: 'Ready' as const } };
    const w = world({ owned: ['h1'], object: bySelector({ hosts: [theirs] }) });
    await w.reconcile();
    const status = w.writes[0]?.status;
    expect(status?.hosts?.find((h) => h.name === 'h2')).toMatchObject(theirs);
    expect(ready(status)).toBe('True');
    expect(status?.hostsReady).toBe('2/2');
  });

  it('two replicas summarise the same entries the same way (no write fights the other)', async () => {
    const failing = (host: string): HostOutcome =>
      host === 'h2'
        ? {
            entry: { name: 'h2', phase: 'Failed' },
            ready: false,
            failure: { reason: Reason.PullError, message: 'no such image' },
          }
        : readyOn(host);
    // b holds h2 and writes first; a (h1) then writes from b's status, and b again from a's.
    const b = world({ owned: ['h2'], object: bySelector(), outcome: failing });
    await b.reconcile();
    const fromB = mergePatched<ManagedStatus>({}, b.writes[0]?.status);
    const a = world({ owned: ['h1'], object: bySelector(fromB), outcome: failing });
    await a.reconcile();
    const fromA = mergePatched(fromB, a.writes[0]?.status);
    expect(fromA?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: Reason.PullError,
    });
    const bAgain = world({ owned: ['h2'], object: bySelector(fromA), outcome: failing });
    await bAgain.reconcile();
    expect(bAgain.writes, 'b finds nothing to change in what a wrote').toEqual([]);
    const aAgain = world({ owned: ['h1'], object: bySelector(fromA), outcome: failing });
    await aAgain.reconcile();
    expect(aAgain.writes, 'nor does a').toEqual([]);
  });

  it('does nothing for an object none of whose hosts, nor its home, it holds', async () => {
    const w = world({ owned: ['h3'], object: bySelector() });
    expect(await w.reconcile()).toEqual({});
    expect(w.worked).toEqual([]);
    expect(w.writes).toEqual([]);
    expect(w.finalizerWrites).toEqual([]);
  });

  it('on delete finalizes its own hosts only and keeps the finalizer while another host remains', async () => {
    const deleting = fakeObject({
      metadata: { resourceVersion: '9', deletionTimestamp: new Date() },
      spec: { hostName: undefined, hostSelector: { matchLabels: { fleet: 'x' } } },
      status: {
        hosts: [
          { name: 'h1', phase: 'Ready' },
          { name: 'h2', phase: 'Ready' },
        ],
      },
    });
    const w = world({ owned: ['h1'], object: deleting });
    await w.reconcile();
    expect(w.finalized).toEqual(['h1']);
    expect(w.finalizerWrites, 'the finalizer stays for h2').toEqual([]);
    expect(w.writes[0]?.metadata?.resourceVersion).toBe('9');
    expect(w.writes[0]?.status.hosts?.map((h) => h.name)).toEqual(['h2']);
  });
});
