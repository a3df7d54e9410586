import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { enqueueForObject, enqueueForOwner, enqueueMapped, type OwnerOptions } from './enqueue.js';

const owned = (namespace: string | undefined, refs: Partial<V1OwnerReference>[]): KubernetesObject => ({
  metadata: {
    name: 'child',
    ...(namespace ? { namespace } : {}),
    ownerReferences: refs.map((r) => ({
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'X',
      name: 'x',
      uid: 'u',
      ...r,
    })),
  },
});

describe('enqueueForObject', () => {
  it.each([
    { obj: { metadata: { name: 'a', namespace: 'ns' } }, want: [{ namespace: 'ns', name: 'a' }] },
    { obj: { metadata: { name: 'a' } }, want: [{ name: 'a' }] },
    { obj: { metadata: {} }, want: [] },
  ])('$obj.metadata', ({ obj, want }) => {
    expect(enqueueForObject()(obj)).toEqual(want);
  });
});

describe('enqueueForOwner', () => {
  it.each<{ name: string; obj: KubernetesObject; kind: string; options?: OwnerOptions; want: unknown[] }>([
    {
      name: 'matching kind, same namespace',
      obj: owned('ns', [{ kind: 'DockerHost', name: 'h1' }]),
      kind: 'DockerHost',
      want: [{ namespace: 'ns', name: 'h1' }],
    },
    {
      name: 'other kinds ignored',
      obj: owned('ns', [
        { kind: 'Other', name: 'o' },
        { kind: 'DockerHost', name: 'h1' },
      ]),
      kind: 'DockerHost',
      want: [{ namespace: 'ns', name: 'h1' }],
    },
    {
      name: 'several owners of the kind',
      obj: owned('ns', [
        { kind: 'DockerHost', name: 'h1' },
        { kind: 'DockerHost', name: 'h2' },
      ]),
      kind: 'DockerHost',
      want: [
        { namespace: 'ns', name: 'h1' },
        { namespace: 'ns', name: 'h2' },
      ],
    },
    {
      name: 'onlyController skips non-controller refs',
      obj: owned('ns', [
        { kind: 'DockerHost', name: 'h1' },
        { kind: 'DockerHost', name: 'h2', controller: true },
      ]),
      kind: 'DockerHost',
      options: { onlyController: true },
      want: [{ namespace: 'ns', name: 'h2' }],
    },
    {
      name: 'group filter',
      obj: owned('ns', [
        { kind: 'DockerHost', name: 'h1', apiVersion: 'other.io/v1' },
        { kind: 'DockerHost', name: 'h2' },
      ]),
      kind: 'DockerHost',
      options: { group: 'dockyard.io' },
      want: [{ namespace: 'ns', name: 'h2' }],
    },
    {
      name: 'core group filter',
      obj: owned('ns', [{ kind: 'Secret', name: 's', apiVersion: 'v1' }]),
      kind: 'Secret',
      options: { group: '' },
      want: [{ namespace: 'ns', name: 's' }],
    },
    {
      name: 'cluster-scoped owner',
      obj: owned('ns', [{ kind: 'DockerHost', name: 'h1' }]),
      kind: 'DockerHost',
      options: { clusterScopedOwner: true },
      want: [{ name: 'h1' }],
    },
    { name: 'no owner references', obj: { metadata: { name: 'c' } }, kind: 'DockerHost', want: [] },
  ])('$name', ({ obj, kind, options, want }) => {
    expect(enqueueForOwner(kind, options)(obj)).toEqual(want);
  });
});

describe('enqueueMapped', () => {
  it('returns what the function maps to', () => {
    const fn = enqueueMapped((o: { hosts: string[] }) => o.hosts.map((name) => ({ namespace: 'ns', name })));
    expect(fn({ hosts: ['a', 'b'] })).toEqual([
      { namespace: 'ns', name: 'a' },
      { namespace: 'ns', name: 'b' },
    ]);
  });
});
