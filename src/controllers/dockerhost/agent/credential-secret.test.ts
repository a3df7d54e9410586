import { describe, expect, it } from 'vitest';
import {
  ANNOTATION,
  certificateAuthorized,
  checkToken,
  credentialSecretName,
  DATA_KEY,
  newCredentialSecret,
  parseCredentialSecret,
  withIssued,
  type CredentialState,
} from './credential-secret.js';

const NOW = new Date('2026-12-05T10:00:00Z');

function secret(overrides: { used?: string; certificates?: string } = {}) {
  const s = newCredentialSecret({
    namespace: 'dockyard-system',
    hostName: 'edge-1',
    hostUid: 'uid-1',
    generation: 2,
    caPem: 'CA PEM',
    advertise: 'dockyard.example:9443',
    serverName: 'dockyard.example',
    tokenTtlMs: 3_600_000,
    now: NOW,
  });
  const annotations = s.metadata!.annotations!;
  if (overrides.used) annotations[ANNOTATION.tokenUsedAt] = overrides.used;
  if (overrides.certificates !== undefined) annotations[ANNOTATION.certificates] = overrides.certificates;
  return s;
}

const state = (o?: Parameters<typeof secret>[0]) => parseCredentialSecret(secret(o))!;
const tokenOf = (s: CredentialState) => s.token;

describe('newCredentialSecret', () => {
  it('holds what the agent needs, owned by its DockerHost, with a fresh random token each time', () => {
    const a = secret();
    const b = secret();
    const read = (key: string) => Buffer.from(a.data![key]!, 'base64').toString();
    expect(a.metadata?.name).toBe('dockyard-agent-edge-1');
    expect(read(DATA_KEY.ca)).toBe('CA PEM');
    expect(read(DATA_KEY.endpoint)).toBe('dockyard.example:9443');
    expect(read(DATA_KEY.serverName)).toBe('dockyard.example');
    expect(read(DATA_KEY.hostName)).toBe('edge-1');
    expect(read(DATA_KEY.token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.data![DATA_KEY.token]).not.toBe(b.data![DATA_KEY.token]);
    expect(a.metadata?.ownerReferences).toEqual([
      { apiVersion: 'dockyard.io/v1alpha1', kind: 'DockerHost', name: 'edge-1', uid: 'uid-1' },
    ]);
    expect(parseCredentialSecret(a)).toMatchObject({
      hostName: 'edge-1',
      generation: 2,
      tokenExpiresAt: new Date('2026-12-05T11:00:00Z'),
      tokenUsedAt: undefined,
      certificates: [],
    });
  });

  it('shortens a name that would pass 253 characters, keeping it unique with a hash', () => {
    const long = 'h'.repeat(250);
    const name = credentialSecretName(long);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).not.toBe(credentialSecretName(`${'h'.repeat(249)}x`));
  });

  it('reads a Secret with no host, token or expiry as no credentials at all', () => {
    const s = secret();
    delete s.metadata!.annotations![ANNOTATION.hostName];
    expect(parseCredentialSecret(s)).toBeUndefined();
  });
});

describe('checkToken', () => {
  const s = state();
  it.each([
    ['the right token, in time', tokenOf(s), NOW, { ok: true }],
    ['another token', 'x'.repeat(43), NOW, { ok: false, reason: 'TokenInvalid' }],
    ['an empty token', '', NOW, { ok: false, reason: 'TokenInvalid' }],
    ['after the expiry', tokenOf(s), new Date('2026-12-05T11:00:01Z'), { ok: false, reason: 'TokenExpired' }],
  ])('%s', (_name, token, now, verdict) => {
    expect(checkToken(s, token, now)).toMatchObject(verdict);
  });

  it('refuses a token that was used, even the right one in time', () => {
    const used = { ...s, tokenUsedAt: new Date('2026-12-05T10:01:00Z') };
    expect(checkToken(used, tokenOf(s), NOW)).toMatchObject({ ok: false, reason: 'TokenUsed' });
  });
});

describe('certificateAuthorized', () => {
  const listed = state({
    certificates: JSON.stringify([{ serial: 'AB01', notAfter: '2026-12-06T10:00:00Z' }]),
  });
  const identity = { hostName: 'edge-1', serial: 'AB01', notAfter: new Date('2026-12-06T10:00:00Z') };
  it.each([
    ['a listed, unexpired certificate of its host', listed, identity, true],
    ['no Secret (deleted: revoked)', undefined, identity, false],
    ['a serial the Secret does not list (rotated)', state(), identity, false],
    ['a certificate of another host', listed, { ...identity, hostName: 'edge-2' }, false],
    ['an expired certificate', listed, { ...identity, notAfter: new Date('2026-12-05T09:00:00Z') }, false],
  ])('%s → %s', (_name, s, id, expected) => {
    expect(certificateAuthorized(s, id, NOW)).toBe(expected);
  });

  it('reads an unparsable certificate list as none', () => {
    expect(state({ certificates: '{not json' }).certificates).toEqual([]);
  });
});

describe('withIssued', () => {
  it('drops expired entries and keeps the newest eight', () => {
    const old = { serial: 'OLD', notAfter: '2026-12-05T09:00:00Z' };
    const live = Array.from({ length: 9 }, (_, i) => ({ serial: `S${i}`, notAfter: '2026-12-06T00:00:00Z' }));
    const next = withIssued([old, ...live], { serial: 'NEW', notAfter: '2026-12-07T00:00:00Z' }, NOW);
    expect(next.map((c) => c.serial)).toEqual(['S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'NEW']);
  });
});
