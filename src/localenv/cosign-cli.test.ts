import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cosignEnv, cosignSignArgs, readPinnedCosignVersion } from './cosign-cli.js';
import { findModuleDir } from './go-module.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('readPinnedCosignVersion', () => {
  it.each([
    [
      'a single-line require',
      'module m\n\ngo 1.26.8\n\nrequire github.com/sigstore/cosign/v3 v3.1.3\n',
      'v3.1.3',
    ],
    [
      'a require block',
      'module m\n\nrequire (\n\tgithub.com/sigstore/sigstore v1.10.0\n\tgithub.com/sigstore/cosign/v3 v3.2.0\n)\n',
      'v3.2.0',
    ],
  ])('%s', (_name, goMod, version) => {
    expect(readPinnedCosignVersion(goMod)).toBe(version);
  });

  it('does not take another major version for it', () => {
    expect(() =>
      readPinnedCosignVersion('module m\n\nrequire github.com/sigstore/cosign/v2 v2.6.5\n'),
    ).toThrow('tools/cosign/go.mod does not require github.com/sigstore/cosign/v3');
  });

  // The version the signing recipe (flags, storage formats) was proven with; bumping it is a decision.
  it('reads v3.1.3 from the repository pin', () => {
    const goMod = readFileSync(join(findModuleDir(join('tools', 'cosign')), 'go.mod'), 'utf8');
    expect(readPinnedCosignVersion(goMod)).toBe('v3.1.3');
  });
});

describe('cosignSignArgs', () => {
  const base = { ref: `127.0.0.1:5000/test/app@${DIGEST}`, keyPath: '/k/cosign.key' };
  const offline = ['--use-signing-config=false', '--tlog-upload=false'];

  it.each([
    [
      'legacy, key only',
      { ...base, format: 'legacy' as const },
      ['sign', '--key', '/k/cosign.key', '--new-bundle-format=false', ...offline, '--yes', base.ref],
    ],
    [
      'bundle, key only',
      { ...base, format: 'bundle' as const },
      ['sign', '--key', '/k/cosign.key', '--new-bundle-format=true', ...offline, '--yes', base.ref],
    ],
    [
      'bundle with a leaf and its chain, recursive',
      {
        ...base,
        format: 'bundle' as const,
        certificatePath: '/pki/leaf.pem',
        certificateChainPath: '/pki/chain.pem',
        recursive: true,
      },
      [
        'sign',
        '--key',
        '/k/cosign.key',
        '--certificate',
        '/pki/leaf.pem',
        '--certificate-chain',
        '/pki/chain.pem',
        '--new-bundle-format=true',
        ...offline,
        '--recursive',
        '--yes',
        base.ref,
      ],
    ],
  ])('%s', (_name, inv, args) => {
    expect(cosignSignArgs(inv)).toEqual(args);
  });

  it.each([
    ['a tag', '127.0.0.1:5000/test/app:1'],
    ['another digest algorithm', `127.0.0.1:5000/test/app@sha512:${'ab'.repeat(64)}`],
    ['a short digest', '127.0.0.1:5000/test/app@sha256:abc'],
  ])('refuses %s', (_name, ref) => {
    expect(() => cosignSignArgs({ ...base, ref, format: 'legacy' })).toThrow('reference by digest');
  });

  it('refuses a chain without its leaf', () => {
    expect(() =>
      cosignSignArgs({ ...base, format: 'legacy', certificateChainPath: '/pki/chain.pem' }),
    ).toThrow('needs the leaf certificate');
  });
});

describe('cosignEnv', () => {
  it('keeps only PATH from the caller and points every lookup into the private home', () => {
    const env = cosignEnv({
      home: '/tmp/h',
      keyPassword: 'pw',
      inherit: {
        PATH: '/usr/bin',
        HOME: '/root',
        DOCKER_CONFIG: '/root/.docker',
        TUF_ROOT: '/root/.sigstore/root',
        SIGSTORE_ROOT_FILE: '/etc/fulcio.pem',
        COSIGN_EXPERIMENTAL: '1',
      },
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/tmp/h',
      TUF_ROOT: '/tmp/h/.sigstore/root',
      DOCKER_CONFIG: '/tmp/h/.docker',
      COSIGN_PASSWORD: 'pw',
    });
  });

  it('uses the given docker config folder for registry credentials', () => {
    expect(
      cosignEnv({ home: '/tmp/h', keyPassword: 'pw', dockerConfigDir: '/tmp/cfg', inherit: {} }),
    ).toEqual({
      HOME: '/tmp/h',
      TUF_ROOT: '/tmp/h/.sigstore/root',
      DOCKER_CONFIG: '/tmp/cfg',
      COSIGN_PASSWORD: 'pw',
    });
  });
});
