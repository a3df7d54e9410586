import { describe, expect, it } from 'vitest';
import type { ReleasedOwner } from '../crds/dockerhost.js';
import type { HostStatusApi } from './released-owners.js';
import { fakeKind, fakeObject, fakeWorld, readyHost } from './test-support.js';
import type { DeletionPolicy } from './types.js';

// A release under deletionPolicy Orphan is recorded in the DockerHost's
// status.releasedOwners before the finalizer goes, with a resourceVersion
// precondition and a retry on 409; a failed record holds the finalizer.
// Driven through a fake kind and fake API clients (pure flow).

function harness(opts: { policy: DeletionPolicy; conflicts?: number; failWith?: number }) {
  const log: string[] = [];
  const host = readyHost({ resourceVersion: '1', status: { releasedOwners: [] as ReleasedOwner[] } });
  let conflicts = opts.conflicts ?? 0;
  const releases = {
    listClusterCustomObject: () => {
      log.push(`read rv=${host.metadata.resourceVersion}`);
      return Promise.resolve({ items: [structuredClone(host)] });
    },
    patchClusterCustomObjectStatus: (p: {
      body: { metadata: { resourceVersion: string }; status: { releasedOwners: ReleasedOwner[] } };
    }) => {
      if (opts.failWith) return Promise.reject(Object.assign(new Error('boom'), { code: opts.failWith }));
      if (conflicts > 0) {
        conflicts--;
        // Someone else (the DockerHost controller) wrote meanwhile.
        host.metadata.resourceVersion = String(Number(host.metadata.resourceVersion) + 1);
      }
      if (p.body.metadata.resourceVersion !== host.metadata.resourceVersion) {
        log.push('patch 409');
        return Promise.reject(Object.assign(new Error('conflict'), { code: 409 }));
      }
      host.status = { ...host.status, releasedOwners: p.body.status.releasedOwners };
      log.push(`patch releasedOwners=${p.body.status.releasedOwners.map((e) => e.uid).join(',')}`);
      return Promise.resolve({});
    },
  } as unknown as HostStatusApi;
  const kind = fakeKind({
    kind: 'DockerVolume',
    resource: { group: 'dockyard.io', version: 'v1alpha1', plural: 'dockervolumes' },
    dockerEventType: 'volume',
    defaultDeletionPolicy: 'Orphan',
    reconcileHost: () => Promise.reject(new Error('not called')),
    finalizeHost: (_ctx, policy) => {
      log.push(`finalizeHost ${policy}`);
      return Promise.resolve({ done: true });
    },
  });
  const obj = fakeObject({
    kind: 'DockerVolume',
    metadata: {
      name: 'data',
      uid: 'u-data',
      resourceVersion: '7',
      deletionTimestamp: new Date('2026-12-01T00:00:00Z'),
    },
    spec: { deletionPolicy: opts.policy },
    status: { hosts: [{ name: 'h1', phase: 'Ready' }] },
  });
  const world = fakeWorld({
    kind,
    object: () => obj,
    name: 'data',
    host,
    onStatus: () => log.push('object status'),
    onFinalizer: () => log.push('finalizer removed'),
    now: () => new Date('2026-12-01T00:00:05Z'),
    releases,
  });
  return { ...world, log, host };
}

describe('ManagedReconciler release records', () => {
  it('Orphan: records the release on the host, then removes the finalizer', async () => {
    const h = harness({ policy: 'Orphan' });
    await h.reconcile();
    expect(h.log).toEqual([
      'finalizeHost Orphan',
      'read rv=1',
      'patch releasedOwners=u-data',
      'finalizer removed',
    ]);
    expect(h.host.status?.releasedOwners).toEqual([
      {
        uid: 'u-data',
        kind: 'DockerVolume',
        namespace: 'ns',
        name: 'data',
        releasedAt: '2026-12-01T00:00:05Z',
      },
    ]);
  });

  it('a write lost to a concurrent host status write is retried on a fresh read', async () => {
    const h = harness({ policy: 'Orphan', conflicts: 1 });
    await h.reconcile();
    expect(h.log).toEqual([
      'finalizeHost Orphan',
      'read rv=1',
      'patch 409',
      'read rv=2',
      'patch releasedOwners=u-data',
      'finalizer removed',
    ]);
  });

  it('a record that cannot be written holds the finalizer', async () => {
    const h = harness({ policy: 'Orphan', failWith: 500 });
    const result = await h.reconcile();
    expect(h.log).not.toContain('finalizer removed');
    expect(h.log).toContain('object status');
    expect(result.requeueAfterMs).toBeGreaterThan(0);
  });

  it('Delete records nothing', async () => {
    const h = harness({ policy: 'Delete' });
    await h.reconcile();
    expect(h.log).toEqual(['finalizeHost Delete', 'finalizer removed']);
  });
});
