import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ObservedContainer } from '../container-client.js';
import { inheritedVolumes } from './inherited-volumes.js';
import { ANON, ANON2, observed, spec } from './test-support.js';

describe('inheritedVolumes', () => {
  type Mounts = ObservedContainer['mounts'];
  const vol = (name: string, destination: string, readOnly = false) => ({
    type: 'volume',
    name,
    destination,
    readOnly,
  });
  it.each<[string, Partial<DockerContainerSpec>, Mounts, string[], unknown]>([
    ['no mounts: nothing', {}, [], ['/var/lib/db'], []],
    [
      "the image VOLUME's anonymous volume is carried over",
      {},
      [vol(ANON, '/var/lib/db')],
      ['/var/lib/db'],
      [{ name: ANON, target: '/var/lib/db', readOnly: false }],
    ],
    [
      'read-only stays read-only',
      {},
      [vol(ANON, '/var/lib/db', true)],
      ['/var/lib/db'],
      [{ name: ANON, target: '/var/lib/db', readOnly: true }],
    ],
    [
      'a DockerVolume the spec no longer mounts is not (named, not anonymous)',
      {},
      [vol('team-a.data', '/var/lib/db')],
      ['/var/lib/db'],
      [],
    ],
    [
      'a path the spec now mounts a DockerVolume at belongs to the spec',
      { mounts: [{ type: 'volume', volume: 'data', target: '/var/lib/db' }] },
      [vol(ANON, '/var/lib/db')],
      ['/var/lib/db'],
      [],
    ],
    [
      'a path the spec now mounts a tmpfs at belongs to the spec',
      { mounts: [{ type: 'tmpfs', target: '/var/lib/db' }] },
      [vol(ANON, '/var/lib/db')],
      ['/var/lib/db'],
      [],
    ],
    ['a volume at a path nobody declared is not anonymous', {}, [vol(ANON, '/other')], ['/var/lib/db'], []],
    [
      'binds and tmpfs are never carried over',
      {},
      [
        { type: 'bind', destination: '/var/lib/db', readOnly: false },
        { type: 'tmpfs', destination: '/cache', readOnly: false },
      ],
      ['/var/lib/db', '/cache'],
      [],
    ],
    [
      'several, sorted by target',
      {},
      [vol(ANON2, '/z'), vol(ANON, '/a')],
      ['/a', '/z'],
      [
        { name: ANON, target: '/a', readOnly: false },
        { name: ANON2, target: '/z', readOnly: false },
      ],
    ],
  ])('%s', (_name, patch, mounts, declaredVolumes, expected) => {
    expect(inheritedVolumes(spec(patch), observed({ mounts, declaredVolumes }))).toEqual(expected);
  });
});
