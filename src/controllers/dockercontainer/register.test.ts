import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import { awaitedContainers, dependencyFactsChanged, referencedObjects } from './register.js';

// Which updates of a DockerContainer requeue the containers that dependsOn it.

const dctr = (hosts: Array<Record<string, unknown>>, dependsOn: string[] = [], message = '') =>
  ({
    metadata: { name: 'migrate', namespace: 'team' },
    spec: { image: 'x', dependsOn: dependsOn.map((name) => ({ name })) },
    status: { hosts: hosts.map((h) => ({ name: 'n1', message, ...h })) },
  }) as unknown as DockerContainer;

describe('dependencyFactsChanged', () => {
  it.each<[string, DockerContainer, DockerContainer, boolean]>([
    [
      'its phase on a host changed (Running → Completed)',
      dctr([{ phase: 'Running', state: 'running' }]),
      dctr([{ phase: 'Completed', state: 'exited', exitCode: 0 }]),
      true,
    ],
    ['it was placed on a host', dctr([]), dctr([{ phase: 'Pending' }]), true],
    [
      'its dependsOn changed (a cycle made or broken)',
      dctr([{ phase: 'Pending' }], ['a']),
      dctr([{ phase: 'Pending' }], []),
      true,
    ],
    [
      'only its message or counters changed',
      dctr([{ phase: 'Running', state: 'running' }], [], 'one'),
      dctr([{ phase: 'Running', state: 'running' }], [], 'two'),
      false,
    ],
  ])('%s → %s', (_name, a, b, want) => {
    expect(dependencyFactsChanged(a, b)).toBe(want);
  });
});

// The index values the container cache keeps so a dependency's change finds
// the containers it concerns without scanning them all.
describe('dependency indexes', () => {
  const container = (spec: Record<string, unknown>) =>
    ({
      metadata: { name: 'app', namespace: 'team' },
      spec: { image: 'x', ...spec },
    }) as unknown as DockerContainer;

  it.each<[string, Record<string, unknown>, string[]]>([
    ['nothing referenced', {}, []],
    [
      'named volumes only (a bind mount names no DockerVolume)',
      {
        mounts: [
          { type: 'volume', volume: 'data', target: '/d' },
          { type: 'bind', source: '/x', target: '/x' },
          { type: 'volume', volume: 'data', target: '/e' },
        ],
      },
      ['DockerVolume/team/data'],
    ],
    [
      'networks and the image',
      { networks: [{ name: 'front' }], imageRef: { name: 'app-image' } },
      ['DockerNetwork/team/front', 'DockerImage/team/app-image'],
    ],
  ])('referencedObjects: %s', (_name, spec, expected) => {
    expect(referencedObjects(container(spec))).toEqual(expected);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['no dependsOn', {}, []],
    ['dependsOn names', { dependsOn: [{ name: 'db' }, { name: 'migrate' }] }, ['/team/db', '/team/migrate']],
    [
      'the network container too, once',
      { dependsOn: [{ name: 'vpn' }], security: { networkMode: 'container', networkContainer: 'vpn' } },
      ['/team/vpn'],
    ],
  ])('awaitedContainers: %s', (_name, spec, expected) => {
    expect(awaitedContainers(container(spec))).toEqual(expected);
  });
});
