import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyImageSignature } from '../policy/image-signature.js';
import { readSigningKey, signPayload, simpleSigningPayload } from './image-signing.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

function p256Pem(format: 'pkcs8' | 'sec1'): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: format }).toString();
}

describe('readSigningKey', () => {
  it('reads PKCS#8 and SEC1 P-256 keys, with the public half hosts verify with', () => {
    for (const format of ['pkcs8', 'sec1'] as const) {
      const key = readSigningKey(p256Pem(format));
      expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    }
  });

  it('refuses other keys and encrypted ones, naming no key material', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => readSigningKey(rsa)).toThrow(/ECDSA P-256 key is needed, not rsa/);
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' })
      .toString();
    expect(() => readSigningKey(encrypted)).toThrow('not an unencrypted PEM private key');
  });
});

describe('a signature as signDigest makes it', () => {
  // The layer's content and annotation, checked by the verifier hosts use (the same one as for cosign's).
  it('verifies for the signed digest with the public key, and for no other digest or key', () => {
    const key = readSigningKey(p256Pem('pkcs8'));
    const payload = simpleSigningPayload('registry.example/team/app', DIGEST);
    const signature = signPayload(payload, key);
    const artifacts = [{ format: 'legacy' as const, source: 'test', payload, signature }];
    const signer = { name: 'k', kind: 'publicKey' as const, publicKeyPem: key.publicKeyPem };
    expect(verifyImageSignature({ digest: DIGEST, artifacts, signers: [signer] }).verified).toBe(true);
    const other = `sha256:${'cd'.repeat(32)}`;
    expect(verifyImageSignature({ digest: other, artifacts, signers: [signer] }).verified).toBe(false);
    const stranger = { ...signer, publicKeyPem: readSigningKey(p256Pem('pkcs8')).publicKeyPem };
    expect(verifyImageSignature({ digest: DIGEST, artifacts, signers: [stranger] }).verified).toBe(false);
  });
});
