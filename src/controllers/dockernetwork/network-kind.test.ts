import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerNetwork, DockerNetworkSpec } from '../../crds/dockernetwork.js';
import type { HostConnection } from '../../docker/connection-pool.js';
import { managedMetricsNoop } from '../../managed/managed-metrics.js';
import type { HostContext, HostStatusEntry } from '../../managed/types.js';
import { dockerNetworkKind } from './network-kind.js';
import { networkCreateFor } from './network-spec.js';

// The kind's glue against an in-memory daemon: the paths the integration
// test cannot force (a create losing a race, a container attaching during a
// recreate) and the bookkeeping around duplicates and deletion.

interface FakeNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Created: string;
  Labels: Record<string, string>;
  IPAM: { Config: Array<{ Subnet: string }> };
  /** Running containers (endpoints). */
  Containers: Record<string, { Name: string }>;
}

interface FakeContainer {
  Id: string;
  Names: string[];
  /** Network ids or names it joins at start (stopped containers). */
  joins: string[];
}

class FakeDaemon {
  networks: FakeNetwork[] = [];
  containers: FakeContainer[] = [];
  created: Dockerode.NetworkCreateOptions[] = [];
  removed: string[] = [];
  private seq = 0;
  /** Runs before every create's name check (a racing creator). */
  beforeNameCheck?: () => void;
  /** Makes a remove fail as if a container attached just now. */
  busyOnRemove = new Set<string>();

  add(name: string, labels: Record<string, string>, extra: Partial<FakeNetwork> = {}): FakeNetwork {
    this.seq++;
    const n: FakeNetwork = {
      Id: `net${this.seq}`.padEnd(64, '0'),
      Name: name,
      Driver: 'bridge',
      Created: `2026-11-29T13:00:${String(this.seq).padStart(2, '0')}.000000001Z`,
      Labels: labels,
      IPAM: { Config: [{ Subnet: `172.18.${this.seq}.0/24` }] },
      Containers: {},
      ...extra,
    };
    this.networks.push(n);
    return n;
  }

  private listCalls = 0;

  readonly api = {
    listNetworks: async (opts: { filters: { name?: string[]; label?: string[] } }) => {
      if (opts.filters.name && ++this.listCalls > 1) this.beforeNameCheck?.();
      return this.networks.filter((n) => {
        if (opts.filters.name) return opts.filters.name.some((s) => n.Name.includes(s));
        return (opts.filters.label ?? []).every((l) => {
          const [k, v] = l.split('=');
          return n.Labels[k ?? ''] === v;
        });
      });
    },
    getNetwork: (id: string) => ({
      inspect: async () => {
        const n = this.networks.find((x) => x.Id === id);
        if (!n) throw Object.assign(new Error('no such network'), { statusCode: 404 });
        return n;
      },
      remove: async () => {
        const n = this.networks.find((x) => x.Id === id);
        if (!n) throw Object.assign(new Error('no such network'), { statusCode: 404 });
        if (Object.keys(n.Containers).length > 0 || this.busyOnRemove.has(id))
          throw Object.assign(new Error('has active endpoints'), { statusCode: 403 });
        this.networks = this.networks.filter((x) => x !== n);
        this.removed.push(id);
      },
    }),
    createNetwork: async (opts: Dockerode.NetworkCreateOptions) => {
      if (opts.CheckDuplicate && this.networks.some((n) => n.Name === opts.Name))
        throw Object.assign(new Error('already exists'), { statusCode: 409 });
      this.created.push(opts);
      const n = this.add(opts.Name, opts.Labels ?? {}, {
        IPAM: { Config: (opts.IPAM?.Config ?? []).map((c) => ({ Subnet: c.Subnet ?? '' })) },
      });
      return { id: n.Id };
    },
    listContainers: async (opts: { filters: { network: string[] } }) =>
      this.containers.filter((c) => c.joins.some((j) => opts.filters.network.includes(j))),
  };
}

// A baseline host (the default) that lets networks use 10.9.0.0/16.
const host = {
  metadata: { name: 'n1' },
  spec: { endpoint: 'tcp://n1:2375', securityPolicySettings: { allowedSubnets: ['10.9.0.0/16'] } },
} as DockerHost;

function network(spec: Partial<DockerNetworkSpec> = {}, uid = 'u-1'): DockerNetwork {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerNetwork',
    metadata: { namespace: 'team-a', name: 'web', uid, generation: 1 },
    spec: { hostName: 'n1', ...spec },
  };
}

function context(daemon: FakeDaemon, obj: DockerNetwork, previous?: HostStatusEntry, paused = false) {
  const events: string[] = [];
  const ctx: HostContext<DockerNetwork> = {
    obj,
    namespace: 'team-a',
    host,
    conn: {
      host: 'n1',
      endpoint: 'tcp://n1:2375',
      api: daemon.api as unknown as Dockerode,
      stream: daemon.api as unknown as Dockerode,
      fingerprint: 'x',
    } satisfies HostConnection,
    previous,
    paused,
    logger: pino({ level: 'silent' }),
    events: { event: (_o, type, reason, _a, note) => events.push(`${type} ${reason}: ${note}`) },
    metrics: managedMetricsNoop,
    now: new Date(),
    signal: new AbortController().signal,
  };
  return { ctx, events };
}

/** Labels of a network Dockyard made for `obj` with its current spec. */
const labelsFor = (obj: DockerNetwork) => networkCreateFor(obj).labels;

describe('dockerNetworkKind.reconcileHost', () => {
  it('creates a missing network with the full create body and reports it', async () => {
    const daemon = new FakeDaemon();
    const obj = network({ ipam: { config: [{ subnet: '10.9.0.0/24' }] } });
    const { ctx, events } = context(daemon, obj);
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(daemon.created).toHaveLength(1);
    expect(daemon.created[0]).toMatchObject({
      Name: 'team-a.web',
      CheckDuplicate: true,
      Labels: labelsFor(obj),
    });
    expect(out.ready).toBe(true);
    expect(out.entry).toMatchObject({
      phase: 'Ready',
      id: daemon.networks[0]?.Id,
      networkName: 'team-a.web',
      subnets: ['10.9.0.0/24'],
    });
    expect(events).toEqual(['Normal Created: created network team-a.web on n1']);
  });

  it('a create that finds the name taken meanwhile records nothing and looks again', async () => {
    const daemon = new FakeDaemon();
    daemon.beforeNameCheck = () => {
      daemon.beforeNameCheck = undefined;
      daemon.add('team-a.web', { app: 'someone-else' });
    };
    const { ctx, events } = context(daemon, network());
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(daemon.created).toHaveLength(0);
    expect(events).toEqual([]);
    expect(out.ready).toBe(false);
    expect(out.entry.phase).toBe('Creating');
    expect(out.entry.id).toBeUndefined();

    const next = await dockerNetworkKind.reconcileHost(context(daemon, network(), out.entry).ctx);
    expect(next.stalled?.reason).toBe('NameConflict');
    expect(next.entry.id).toBeUndefined();
  });

  // A lost race drops the effects queued after the create: no Event, no drift repair counted.
  it.each([
    {
      what: 'a drift repair',
      old: false,
      previous: {
        name: 'n1',
        phase: 'Ready',
        machine: { state: 'Ready', version: 1, context: { repairs: 0 } },
      },
    },
    { what: 'a recreate', old: true, previous: undefined },
  ])('$what whose create finds the name taken meanwhile records nothing', async ({ old, previous }) => {
    const daemon = new FakeDaemon();
    const stale = old ? daemon.add('team-a.web', labelsFor(network())) : undefined;
    daemon.beforeNameCheck = () => {
      daemon.beforeNameCheck = undefined;
      daemon.add('team-a.web', { app: 'someone-else' });
    };
    const obj = network(old ? { internal: true } : {});
    const { ctx, events } = context(daemon, obj, previous);
    let repairs = 0;
    const metrics = { ...managedMetricsNoop, driftRepaired: () => void repairs++ };
    const out = await dockerNetworkKind.reconcileHost({ ...ctx, metrics });
    expect(daemon.created).toHaveLength(0);
    expect(daemon.removed).toEqual(stale ? [stale.Id] : []);
    expect(events).toEqual([]);
    expect(repairs).toBe(0);
    expect(out).toMatchObject({ ready: false, entry: { phase: 'Creating' } });
    expect(out.entry.id).toBeUndefined();
  });

  it("never names another tenant's namespace or resource in a conflict, in status or Event", async () => {
    const daemon = new FakeDaemon();
    const theirs = {
      ...network({}, 'u-other'),
      metadata: { namespace: 'tenant-b', name: 'secret-app', uid: 'u-other', generation: 1 },
    };
    daemon.add('team-a.web', labelsFor(theirs));
    const { ctx, events } = context(daemon, network());
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(out.stalled?.reason).toBe('NameConflict');
    expect(out.stalled?.message).toContain('it belongs to another Dockyard resource');
    for (const text of [out.stalled?.message, out.entry.message, ...events]) {
      expect(text).not.toMatch(/tenant-b|secret-app/);
    }
    expect(events.join('\n')).toContain('NameConflict');
    expect(daemon.removed).toEqual([]);
  });

  it("an explicit networkName in the form of another namespace's default name is InvalidName, nothing created", async () => {
    const daemon = new FakeDaemon();
    const { ctx, events } = context(daemon, network({ networkName: 'tenant-b.web' }));
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(out.stalled?.reason).toBe('InvalidName');
    expect(out.stalled?.message).toContain('spec.networkName');
    expect(out.entry.phase).toBe('InvalidName');
    expect(daemon.created).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^Warning InvalidName/);
    // Not repeated on every poll.
    const again = context(daemon, network({ networkName: 'tenant-b.web' }), out.entry);
    await dockerNetworkKind.reconcileHost(again.ctx);
    expect(again.events).toEqual([]);
  });

  it('recreates a network from an older spec when nothing is attached', async () => {
    const daemon = new FakeDaemon();
    const old = daemon.add('team-a.web', labelsFor(network()));
    const obj = network({ internal: true });
    const { ctx, events } = context(daemon, obj, { name: 'n1', phase: 'Ready', id: old.Id });
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(daemon.removed).toEqual([old.Id]);
    expect(daemon.created[0]).toMatchObject({ Internal: true, Labels: labelsFor(obj) });
    expect(out).toMatchObject({ ready: true, entry: { phase: 'Ready', id: daemon.networks[0]?.Id } });
    expect(events.map((e) => e.split(':')[0])).toEqual(['Normal Recreated']);
  });

  it('a container attaching during the recreate fails the attempt (retried) and creates nothing', async () => {
    const daemon = new FakeDaemon();
    const old = daemon.add('team-a.web', labelsFor(network()));
    daemon.busyOnRemove.add(old.Id);
    const { ctx } = context(daemon, network({ internal: true }));
    await expect(dockerNetworkKind.reconcileHost(ctx)).rejects.toThrow(
      /a container attached while it was being recreated/,
    );
    expect(daemon.created).toHaveLength(0);
  });

  it('stalls on a spec change while in use, naming running and stopped containers', async () => {
    const daemon = new FakeDaemon();
    const old = daemon.add('team-a.web', labelsFor(network()), { Containers: { c1: { Name: 'api' } } });
    daemon.containers.push({ Id: 'c2', Names: ['/worker'], joins: ['team-a.web'] });
    const { ctx, events } = context(daemon, network({ internal: true }));
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(out.stalled?.reason).toBe('RecreateRequired');
    expect(out.stalled?.message).toContain('in use by api, worker');
    expect(out.entry.id).toBe(old.Id);
    expect(daemon.removed).toEqual([]);
    expect(events[0]).toMatch(/^Warning RecreateRequired: .*in use by api, worker/);
  });

  it('keeps the network in status among duplicates and removes the free ones and old names', async () => {
    const daemon = new FakeDaemon();
    const obj = network();
    const oldest = daemon.add('team-a.web', labelsFor(obj));
    const recorded = daemon.add('team-a.web', labelsFor(obj));
    const renamed = daemon.add('team-a.before', labelsFor(obj));
    const foreign = daemon.add('team-a.before2', {});
    const { ctx, events } = context(daemon, obj, { name: 'n1', phase: 'Ready', id: recorded.Id });
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(daemon.removed).toEqual([oldest.Id, renamed.Id]);
    expect(daemon.networks.map((n) => n.Id)).toEqual([recorded.Id, foreign.Id]);
    expect(out).toMatchObject({ ready: true, entry: { phase: 'Ready', id: recorded.Id } });
    expect(events.map((e) => e.split(':')[0])).toEqual(['Normal DuplicateRemoved', 'Normal Removed']);
  });

  it('a duplicate in use stays: not ready until it is free', async () => {
    const daemon = new FakeDaemon();
    const obj = network();
    const keeper = daemon.add('team-a.web', labelsFor(obj));
    daemon.add('team-a.web', labelsFor(obj), { Containers: { c1: { Name: 'api' } } });
    const out = await dockerNetworkKind.reconcileHost(context(daemon, obj).ctx);
    expect(daemon.removed).toEqual([]);
    expect(out.ready).toBe(false);
    expect(out.failure?.reason).toBe('DuplicateNetworks');
    expect(out.failure?.message).toContain('in use by api');
    expect(out.entry).toMatchObject({ phase: 'DuplicateNetworks', id: keeper.Id });
    expect(out.entry.machine?.state).toBe('Ready');
  });

  it('paused: observes only, even with duplicates, drift and old specs', async () => {
    const daemon = new FakeDaemon();
    const obj = network({ internal: true });
    daemon.add('team-a.web', labelsFor(network()));
    daemon.add('team-a.web', labelsFor(network()));
    const { ctx, events } = context(daemon, obj, undefined, true);
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(daemon.removed).toEqual([]);
    expect(daemon.created).toEqual([]);
    expect(events).toEqual([]);
    expect(out).toMatchObject({ ready: false, entry: { phase: 'Paused' } });
  });
});

describe('dockerNetworkKind.reconcileHost under the host securityPolicy', () => {
  it('refuses a macvlan on a host interface: PolicyViolation naming the fields, a Warning, nothing created', async () => {
    const daemon = new FakeDaemon();
    const obj = network({ driver: 'macvlan', options: { parent: 'eth0' } });
    const { ctx, events } = context(daemon, obj);
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(daemon.created).toEqual([]);
    expect(out.ready).toBe(false);
    expect(out.stalled?.reason).toBe('PolicyViolation');
    expect(out.stalled?.message).toContain('securityPolicy baseline');
    expect(out.stalled?.message).toContain('spec.driver');
    expect(out.stalled?.message).toContain('spec.options.parent');
    expect(out.entry).toMatchObject({ phase: 'PolicyViolation', message: out.stalled?.message });
    expect(out.entry.id).toBeUndefined();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^Warning PolicyViolation: .*spec\.driver/);

    // Looked at again: still refused, no second Event; fixed: created.
    const again = await dockerNetworkKind.reconcileHost(context(daemon, obj, out.entry).ctx);
    expect(again.stalled?.reason).toBe('PolicyViolation');
    expect(daemon.created).toEqual([]);
    const fixed = context(daemon, network(), again.entry);
    const after = await dockerNetworkKind.reconcileHost(fixed.ctx);
    expect(after.ready).toBe(true);
    expect(daemon.created).toHaveLength(1);
  });

  it('refuses a subnet outside the host’s allowedSubnets and leaves an existing network alone', async () => {
    const daemon = new FakeDaemon();
    const old = daemon.add('team-a.web', labelsFor(network()));
    const obj = network({ ipam: { config: [{ subnet: '192.168.0.0/16' }] } });
    const { ctx } = context(daemon, obj, { name: 'n1', phase: 'Ready', id: old.Id });
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(out.stalled?.message).toContain('spec.ipam.config[0].subnet');
    expect(daemon.removed).toEqual([]);
    expect(daemon.created).toEqual([]);
  });

  it('a privileged host allows what baseline refuses', async () => {
    const daemon = new FakeDaemon();
    const obj = network({ driver: 'macvlan', options: { parent: 'eth0' } });
    const { ctx } = context(daemon, obj);
    const privileged = { ...host, spec: { ...host.spec, securityPolicy: 'privileged' as const } };
    const out = await dockerNetworkKind.reconcileHost({ ...ctx, host: privileged });
    expect(out.stalled).toBeUndefined();
    expect(daemon.created[0]).toMatchObject({ Driver: 'macvlan', Options: { parent: 'eth0' } });
  });
});

describe('dockerNetworkKind.finalizeHost', () => {
  it('Orphan leaves everything', async () => {
    const daemon = new FakeDaemon();
    daemon.add('team-a.web', labelsFor(network()));
    expect(await dockerNetworkKind.finalizeHost(context(daemon, network()).ctx, 'Orphan')).toEqual({
      done: true,
    });
    expect(daemon.removed).toEqual([]);
  });

  it('Delete removes every network of ours (duplicates, old names) and never a foreign one', async () => {
    const daemon = new FakeDaemon();
    const obj = network();
    daemon.add('team-a.web', labelsFor(obj));
    daemon.add('team-a.web', labelsFor(obj));
    daemon.add('team-a.old', labelsFor(obj));
    const foreign = daemon.add('team-a.web', {});
    expect(await dockerNetworkKind.finalizeHost(context(daemon, obj).ctx, 'Delete')).toEqual({ done: true });
    expect(daemon.networks.map((n) => n.Id)).toEqual([foreign.Id]);
  });

  it('in use: disconnects nothing, keeps the finalizer and names the containers', async () => {
    const daemon = new FakeDaemon();
    const obj = network();
    daemon.add('team-a.web', labelsFor(obj), { Containers: { c1: { Name: 'api' } } });
    const out = await dockerNetworkKind.finalizeHost(context(daemon, obj).ctx, 'Delete');
    expect(out).toEqual({
      done: false,
      message: 'network team-a.web on n1 is in use by api; remove or disconnect them first',
    });
    expect(daemon.removed).toEqual([]);
  });

  it('gone already is done', async () => {
    expect(await dockerNetworkKind.finalizeHost(context(new FakeDaemon(), network()).ctx, 'Delete')).toEqual({
      done: true,
    });
  });
});

describe('an external DockerNetwork (only looked at)', () => {
  const external = network({ external: true, networkName: 'admin-net' });
  const listing = (allowedExternalNetworks: string[]) =>
    ({ ...host, spec: { ...host.spec, securityPolicySettings: { allowedExternalNetworks } } }) as DockerHost;
  const on = (daemon: FakeDaemon, h: DockerHost, obj = external) => {
    const c = context(daemon, obj);
    return { ...c, ctx: { ...c.ctx, host: h } };
  };

  it('is Ready when the network is there (a longer name is not it); nothing created, changed or removed', async () => {
    const daemon = new FakeDaemon();
    daemon.add('admin-net-old', { owner: 'admin' });
    const net = daemon.add('admin-net', { owner: 'admin' });
    const { ctx, events } = on(daemon, listing(['admin-net']));
    const out = await dockerNetworkKind.reconcileHost(ctx);
    expect(out.ready).toBe(true);
    expect(out.entry).toMatchObject({ phase: 'Ready', networkName: 'admin-net', id: net.Id });
    expect(daemon.created).toEqual([]);
    expect(daemon.removed).toEqual([]);
    expect(net.Labels).toEqual({ owner: 'admin' });
    expect(events).toEqual([]);
  });

  it('is ExternalNotFound when it is not there, and creates nothing', async () => {
    const daemon = new FakeDaemon();
    const out = await dockerNetworkKind.reconcileHost(on(daemon, listing(['admin-net'])).ctx);
    expect(out.failure?.reason).toBe('ExternalNotFound');
    expect(daemon.created).toEqual([]);
  });

  it.each([
    ['a name the host does not list', 'admin-net', []],
    ["Docker's host network, even when listed", 'host', ['host']],
  ])('below privileged refuses %s', async (_what, networkName, allowed) => {
    const daemon = new FakeDaemon();
    daemon.add(networkName, {});
    const obj = network({ external: true, networkName });
    const out = await dockerNetworkKind.reconcileHost(on(daemon, listing(allowed), obj).ctx);
    expect(out.stalled?.reason).toBe('PolicyViolation');
  });

  it('deleting it never removes the network, whatever deletionPolicy says', async () => {
    const daemon = new FakeDaemon();
    daemon.add('admin-net', {});
    const obj = network({ external: true, networkName: 'admin-net', deletionPolicy: 'Delete' });
    const out = await dockerNetworkKind.finalizeHost(on(daemon, listing([]), obj).ctx, 'Delete');
    expect(out).toEqual({ done: true });
    expect(daemon.removed).toEqual([]);
  });
});
