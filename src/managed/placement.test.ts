import { describe, expect, it } from 'vitest';
import type { DockerHost, DockerHostSpec } from '../crds/dockerhost.js';
import { resolvePlacement } from './placement.js';

function host(
  name: string,
  labels: Record<string, string> = {},
  spec: Partial<DockerHostSpec> = {},
): DockerHost {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: { name, labels },
    spec: { endpoint: 'unix:///s', ...spec },
  };
}

const hosts = [
  host('a', { site: 'lab' }),
  host('b', { site: 'lab' }, { unschedulable: true }),
  host(
    'c',
    { site: 'dc' },
    { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { tier: 'gold' } } } },
  ),
  host('d', { site: 'lab' }),
];

describe('resolvePlacement', () => {
  const names = (p: ReturnType<typeof resolvePlacement>) => ({
    placed: p.placed.map((h) => h.metadata.name),
    refused: p.refused.map((r) => `${r.host}:${r.reason}`),
    removed: p.removed,
  });

  it.each([
    ['hostName', { hostName: 'a' }, {}, [], { placed: ['a'], refused: [], removed: [] }],
    [
      'missing hostName',
      { hostName: 'zz' },
      {},
      [],
      { placed: [], refused: ['zz:HostNotFound'], removed: [] },
    ],
    [
      'selector skips unschedulable new host',
      { hostSelector: { matchLabels: { site: 'lab' } } },
      {},
      [],
      { placed: ['a', 'd'], refused: ['b:HostUnschedulable'], removed: [] },
    ],
    [
      'unschedulable host keeps what it has',
      { hostSelector: { matchLabels: { site: 'lab' } } },
      {},
      ['b'],
      { placed: ['a', 'b', 'd'], refused: [], removed: [] },
    ],
    [
      'namespace not admitted',
      { hostName: 'c' },
      { tier: 'bronze' },
      [],
      { placed: [], refused: ['c:NamespaceNotAllowed'], removed: [] },
    ],
    [
      'namespace admitted',
      { hostName: 'c' },
      { tier: 'gold' },
      [],
      { placed: ['c'], refused: [], removed: [] },
    ],
    [
      'host stopped matching',
      { hostSelector: { matchLabels: { site: 'dc' } } },
      { tier: 'gold' },
      ['a', 'c'],
      { placed: ['c'], refused: [], removed: ['a'] },
    ],
    [
      'deleted host is not cleaned up',
      { hostName: 'a' },
      {},
      ['a', 'gone'],
      { placed: ['a'], refused: [], removed: [] },
    ],
    [
      'empty selector matches all admitted',
      { hostSelector: {} },
      {},
      [],
      { placed: ['a', 'd'], refused: ['b:HostUnschedulable', 'c:NamespaceNotAllowed'], removed: [] },
    ],
  ])('%s', (_name, spec, nsLabels, before, expected) => {
    expect(names(resolvePlacement(spec, 'team', nsLabels, hosts, before))).toEqual(expected);
  });
});
