import { describe, expect, it } from 'vitest';
import type { DockerHostStatus } from '../../crds/dockerhost.js';
import type { ManagedObject } from '../../managed/types.js';
import { mayReleaseHost, withDrainStatus } from './host-drain.js';
import { countPlaced, describePlaced, placedHostsOf } from './placed-objects.js';

const now = new Date('2026-12-03T10:00:00Z');
const obj = (ns: string, name: string, hosts: string[]): ManagedObject => ({
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerContainer',
  metadata: { name, namespace: ns },
  spec: {},
  status: { hosts: hosts.map((h) => ({ name: h, phase: 'Ready' })) },
});
const none = countPlaced([]);
const some = countPlaced([
  { kind: 'DockerContainer', objects: [obj('team-a', 'web', ['n1'])] },
  { kind: 'DockerNetwork', objects: [] },
  { kind: 'DockerVolume', objects: [obj('team-b', 'cache', ['n1']), obj('team-a', 'data', ['n1', 'n2'])] },
]);
const base: DockerHostStatus = {
  conditions: [{ type: 'Ready', status: 'True', reason: 'Connected', message: 'ok', lastTransitionTime: '' }],
  phase: 'Ready',
};

describe('placed objects', () => {
  it('indexes an object under every host in status.hosts, once', () => {
    expect(placedHostsOf(obj('a', 'x', ['n1', 'n2', 'n1']))).toEqual(['n1', 'n2']);
    expect(placedHostsOf({ ...obj('a', 'x', []), status: undefined })).toEqual([]);
  });
  it('counts per kind, names sorted, skips empty kinds', () => {
    expect(some).toEqual({
      total: 3,
      byKind: [
        { kind: 'DockerContainer', objects: ['team-a/web'] },
        { kind: 'DockerVolume', objects: ['team-a/data', 'team-b/cache'] },
      ],
    });
    expect(describePlaced(some)).toBe(
      'DockerContainer 1 (team-a/web), DockerVolume 2 (team-a/data, team-b/cache)',
    );
    expect(describePlaced(some, 1)).toBe(
      'DockerContainer 1 (team-a/web), DockerVolume 2 (team-a/data, … 1 more)',
    );
  });
});

describe('withDrainStatus', () => {
  const conds = (s: DockerHostStatus) =>
    Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

  it.each([
    ['ordinary host: nothing added', false, false, some, { Ready: 'True/Connected' }, undefined],
    ['drain in progress', true, false, some, { Ready: 'True/Connected', Drained: 'False/Draining' }, 3],
    ['drain done', true, false, none, { Ready: 'True/Connected', Drained: 'True/Drained' }, 0],
    [
      'deleted with objects placed: held',
      false,
      true,
      some,
      { Ready: 'True/Connected', Terminating: 'True/ObjectsStillPlaced' },
      3,
    ],
    [
      'deleted and draining',
      true,
      true,
      some,
      { Ready: 'True/Connected', Drained: 'False/Draining', Terminating: 'True/ObjectsStillPlaced' },
      3,
    ],
  ])('%s', (_name, drain, deleting, placed, expected, count) => {
    const s = withDrainStatus(base, { drain, deleting, placed, generation: 4, now });
    expect(conds(s)).toEqual(expected);
    expect(s.placedObjects).toBe(count);
  });

  it('names the objects per kind and says how to let the host go', () => {
    const s = withDrainStatus(base, { drain: false, deleting: true, placed: some, generation: 4, now });
    const t = s.conditions?.find((c) => c.type === 'Terminating');
    expect(t?.message).toContain('deletion waits for 3 Dockyard object(s) placed on this host');
    expect(t?.message).toContain('DockerVolume 2 (team-a/data, team-b/cache)');
    expect(t?.message).toContain('spec.drain: true');
    expect(t?.observedGeneration).toBe(4);
  });

  it('drops the conditions and the count once drain is unset', () => {
    const draining = withDrainStatus(base, {
      drain: true,
      deleting: false,
      placed: some,
      generation: 1,
      now,
    });
    const back = withDrainStatus(draining, {
      drain: false,
      deleting: false,
      placed: some,
      generation: 2,
      now,
    });
    expect(conds(back)).toEqual({ Ready: 'True/Connected' });
    expect(back).not.toHaveProperty('placedObjects');
  });

  it('keeps fields it does not own (e.g. releasedOwners written by others)', () => {
    const withOthers = { ...base, releasedOwners: [{ uid: 'x' }] } as DockerHostStatus;
    const s = withDrainStatus(withOthers, { drain: true, deleting: false, placed: none, generation: 1, now });
    expect((s as Record<string, unknown>).releasedOwners).toEqual([{ uid: 'x' }]);
  });
});

describe('mayReleaseHost', () => {
  it.each([
    [false, none, false],
    [false, some, false],
    [true, some, false],
    [true, none, true],
  ])('deleting=%s with %o placed → %s', (deleting, placed, expected) => {
    expect(mayReleaseHost(deleting, placed)).toBe(expected);
  });
});
