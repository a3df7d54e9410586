// Does an image digest carry a valid signature by an accepted signer?
// (DockerHost.spec.imagePolicy RequireSignature; docs/image-policy.md.)
// Pure: the signature artifacts were read from the registry by the caller
// (src/docker/registry-client.ts, src/docker/image-signatures.ts); the
// cryptography is Sigstore's own JavaScript verifier. Two formats, as cosign
// writes them:
//   - a Sigstore bundle (cosign v3's default), attached through the OCI
//     referrers API: a DSSE envelope around an in-toto statement whose
//     subject is the image digest;
//   - the older `sha256-<hex>.sig` tag: a simple-signing payload naming the
//     digest, with the signature (and certificate) in layer annotations.
// Either is turned into a bundle and checked by @sigstore/verify; what binds
// it to this image (the digest inside the signed payload) is checked here.

import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  toSignedEntity,
  toTrustMaterial,
  Verifier,
  type SignedEntity,
  type TrustMaterial,
  type VerificationPolicy,
} from '@sigstore/verify';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';

/** The bundle media type cosign attaches as a referrer's artifactType. */
export const SIGSTORE_BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The in-toto predicate cosign v3 uses for an image signature (not an attestation). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

/** One signature found for a digest, as read from the registry. */
export type SignatureArtifact =
  | { format: 'bundle'; source: string; bundle: unknown }
  | {
      format: 'legacy';
      source: string;
      /** The simple-signing JSON the signature covers. */
      payload: Buffer;
      /** Base64, from the `dev.cosignproject.cosign/signature` annotation. */
      signature: string;
      /** PEM, from `dev.sigstore.cosign/certificate`, for a certificate signer. */
      certificate?: string;
    };

/** An accepted signer with its material read (the key's PEM, the trusted root's JSON). */
export type SignerMaterial =
  | { name: string; kind: 'publicKey'; publicKeyPem: string }
  | { name: string; kind: 'keyless'; issuer: string; subject: string; trustedRoot: unknown };

export type SignatureVerdict =
  | { verified: true; signer: string; format: SignatureArtifact['format']; source: string }
  | { verified: false; failures: string[] };

/** `*` in a keyless subject matches any run of characters; the rest is literal. */
export function subjectPattern(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

function b64(bytes: Buffer | Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** A legacy `.sig` layer as the bundle it is equivalent to (message signature over the payload, no log entry). */
export function legacyBundle(artifact: Extract<SignatureArtifact, { format: 'legacy' }>): Bundle {
  const verificationMaterial = artifact.certificate
    ? { certificate: { rawBytes: b64(new X509Certificate(artifact.certificate).raw) }, tlogEntries: [] }
    : { publicKey: { hint: '' }, tlogEntries: [] };
  return bundleFromJSON({
    mediaType: SIGSTORE_BUNDLE_ARTIFACT_TYPE,
    verificationMaterial,
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: b64(createHash('sha256').update(artifact.payload).digest()),
      },
      signature: artifact.signature,
    },
  });
}

/** The image digest a signed payload names, or why it names none. */
function boundDigest(artifact: SignatureArtifact, bundle: Bundle): string | { error: string } {
  if (artifact.format === 'legacy') {
    const doc = parseJson(artifact.payload) as {
      critical?: { type?: string; image?: Record<string, string> };
    };
    if (doc?.critical?.type !== SIMPLE_SIGNING_TYPE)
      return { error: 'the payload is not a cosign image signature' };
    return doc.critical.image?.['docker-manifest-digest'] ?? { error: 'the payload names no digest' };
  }
  if (bundle.content.$case !== 'dsseEnvelope') return { error: 'the bundle holds no DSSE envelope' };
  const statement = parseJson(Buffer.from(bundle.content.dsseEnvelope.payload)) as {
    predicateType?: string;
    subject?: Array<{ digest?: Record<string, string> }>;
  };
  if (statement?.predicateType !== COSIGN_SIGN_PREDICATE)
    return { error: `the bundle is an attestation (${String(statement?.predicateType)}), not a signature` };
  const hex = statement.subject?.map((s) => s.digest?.sha256).find(Boolean);
  return hex ? `sha256:${hex}` : { error: 'the statement names no sha256 subject' };
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The verifier and policy for one signer; built once per signer per verification. */
interface SignerCheck {
  name: string;
  verifier: Verifier;
  trust: TrustMaterial;
  policy: VerificationPolicy | undefined;
}

function signerCheck(signer: SignerMaterial): SignerCheck {
  if (signer.kind === 'publicKey') {
    const publicKey = createPublicKey(signer.publicKeyPem);
    const trust = toTrustMaterial(TrustedRoot.fromJSON({}), () => ({ publicKey, validFor: () => true }));
    // A key signer proves possession of the key; log entries are not required
    // (cosign verify --key --insecure-ignore-tlog, the offline mode).
    const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    return { name: signer.name, verifier, trust, policy: undefined };
  }
  const trust = toTrustMaterial(TrustedRoot.fromJSON(signer.trustedRoot));
  const verifier = new Verifier(trust, {
    // What the trusted root provides, a signature must use.
    tlogThreshold: trust.tlogs.length > 0 ? 1 : 0,
    ctlogThreshold: trust.ctlogs.length > 0 ? 1 : 0,
    timestampThreshold: trust.tlogs.length > 0 || trust.timestampAuthorities.length > 0 ? 1 : 0,
  });
  const policy = {
    subjectAlternativeName: subjectPattern(signer.subject),
    extensions: { issuer: signer.issuer },
  };
  return { name: signer.name, verifier, trust, policy };
}

/**
 * A root with no transparency log and no timestamp authority (a private CA
 * signing offline) gives no signing time to check the certificate against:
 * it must then be valid at verification time, as `cosign verify` does
 * without a log. Never used when the root names a log or a TSA.
 */
function withVerificationTime(entity: SignedEntity, check: SignerCheck, now: Date): SignedEntity {
  const { trust } = check;
  if (entity.key.$case !== 'certificate' || entity.timestamps.length > 0) return entity;
  if (trust.tlogs.length > 0 || trust.timestampAuthorities.length > 0) return entity;
  const tlogEntry = {
    logIndex: '0',
    logId: { keyId: Buffer.from('dockyard:verification-time') },
    kindVersion: undefined,
    integratedTime: String(Math.floor(now.getTime() / 1000)),
    inclusionPromise: { signedEntryTimestamp: Buffer.alloc(0) },
    inclusionProof: undefined,
    canonicalizedBody: Buffer.alloc(0),
  };
  return { ...entity, timestamps: [{ $case: 'transparency-log', tlogEntry }] } as SignedEntity;
}

function toBundle(artifact: SignatureArtifact): Bundle {
  return artifact.format === 'legacy' ? legacyBundle(artifact) : bundleFromJSON(artifact.bundle);
}

/**
 * Whether any artifact is a valid signature of `digest` by any signer. Every
 * failure is kept (artifact × signer), so a refusal can say why.
 */
export function verifyImageSignature(opts: {
  digest: string;
  artifacts: readonly SignatureArtifact[];
  signers: readonly SignerMaterial[];
  now?: Date;
}): SignatureVerdict {
  const now = opts.now ?? new Date();
  const failures: string[] = [];
  if (opts.artifacts.length === 0)
    return { verified: false, failures: [`no signature found for ${opts.digest}`] };
  const checks = opts.signers.map(signerCheck);
  for (const artifact of opts.artifacts) {
    let bundle: Bundle;
    try {
      bundle = toBundle(artifact);
    } catch (err) {
      failures.push(`${artifact.source}: not a valid signature (${(err as Error).message})`);
      continue;
    }
    const bound = boundDigest(artifact, bundle);
    if (typeof bound !== 'string') {
      failures.push(`${artifact.source}: ${bound.error}`);
      continue;
    }
    if (bound !== opts.digest) {
      failures.push(`${artifact.source}: signs ${bound}, not ${opts.digest}`);
      continue;
    }
    const payload = artifact.format === 'legacy' ? artifact.payload : undefined;
    for (const check of checks) {
      try {
        const entity = withVerificationTime(toSignedEntity(bundle, payload), check, now);
        check.verifier.verify(entity, check.policy);
        return { verified: true, signer: check.name, format: artifact.format, source: artifact.source };
      } catch (err) {
        failures.push(`${artifact.source} by ${check.name}: ${(err as Error).message}`);
      }
    }
  }
  return { verified: false, failures };
}
