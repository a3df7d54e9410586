import { ApiException, type V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeLeaseClient, leaseSpecFromRecord, recordFromLease, type LeaseApi } from './lease-client.js';

describe('lease record conversion', () => {
  it.each([
    {
      name: 'MicroTime strings as read from the API',
      spec: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        renewTime: '2025-01-01T00:00:01.500000Z',
        leaseTransitions: 2,
      },
      want: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        renewTime: Date.UTC(2025, 0, 1, 0, 0, 1, 500),
        acquireTime: undefined,
        leaseTransitions: 2,
      },
    },
    {
      name: 'Date objects',
      spec: { holderIdentity: 'a', acquireTime: new Date(5) },
      want: {
        holderIdentity: 'a',
        leaseDurationSeconds: 0,
        acquireTime: 5,
        renewTime: undefined,
        leaseTransitions: 0,
      },
    },
    {
      name: 'empty spec',
      spec: undefined,
      want: {
        holderIdentity: '',
        leaseDurationSeconds: 0,
        acquireTime: undefined,
        renewTime: undefined,
        leaseTransitions: 0,
      },
    },
  ])('$name', ({ spec, want }) => {
    expect(recordFromLease({ spec } as V1Lease)).toEqual(want);
  });

  it('writes MicroTime with microsecond precision', () => {
    const spec = leaseSpecFromRecord({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      renewTime: 1500,
      leaseTransitions: 0,
    });
    expect(JSON.parse(JSON.stringify(spec))).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
      renewTime: '1970-01-01T00:00:01.500000Z',
    });
  });
});

describe('KubeLeaseClient', () => {
  function fake(read: () => Promise<V1Lease>) {
    const calls: { op: string; param: Record<string, unknown> }[] = [];
    const echo = (op: string) => (param: { body: V1Lease }) => {
      calls.push({ op, param: param as unknown as Record<string, unknown> });
      return Promise.resolve({ ...param.body, metadata: { ...param.body.metadata, resourceVersion: '8' } });
    };
    const api: LeaseApi = {
      readNamespacedLease: () => read(),
      createNamespacedLease: echo('create'),
      replaceNamespacedLease: echo('replace'),
    };
    return {
      client: new KubeLeaseClient(api, 'dockyard-system', 'dockyard-leader', 'dockyard-manager'),
      calls,
    };
  }

  it('reports a missing lease as undefined and passes other errors through', async () => {
    await expect(
      fake(() => Promise.reject(new ApiException(404, 'nf', {}, {}))).client.get(),
    ).resolves.toBeUndefined();
    await expect(
      fake(() => Promise.reject(new ApiException(500, 'x', {}, {}))).client.get(),
    ).rejects.toMatchObject({ code: 500 });
  });

  it('reads record and resourceVersion', async () => {
    const { client } = fake(() =>
      Promise.resolve({
        metadata: { resourceVersion: '3' },
        spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
      }),
    );
    expect(await client.get()).toMatchObject({ resourceVersion: '3', record: { holderIdentity: 'a' } });
  });

  it('creates and replaces with the field manager, replacing with the resourceVersion precondition', async () => {
    const { client, calls } = fake(() => Promise.reject(new Error('unused')));
    const record = { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 };
    expect((await client.create(record)).resourceVersion).toBe('8');
    await client.update(record, '7');
    expect(calls.map((c) => [c.op, c.param.fieldManager, c.param.namespace])).toEqual([
      ['create', 'dockyard-manager', 'dockyard-system'],
      ['replace', 'dockyard-manager', 'dockyard-system'],
    ]);
    expect(calls[1]?.param).toMatchObject({
      name: 'dockyard-leader',
      body: { metadata: { name: 'dockyard-leader', resourceVersion: '7' }, spec: { holderIdentity: 'a' } },
    });
    expect(client.describe()).toBe('dockyard-system/dockyard-leader');
  });
});
