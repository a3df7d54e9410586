import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerVolume, DockerVolumeSpec } from '../../crds/dockervolume.js';
import type { HostConnection } from '../../docker/connection-pool.js';
import { managedMetricsNoop } from '../../managed/managed-metrics.js';
import type { HostContext, HostStatusEntry } from '../../managed/types.js';
import { dockerVolumeKind } from './volume-kind.js';

// The kind's glue against an in-memory daemon, for the path the integration
// test cannot force: a volume someone else creates between our observe and
// our create, which Docker hands back from the create without an error.

interface FakeVolume {
  Name: string;
  Driver: string;
  Labels: Record<string, string>;
  Mountpoint: string;
}

class FakeDaemon {
  volumes = new Map<string, FakeVolume>();
  created: string[] = [];
  /** Runs once, right before a create reaches the daemon (another client wins the name). */
  beforeCreate: (() => void) | undefined;

  add(name: string, labels: Record<string, string>): void {
    this.volumes.set(name, {
      Name: name,
      Driver: 'local',
      Labels: labels,
      Mountpoint: `/var/lib/docker/volumes/${name}/_data`,
    });
  }

  readonly api = {
    getVolume: (name: string) => ({
      inspect: async () => {
        const v = this.volumes.get(name);
        if (!v) throw Object.assign(new Error('no such volume'), { statusCode: 404 });
        return v;
      },
    }),
    createVolume: async (opts: { Name: string; Labels: Record<string, string> }) => {
      this.beforeCreate?.();
      this.beforeCreate = undefined;
      // Docker's answer for a name that exists: the existing volume, no error.
      if (!this.volumes.has(opts.Name)) {
        this.add(opts.Name, opts.Labels);
        this.created.push(opts.Name);
      }
      return {};
    },
  };
}

const host = { metadata: { name: 'n1' }, spec: { endpoint: 'tcp://n1:2375' } } as DockerHost;

function volume(spec: Partial<DockerVolumeSpec> = {}): DockerVolume {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerVolume',
    metadata: { namespace: 'team-a', name: 'data', uid: 'u-1', generation: 1 },
    spec: { hostName: 'n1', ...spec },
  };
}

function context(daemon: FakeDaemon, obj: DockerVolume, previous?: HostStatusEntry) {
  const events: string[] = [];
  const ctx: HostContext<DockerVolume> = {
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
    paused: false,
    logger: pino({ level: 'silent' }),
    events: { event: (_o, type, reason, _a, note) => events.push(`${type} ${reason}: ${note}`) },
    metrics: managedMetricsNoop,
    now: new Date(),
    signal: new AbortController().signal,
    clusterId: 'c-1',
  };
  return { ctx, events };
}

const tenantB = {
  'dockyard.io/uid': 'u-b',
  'dockyard.io/namespace': 'tenant-b',
  'dockyard.io/name': 'secret-vol',
  'dockyard.io/kind': 'DockerVolume',
};

describe('dockerVolumeKind.reconcileHost', () => {
  it('creates a missing volume with owner labels and the cluster id', async () => {
    const daemon = new FakeDaemon();
    const { ctx, events } = context(daemon, volume({ deletionPolicy: 'Delete' }));
    const out = await dockerVolumeKind.reconcileHost(ctx);
    expect(out.ready).toBe(true);
    expect(daemon.volumes.get('team-a.data')?.Labels).toMatchObject({
      'dockyard.io/uid': 'u-1',
      'dockyard.io/deletion-policy': 'Delete',
      'dockyard.io/cluster': 'c-1',
    });
    expect(out.entry.mountpoint).toBe('/var/lib/docker/volumes/team-a.data/_data');
    expect(events).toEqual(['Normal Created: created volume team-a.data on n1']);
  });

  it.each([
    ['another tenant', tenantB],
    ['not Dockyard at all', { app: 'x' }],
  ])(
    'a volume %s created between observe and create is refused: NameConflict, no Created',
    async (_what, labels) => {
      const daemon = new FakeDaemon();
      daemon.beforeCreate = () => daemon.add('team-a.data', labels);
      const { ctx, events } = context(daemon, volume());
      const out = await dockerVolumeKind.reconcileHost(ctx);
      expect(daemon.created).toEqual([]);
      expect(out.ready).toBe(false);
      expect(out.stalled?.reason).toBe('NameConflict');
      expect(out.entry.phase).toBe('NameConflict');
      // Neither its owner nor its mount point is shown to this tenant.
      expect(out.entry.mountpoint).toBeUndefined();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatch(/^Warning NameConflict/);
      expect([...events, out.stalled?.message].join('\n')).not.toMatch(/tenant-b|secret-vol|\/var\/lib/);
      expect(daemon.volumes.get('team-a.data')?.Labels).toEqual(labels);
    },
  );

  it('an existing foreign volume shows no mount point either', async () => {
    const daemon = new FakeDaemon();
    daemon.add('team-a.data', tenantB);
    const out = await dockerVolumeKind.reconcileHost(context(daemon, volume()).ctx);
    expect(out.stalled?.reason).toBe('NameConflict');
    expect(out.entry.mountpoint).toBeUndefined();
  });

  it.each([
    ['another namespace', 'tenant-b.data', true],
    ['its own namespace', 'team-a.other', false],
    ['no dot', 'legacy', false],
  ])('explicit volumeName in the form of %s: InvalidName %s', async (_what, volumeName, refused) => {
    const daemon = new FakeDaemon();
    const out = await dockerVolumeKind.reconcileHost(context(daemon, volume({ volumeName })).ctx);
    expect(out.stalled?.reason === 'InvalidName').toBe(refused);
    expect(daemon.created).toEqual(refused ? [] : [volumeName]);
  });
});

describe('an external DockerVolume (only looked at)', () => {
  const external = volume({ external: true, volumeName: 'shared-certs' });
  const privilegedHost = { ...host, spec: { ...host.spec, securityPolicy: 'privileged' } } as DockerHost;
  const on = (daemon: FakeDaemon, obj = external, h = privilegedHost) => {
    const c = context(daemon, obj);
    return { ...c, ctx: { ...c.ctx, host: h } };
  };

  it('is Ready when the volume is there, and nothing is created or labelled', async () => {
    const daemon = new FakeDaemon();
    daemon.add('shared-certs', { owner: 'admin' });
    const { ctx, events } = on(daemon);
    const out = await dockerVolumeKind.reconcileHost(ctx);
    expect(out.ready).toBe(true);
    expect(out.entry).toMatchObject({ phase: 'Ready', volumeName: 'shared-certs' });
    expect(daemon.created).toEqual([]);
    expect(daemon.volumes.get('shared-certs')?.Labels).toEqual({ owner: 'admin' });
    expect(events).toEqual([]);
  });

  it('is ExternalNotFound (retried, one Warning) when it is not, and creates nothing', async () => {
    const daemon = new FakeDaemon();
    const { ctx, events } = on(daemon);
    const out = await dockerVolumeKind.reconcileHost(ctx);
    expect(out.ready).toBe(false);
    expect(out.failure?.reason).toBe('ExternalNotFound');
    expect(out.stalled).toBeUndefined();
    expect(daemon.created).toEqual([]);
    expect(events).toEqual([
      expect.stringMatching(/^Warning ExternalNotFound: no Docker volume named shared-certs/),
    ]);
    const again = on(daemon);
    again.ctx.previous = out.entry;
    await dockerVolumeKind.reconcileHost(again.ctx);
    expect(again.events).toEqual([]);
  });

  it('never takes a volume Dockyard manages, and does not say whose it is', async () => {
    const daemon = new FakeDaemon();
    daemon.add('shared-certs', tenantB);
    const out = await dockerVolumeKind.reconcileHost(on(daemon).ctx);
    expect(out.stalled?.reason).toBe('NameConflict');
    expect(out.stalled?.message).not.toContain('tenant-b');
  });

  it('below privileged only a name the host lists', async () => {
    const daemon = new FakeDaemon();
    daemon.add('shared-certs', {});
    const baseline = (allowedExternalVolumes: string[]) =>
      ({ ...host, spec: { ...host.spec, securityPolicySettings: { allowedExternalVolumes } } }) as DockerHost;
    const refused = await dockerVolumeKind.reconcileHost(on(daemon, external, baseline(['other'])).ctx);
    expect(refused.stalled?.reason).toBe('PolicyViolation');
    expect(refused.stalled?.message).toContain('spec.external');
    const allowed = await dockerVolumeKind.reconcileHost(
      on(daemon, external, baseline(['shared-certs'])).ctx,
    );
    expect(allowed.ready).toBe(true);
  });

  it('deleting it never removes the volume, whatever deletionPolicy says', async () => {
    const daemon = new FakeDaemon();
    daemon.add('shared-certs', {});
    const obj = volume({ external: true, volumeName: 'shared-certs', deletionPolicy: 'Delete' });
    expect(await dockerVolumeKind.finalizeHost(on(daemon, obj).ctx, 'Delete')).toEqual({ done: true });
    expect(daemon.volumes.has('shared-certs')).toBe(true);
  });
});
