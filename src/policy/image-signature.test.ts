// Signatures made here with Node's crypto in the two shapes cosign writes
// (the integration test signs with the real cosign CLI): checks that the
// verifier accepts the right signer and refuses everything else.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COSIGN_SIGN_PREDICATE,
  SIGSTORE_BUNDLE_ARTIFACT_TYPE,
  subjectPattern,
  verifyImageSignature,
  type SignatureArtifact,
  type SignerMaterial,
} from './image-signature.js';

const DIGEST = `sha256:${createHash('sha256').update('manifest').digest('hex')}`;
const OTHER = `sha256:${createHash('sha256').update('other').digest('hex')}`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITY = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';

function ecKeys() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

function legacy(privateKey: KeyObject, digest: string, certificate?: string): SignatureArtifact {
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': 'reg/app' },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  const signature = sign('sha256', payload, privateKey).toString('base64');
  return { format: 'legacy', source: 'legacy', payload, signature, ...(certificate ? { certificate } : {}) };
}

function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${body.length} `), body]);
}

function dsseBundle(opts: {
  privateKey: KeyObject;
  digest: string;
  predicateType?: string;
  certificateDer?: Buffer;
}): SignatureArtifact {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'reg/app', digest: { sha256: opts.digest.slice('sha256:'.length) } }],
    predicateType: opts.predicateType ?? COSIGN_SIGN_PREDICATE,
    predicate: {},
  };
  const body = Buffer.from(JSON.stringify(statement));
  const payloadType = 'application/vnd.in-toto+json';
  const sig = sign('sha256', pae(payloadType, body), opts.privateKey).toString('base64');
  const verificationMaterial = opts.certificateDer
    ? { certificate: { rawBytes: opts.certificateDer.toString('base64') }, tlogEntries: [] }
    : { publicKey: { hint: 'test' }, tlogEntries: [] };
  return {
    format: 'bundle',
    source: 'bundle',
    bundle: {
      mediaType: SIGSTORE_BUNDLE_ARTIFACT_TYPE,
      verificationMaterial,
      dsseEnvelope: { payload: body.toString('base64'), payloadType, signatures: [{ sig, keyid: '' }] },
    },
  };
}

/** A private CA and a code-signing leaf carrying Fulcio's issuer extension, and the trusted root naming the CA. */
async function privateCa(leafValidity: { notBefore: Date; notAfter: Date }) {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const caKeys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Test signing CA, O=Dockyard tests',
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const leafKeys = ecKeys();
  const utf8 = Buffer.concat([Buffer.from([0x0c, ISSUER.length]), Buffer.from(ISSUER)]);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=signer',
    issuer: ca.subject,
    ...leafValidity,
    publicKey: await crypto.subtle.importKey(
      'spki',
      leafKeys.publicKey.export({ type: 'spki', format: 'der' }),
      alg,
      true,
      ['verify'],
    ),
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.3']),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: IDENTITY }], true),
      new x509.Extension('1.3.6.1.4.1.57264.1.8', false, utf8),
    ],
  });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    ctlogs: [],
    timestampAuthorities: [],
    certificateAuthorities: [
      {
        subject: { organization: 'Dockyard tests', commonName: 'Test signing CA' },
        uri: 'https://ca.test',
        certChain: { certificates: [{ rawBytes: Buffer.from(ca.rawData).toString('base64') }] },
        validFor: { start: new Date(Date.now() - 86_400_000).toISOString() },
      },
    ],
  };
  return {
    leafKey: leafKeys.privateKey,
    leafPem: leaf.toString('pem'),
    leafDer: Buffer.from(leaf.rawData),
    trustedRoot,
  };
}

describe('verifyImageSignature with a public key', () => {
  const right = ecKeys();
  const wrong = ecKeys();
  const signers: SignerMaterial[] = [
    { name: 'release', kind: 'publicKey', publicKeyPem: pem(right.publicKey) },
  ];

  it('accepts the legacy .sig format and the bundle format signed by the key', () => {
    for (const artifact of [
      legacy(right.privateKey, DIGEST),
      dsseBundle({ privateKey: right.privateKey, digest: DIGEST }),
    ]) {
      expect(verifyImageSignature({ digest: DIGEST, artifacts: [artifact], signers })).toMatchObject({
        verified: true,
        signer: 'release',
        format: artifact.format,
      });
    }
  });

  it('refuses another key, another digest, an attestation and no signature at all', () => {
    const cases: Array<[SignatureArtifact[], string]> = [
      [[legacy(wrong.privateKey, DIGEST)], 'signature verification failed'],
      [[dsseBundle({ privateKey: wrong.privateKey, digest: DIGEST })], 'signature verification failed'],
      [[legacy(right.privateKey, OTHER)], `signs ${OTHER}, not ${DIGEST}`],
      [[dsseBundle({ privateKey: right.privateKey, digest: OTHER })], `signs ${OTHER}`],
      [
        [
          dsseBundle({
            privateKey: right.privateKey,
            digest: DIGEST,
            predicateType: 'https://slsa.dev/provenance/v1',
          }),
        ],
        'is an attestation',
      ],
      [[], 'no signature found'],
    ];
    for (const [artifacts, why] of cases) {
      const verdict = verifyImageSignature({ digest: DIGEST, artifacts, signers });
      expect(verdict.verified).toBe(false);
      expect(!verdict.verified && verdict.failures.join('\n')).toContain(why);
    }
  });

  it('accepts a signature by any one of several signers', () => {
    const both: SignerMaterial[] = [
      { name: 'old', kind: 'publicKey', publicKeyPem: pem(wrong.publicKey) },
      ...signers,
    ];
    expect(
      verifyImageSignature({ digest: DIGEST, artifacts: [legacy(right.privateKey, DIGEST)], signers: both }),
    ).toMatchObject({
      verified: true,
      signer: 'release',
    });
  });
});

describe('verifyImageSignature with a keyless identity and a private trusted root', () => {
  let valid: Awaited<ReturnType<typeof privateCa>>;
  let expired: Awaited<ReturnType<typeof privateCa>>;
  beforeAll(async () => {
    valid = await privateCa({
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
    });
    expired = await privateCa({
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
  });
  const keyless = (
    root: unknown,
    subject = 'https://github.com/acme/*',
    issuer = ISSUER,
  ): SignerMaterial[] => [{ name: 'ci', kind: 'keyless', issuer, subject, trustedRoot: root }];

  it('accepts the right identity in both formats', () => {
    const artifacts = [
      legacy(valid.leafKey, DIGEST, valid.leafPem),
      dsseBundle({ privateKey: valid.leafKey, digest: DIGEST, certificateDer: valid.leafDer }),
    ];
    for (const artifact of artifacts)
      expect(
        verifyImageSignature({ digest: DIGEST, artifacts: [artifact], signers: keyless(valid.trustedRoot) }),
      ).toMatchObject({
        verified: true,
        signer: 'ci',
      });
  });

  it('refuses another subject, another issuer, an expired certificate and another root', () => {
    const artifact = legacy(valid.leafKey, DIGEST, valid.leafPem);
    const refused = (signers: SignerMaterial[], a = artifact) => {
      const verdict = verifyImageSignature({ digest: DIGEST, artifacts: [a], signers });
      expect(verdict.verified).toBe(false);
      return verdict.verified ? '' : verdict.failures.join('\n');
    };
    expect(refused(keyless(valid.trustedRoot, 'https://github.com/evil/*'))).toContain(
      'certificate identity error',
    );
    expect(
      refused(keyless(valid.trustedRoot, 'https://github.com/acme/*', 'https://accounts.google.com')),
    ).toContain('issuer');
    expect(refused(keyless(expired.trustedRoot), legacy(expired.leafKey, DIGEST, expired.leafPem))).toMatch(
      /certificate/i,
    );
    expect(refused(keyless(expired.trustedRoot))).toMatch(/certificate/i);
  });
});

describe('subjectPattern', () => {
  it('treats * as any run and everything else literally', () => {
    expect(subjectPattern('https://github.com/acme/*').test(IDENTITY)).toBe(true);
    expect(subjectPattern('https://github.com/acme/app').test(IDENTITY)).toBe(false);
    expect(subjectPattern('a.b').test('aXb')).toBe(false);
  });
});
