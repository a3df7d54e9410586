import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import { dependencyFactsChanged } from './register.js';

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
