import { describe, expect, it } from 'vitest';
import { ALL_KINDS } from '../crds/index.js';
import type { ManagedKind, ManagedObject } from '../managed/types.js';
import { dockerContainerKind } from './dockercontainer/container-kind.js';
import { DOCKERHOST_CONTROLLER } from './dockerhost/dockerhost-controller.js';
import { dockerImageKind } from './dockerimage/image-kind.js';
import { dockerNetworkKind } from './dockernetwork/network-kind.js';
import { dockerVolumeKind } from './dockervolume/volume-kind.js';
import {
  CONTAINERS,
  controllerName,
  IMAGES,
  inApiOrder,
  MANAGED_KINDS,
  NETWORKS,
  resourceOf,
  UNMANAGED_KINDS,
  VOLUMES,
  type ManagedKindEntry,
} from './kinds.js';

describe('MANAGED_KINDS', () => {
  it('lists every kind of the API but the unmanaged ones (DockerHost, DockerService), once', () => {
    const listed = MANAGED_KINDS.map((k) => k.definition.kind);
    expect(new Set(listed).size).toBe(listed.length);
    expect(UNMANAGED_KINDS.filter((k) => listed.includes(k))).toEqual([]);
    expect([...UNMANAGED_KINDS, ...listed].sort()).toEqual(ALL_KINDS.map((d) => d.kind).sort());
  });

  it('keeps the controller names dashboards and alerts select on', () => {
    expect([DOCKERHOST_CONTROLLER, ...MANAGED_KINDS.map(controllerName)]).toEqual([
      'dockerhost',
      'dockervolume',
      'dockernetwork',
      'dockerimage',
      'dockerbuild',
      'dockercontainer',
    ]);
  });

  it('sweeps orphans of every kind whose Docker objects are one owner’s (not images)', () => {
    expect(MANAGED_KINDS.filter((k) => k.sweepsOrphans).map((k) => k.definition.kind)).toEqual([
      'DockerVolume',
      'DockerNetwork',
      'DockerContainer',
    ]);
  });

  it('orders entries as the API does, for the docs', () => {
    expect(inApiOrder(MANAGED_KINDS).map((k) => k.definition.kind)).toEqual(
      ALL_KINDS.filter((d) => !UNMANAGED_KINDS.includes(d.kind)).map((d) => d.kind),
    );
  });

  // The ManagedKinds name their kind and resource themselves; they must be the entry's.
  it.each<[string, ManagedKindEntry, () => ManagedKind<ManagedObject>]>([
    ['DockerVolume', VOLUMES as unknown as ManagedKindEntry, () => dockerVolumeKind as never],
    ['DockerNetwork', NETWORKS as unknown as ManagedKindEntry, () => dockerNetworkKind as never],
    [
      'DockerImage',
      IMAGES as unknown as ManagedKindEntry,
      () => dockerImageKind({ core: {} as never }) as never,
    ],
    [
      'DockerContainer',
      CONTAINERS as unknown as ManagedKindEntry,
      () => dockerContainerKind({} as never) as never,
    ],
  ])('%s: the entry and its ManagedKind agree', (kind, entry, managed) => {
    expect(MANAGED_KINDS).toContain(entry);
    expect(managed().kind).toBe(kind);
    expect(entry.definition.kind).toBe(kind);
    expect(managed().resource).toEqual(resourceOf(entry));
  });
});
