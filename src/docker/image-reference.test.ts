import { describe, expect, it } from 'vitest';
import {
  canonicalName,
  digestMoved,
  familiarString,
  parseImageReference,
  pullTarget,
  repoDigestFor,
} from './image-reference.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each([
    ['busybox', { domain: 'docker.io', path: 'library/busybox' }],
    ['busybox:1.36', { domain: 'docker.io', path: 'library/busybox', tag: '1.36' }],
    ['user/app', { domain: 'docker.io', path: 'user/app' }],
    ['docker.io/library/busybox:1', { domain: 'docker.io', path: 'library/busybox', tag: '1' }],
    ['index.docker.io/user/app', { domain: 'docker.io', path: 'user/app' }],
    ['registry-1.docker.io/busybox', { domain: 'docker.io', path: 'library/busybox' }],
    [
      '127.0.0.1:5000/dockyard/busybox:1.36',
      { domain: '127.0.0.1:5000', path: 'dockyard/busybox', tag: '1.36' },
    ],
    ['localhost/app', { domain: 'localhost', path: 'app' }],
    ['localhost:5000/app', { domain: 'localhost:5000', path: 'app' }],
    ['Registry.Example.com/team/app:v2', { domain: 'registry.example.com', path: 'team/app', tag: 'v2' }],
    [`ghcr.io/o/app@${D1}`, { domain: 'ghcr.io', path: 'o/app', digest: D1 }],
    [`ghcr.io/o/app:v1@${D1}`, { domain: 'ghcr.io', path: 'o/app', tag: 'v1', digest: D1 }],
  ])('%s', (ref, expected) => {
    expect(parseImageReference(ref)).toEqual(expected);
  });

  it('refuses an empty reference', () => {
    expect(() => parseImageReference(' ')).toThrow(/empty/);
  });
});

describe('familiarString (the name in Docker events and docker images)', () => {
  it.each([
    ['busybox', 'busybox:latest'],
    ['docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['index.docker.io/user/app:2', 'user/app:2'],
    ['127.0.0.1:5000/dockyard/busybox:1.36', '127.0.0.1:5000/dockyard/busybox:1.36'],
    ['127.0.0.1:5000/dockyard/busybox', '127.0.0.1:5000/dockyard/busybox:latest'],
    [`busybox:1.36@${D1}`, `busybox@${D1}`],
  ])('%s → %s', (ref, expected) => {
    expect(familiarString(ref)).toBe(expected);
  });
});

describe('pullTarget', () => {
  it.each([
    ['busybox', { fromImage: 'busybox', tag: 'latest' }],
    ['reg:5000/a/b:1', { fromImage: 'reg:5000/a/b', tag: '1' }],
    [`reg:5000/a/b:1@${D1}`, { fromImage: 'reg:5000/a/b', tag: D1 }],
  ])('%s', (ref, expected) => {
    expect(pullTarget(ref)).toEqual(expected);
  });
});

describe('digest comparison', () => {
  const local = [`127.0.0.1:5000/dockyard/busybox@${D1}`, `mirror.example/dockyard/busybox@${D2}`];

  it('finds the repository digest of the reference’s repository', () => {
    expect(repoDigestFor(local, '127.0.0.1:5000/dockyard/busybox:1.36')).toBe(local[0]);
    expect(repoDigestFor(local, 'mirror.example/dockyard/busybox:1.36')).toBe(local[1]);
    expect(repoDigestFor(local, 'busybox:1.36')).toBeUndefined();
  });

  it('matches Docker Hub names in any spelling', () => {
    const hub = [`busybox@${D1}`];
    expect(repoDigestFor(hub, 'docker.io/library/busybox:1.36')).toBe(hub[0]);
    expect(canonicalName(parseImageReference('busybox'))).toBe('docker.io/library/busybox');
  });

  it('prefers the digest the tag last resolved to', () => {
    const both = [`reg:5000/app@${D1}`, `reg:5000/app@${D2}`];
    expect(repoDigestFor(both, 'reg:5000/app:1', D2)).toBe(both[1]);
    expect(repoDigestFor(both, 'reg:5000/app:1', 'sha256:other')).toBe(both[0]);
  });

  it.each([
    ['same digest: not moved', [`reg:5000/app@${D1}`], D1, false],
    ['another digest: moved', [`reg:5000/app@${D1}`], D2, true],
    ['the digest belongs to another repository: moved', [`other:5000/app@${D2}`], D2, true],
    ['built or imported locally (no repo digests): moved', [], D1, true],
    ['one of several digests matches: not moved', [`reg:5000/app@${D2}`, `reg:5000/app@${D1}`], D1, false],
  ])('%s', (_name, repoDigests, remote, moved) => {
    expect(digestMoved(repoDigests, 'reg:5000/app:1', remote)).toBe(moved);
  });
});
