import { describe, expect, it } from 'vitest';
import type { ImagePolicy } from '../crds/image-policy.js';
import { decideImage, globMatches, pinsDigest } from './image-policy.js';

describe('globMatches', () => {
  it.each([
    ['docker.io/library/busybox', 'docker.io/library/busybox', true],
    ['docker.io/library/*', 'docker.io/library/busybox', true],
    ['docker.io/library/*', 'docker.io/library/team/busybox', false],
    ['ghcr.io/acme/**', 'ghcr.io/acme/a/b/c', true],
    ['ghcr.io/acme/**', 'ghcr.io/acme', false],
    ['ghcr.io/acme/**', 'ghcr.io/acmex/a', false],
    ['127.0.0.1:*/signed/*', '127.0.0.1:5000/signed/app', true],
    ['127.0.0.1:*/signed/*', '127.0.0.1:5000/unsigned/app', false],
    ['registry.example.com/app-*', 'registry.example.com/app-web', true],
    ['registry.example.com/app-*', 'registryXexample.com/app-web', false],
    ['**', 'quay.io/x/y', true],
  ])('%s ~ %s: %s', (glob, repo, expected) => {
    expect(globMatches(glob, repo)).toBe(expected);
  });
});

const policy: ImagePolicy = {
  rules: [
    { name: 'no-latest-team', images: ['reg.example.com/legacy/*'], action: 'Deny' },
    {
      name: 'signed',
      images: ['reg.example.com/**'],
      action: 'RequireSignature',
      signers: [{ name: 'release', publicKey: { namespace: 'ops', name: 'keys', key: 'cosign.pub' } }],
    },
    { name: 'hub', images: ['docker.io/library/*'], action: 'Allow', requireDigest: true },
    { name: 'mirror', images: ['mirror.example.com/**'], action: 'Allow' },
  ],
};
const decide = (repository: string, p: ImagePolicy | undefined = policy) =>
  decideImage({ policy: p, repository, image: repository, host: 'h1' });

describe('decideImage', () => {
  it('allows everything by tag without a policy', () => {
    expect(decideImage({ policy: undefined, repository: 'quay.io/x/y', image: 'x', host: 'h1' })).toEqual({
      action: 'Allow',
      rule: undefined,
      requireDigest: false,
    });
  });

  it('takes the first matching rule', () => {
    const denied = decide('reg.example.com/legacy/app');
    expect(denied).toMatchObject({ action: 'Deny', rule: 'no-latest-team' });
    expect(denied.action === 'Deny' && denied.message).toContain('rule no-latest-team');
    expect(decide('reg.example.com/team/app')).toMatchObject({ action: 'RequireSignature', rule: 'signed' });
    expect(decide('docker.io/library/busybox')).toEqual({
      action: 'Allow',
      rule: 'hub',
      requireDigest: true,
    });
    expect(decide('mirror.example.com/a/b')).toEqual({
      action: 'Allow',
      rule: 'mirror',
      requireDigest: false,
    });
  });

  it('denies what no rule matches unless unmatched is Allow', () => {
    const denied = decide('quay.io/x/y');
    expect(denied).toMatchObject({ action: 'Deny', rule: undefined });
    expect(denied.action === 'Deny' && denied.message).toContain('matches no rule of host h1');
    expect(decide('quay.io/x/y', { ...policy, unmatched: 'Allow' })).toMatchObject({ action: 'Allow' });
  });

  it('pins digests for RequireSignature and requireDigest rules only', () => {
    expect(pinsDigest(decide('reg.example.com/team/app'))).toBe(true);
    expect(pinsDigest(decide('docker.io/library/busybox'))).toBe(true);
    expect(pinsDigest(decide('mirror.example.com/a'))).toBe(false);
    expect(pinsDigest(decide('reg.example.com/legacy/app'))).toBe(false);
  });
});
