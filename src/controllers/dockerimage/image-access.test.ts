import { describe, expect, it } from 'vitest';
import { Reason } from '../../crds/reasons.js';
import { ImagePullError } from '../../docker/image-client.js';
import type { RegistryAuth } from '../../docker/registry-auth.js';
import {
  ANONYMOUS,
  credentialIdentity,
  decideAccess,
  fromRegistry,
  ImageAccessRecords,
  judgeVerification,
  type AccessDecision,
  type Verification,
} from './image-access.js';

const REF = 'reg:5000/private/app:1';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const KEY = Buffer.alloc(32, 7);
const alice: RegistryAuth = { serveraddress: 'reg:5000', username: 'alice', password: 'pw-a' };

describe('credentialIdentity', () => {
  const id = (auth: RegistryAuth | undefined, key = KEY) => credentialIdentity(auth, key);
  it.each<[string, RegistryAuth | undefined, boolean]>([
    ['the same credentials', { ...alice }, true],
    ['the same registry written with a scheme', { ...alice, serveraddress: 'http://reg:5000/v2/' }, true],
    ['another password', { ...alice, password: 'pw-b' }, false],
    ['another user', { ...alice, username: 'bob' }, false],
    ['another registry', { ...alice, serveraddress: 'reg:5001' }, false],
    ['no credentials', undefined, false],
  ])('%s: equal identity %s', (_name, other, equal) => {
    expect(id(other) === id(alice)).toBe(equal);
  });

  it('anonymous is its own identity, and another process key gives other values', () => {
    expect(id(undefined)).toBe(ANONYMOUS);
    expect(id(alice, Buffer.alloc(32, 8))).not.toBe(id(alice));
  });

  it('never contains the username or password', () => {
    const value = credentialIdentity(alice);
    expect(value).toMatch(/^cred:[0-9a-f]{32}$/);
    expect(value).not.toContain('alice');
    expect(value).not.toContain('pw-a');
  });
});

describe('fromRegistry', () => {
  it.each<[string, string[], boolean]>([
    ['pulled from the registry', [`reg:5000/private/app@${D1}`], true],
    ['built, loaded or imported: no repository digest', [], false],
    ['pulled from another repository and tagged here', [`reg:5000/other@${D1}`], false],
  ])('%s: %s', (_name, repoDigests, expected) => {
    expect(fromRegistry({ repoDigests }, REF)).toBe(expected);
  });
});

describe('decideAccess (the KEP-2535 decision before asking the registry)', () => {
  const A = 'cred:a';
  const B = 'cred:b';
  it.each<[string, boolean, string[] | undefined, string, AccessDecision]>([
    ['not from a registry: nothing to ask', false, undefined, B, 'preloaded'],
    ['same credentials as the pull: reuse', true, [A], A, 'granted'],
    ['other credentials: verify', true, [A], B, 'verify'],
    ['no credentials, pulled with some: verify', true, [A], ANONYMOUS, 'verify'],
    ['pulled or verified anonymously (public): reuse with any', true, [A, ANONYMOUS], B, 'granted'],
    ['public, and no credentials: reuse', true, [ANONYMOUS], ANONYMOUS, 'granted'],
    ['nothing recorded (restart, or pulled outside Dockyard): verify', true, undefined, A, 'verify'],
  ])('%s', (_name, registry, recorded, identity, expected) => {
    expect(decideAccess({ fromRegistry: registry, recorded: recorded && new Set(recorded), identity })).toBe(
      expected,
    );
  });
});

describe('judgeVerification', () => {
  const local = { repoDigests: [`reg:5000/private/app@${D1}`] };
  const err = (reason: ConstructorParameters<typeof ImagePullError>[0]) =>
    new ImagePullError(reason, `resolving ${REF}: ${reason}`);
  it.each<[string, { digest: string } | { error: ImagePullError }, Verification['outcome'], string?]>([
    ['the registry names the local digest: granted', { digest: D1 }, 'granted'],
    ['accepted, but another digest: not proven, pull', { digest: D2 }, 'moved'],
    ['refused: rejected', { error: err('Unauthorized') }, 'rejected', Reason.ImagePullCredentialsRejected],
    [
      'hidden as not found: rejected',
      { error: err('NotFound') },
      'rejected',
      Reason.ImagePullCredentialsRejected,
    ],
    ['unreachable: not verified', { error: err('RegistryUnreachable') }, 'unverified', 'RegistryUnreachable'],
    ['other failure: not verified', { error: err('PullError') }, 'unverified', 'PullError'],
  ])('%s', (_name, answer, outcome, reason) => {
    const v = judgeVerification(answer, local, REF);
    expect(v.outcome).toBe(outcome);
    if (reason) expect(v).toMatchObject({ reason });
  });
});

describe('ImageAccessRecords', () => {
  const image = { id: 'sha256:img', repoDigests: [`reg:5000/private/app@${D1}`], repoTags: [], sizeBytes: 1 };

  it('records per host and image', () => {
    const r = new ImageAccessRecords();
    r.record('h1', 'sha256:img', 'cred:a');
    expect(r.recorded('h1', 'sha256:img')).toEqual(new Set(['cred:a']));
    expect(r.recorded('h2', 'sha256:img')).toBeUndefined();
    expect(r.recorded('h1', 'sha256:other')).toBeUndefined();
  });

  it.each<[string, typeof image | undefined, string | undefined, boolean]>([
    ['the pulled digest is the local image', image, D1, true],
    ['another pull moved the tag since', image, D2, false],
    ['no digest reported', image, undefined, false],
    ['gone already', undefined, D1, false],
  ])('recordPull: %s → %s', (_name, local, digest, recorded) => {
    const r = new ImageAccessRecords();
    expect(r.recordPull('h1', local, REF, 'cred:a', digest)).toBe(recorded);
    expect(r.recorded('h1', 'sha256:img')?.has('cred:a') ?? false).toBe(recorded);
  });
});
