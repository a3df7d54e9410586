import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  dockerName,
  explicitNameProblem,
  ownerLabels,
  ownership,
  specHash,
} from './ownership.js';

describe('ownership', () => {
  const owner = { kind: 'DockerVolume', namespace: 'team', name: 'data', uid: 'u-1' };
  it.each([
    ['labels of this owner', ownerLabels(owner, { specHash: 'h', deletionPolicy: 'Orphan' }), 'ours'],
    [
      'another owner',
      ownerLabels({ ...owner, uid: 'u-2' }, { specHash: 'h', deletionPolicy: 'Orphan' }),
      'otherOwner',
    ],
    ['no labels', undefined, 'foreign'],
    ['unrelated labels', { app: 'x' }, 'foreign'],
  ] as const)('%s → %s', (_name, labels, expected) => {
    expect(ownership(labels, owner)).toBe(expected);
  });
  it('labels name the owner, the spec hash and the policy', () => {
    expect(ownerLabels(owner, { specHash: 'abc', deletionPolicy: 'Delete' })).toEqual({
      'dockyard.io/uid': 'u-1',
      'dockyard.io/namespace': 'team',
      'dockyard.io/name': 'data',
      'dockyard.io/kind': 'DockerVolume',
      'dockyard.io/spec-hash': 'abc',
      'dockyard.io/deletion-policy': 'Delete',
    });
  });
  it('leaves the spec hash out when none is given (a container gets its recreate hash at create)', () => {
    const labels = ownerLabels(owner, { deletionPolicy: 'Delete' });
    expect(labels).not.toHaveProperty(['dockyard.io/spec-hash']);
    expect(ownership(labels, owner)).toBe('ours');
  });
});

describe('ownerLabels cluster id', () => {
  const owner = { kind: 'DockerVolume', namespace: 'team', name: 'data', uid: 'u-1' };
  it('labels the cluster id when known, and ownership stays uid-based', () => {
    const labels = ownerLabels(owner, { specHash: 'abc', deletionPolicy: 'Delete', clusterId: 'c-1' });
    expect(labels['dockyard.io/cluster']).toBe('c-1');
    expect(ownership(labels, owner)).toBe('ours');
    expect(
      ownership(ownerLabels(owner, { specHash: 'abc', deletionPolicy: 'Delete', clusterId: 'c-2' }), owner),
    ).toBe('ours');
  });
});

describe('explicitNameProblem', () => {
  it.each<[string, string | undefined, boolean]>([
    ['no explicit name (the default)', undefined, false],
    ['a name without a dot', 'legacy-web', false],
    ['starts with its own namespace', 'team.web', false],
    ["another namespace's default form", 'other.web', true],
    ['another namespace, name with dots', 'kube-system.a.b', true],
    ['a prefix no namespace can have (upper case)', 'Legacy.web', false],
    ['a prefix no namespace can have (underscore)', 'my_app.v2', false],
    ['a DNS-label prefix that is not the namespace', 'web.v2', true],
  ])('%s: %s', (_what, explicit, refused) => {
    const problem = explicitNameProblem({ namespace: 'team', explicit, field: 'spec.volumeName' });
    expect(problem !== undefined).toBe(refused);
    if (problem) {
      expect(problem).toContain('spec.volumeName');
      expect(problem).toContain(explicit);
    }
  });
});

describe('dockerName', () => {
  it('is namespace.name unless the spec names it', () => {
    expect(dockerName('team', 'web')).toBe('team.web');
    expect(dockerName('team', 'web', 'legacy-web')).toBe('legacy-web');
  });
});

describe('specHash', () => {
  it('ignores key order and undefined values', () => {
    expect(specHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      specHash({ b: { d: 'x', c: [1, 2] }, a: 1, e: undefined }),
    );
  });
  it('changes with any value, including array order', () => {
    expect(specHash({ a: [1, 2] })).not.toBe(specHash({ a: [2, 1] }));
    expect(specHash({ a: 1 })).not.toBe(specHash({ a: 2 }));
  });
  it('is canonical JSON underneath', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
  });
});
