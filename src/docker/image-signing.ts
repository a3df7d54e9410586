// Signs a pushed image the way `cosign sign --key` stores a signature on a
// registry without a transparency log (`--tlog-upload=false`, the legacy
// storage): a simple-signing payload naming the digest, signed with an
// ECDSA P-256 key (SHA-256, DER), as a layer of the `sha256-<hex>.sig` tag
// with the signature in its annotation. That is what hosts whose imagePolicy
// requires a signature read (src/docker/image-signatures.ts), and what
// `cosign verify --key --insecure-ignore-tlog` accepts. Written by hand:
// sigstore-js signs bundles for Fulcio and Rekor, not this layer format, and
// no npm library writes it; the cryptography is node:crypto's.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { findSignatures } from './image-signatures.js';
import { MEDIA_TYPES, type Descriptor, type RegistryClient } from './registry-client.js';
import { verifyImageSignature } from '../policy/image-signature.js';

const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';

/** A signing key as read from its Secret, with the public half hosts verify with. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

/** A PEM ECDSA P-256 private key (PKCS#8 or SEC1, unencrypted); throws a message naming no key material. */
export function readSigningKey(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('not an unencrypted PEM private key');
  }
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (privateKey.asymmetricKeyType !== 'ec' || curve !== 'prime256v1')
    throw new Error(
      `an ECDSA P-256 key is needed, not ${privateKey.asymmetricKeyType ?? 'unknown'} ${curve ?? ''}`,
    );
  const publicKeyPem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
  return { privateKey, publicKeyPem };
}

/** cosign's simple-signing payload for `repository` (registry/path) at `digest`. */
export function simpleSigningPayload(repository: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': repository },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** cosign's signature of a payload: ECDSA over its SHA-256, DER, base64. */
export function signPayload(payload: Buffer, key: SigningKey): string {
  return sign('sha256', payload, key.privateKey).toString('base64');
}

/** Whether `digest` carries a signature by `key` that verifies, as a host would check it. */
export async function signedBy(client: RegistryClient, digest: string, key: SigningKey): Promise<boolean> {
  const verdict = verifyImageSignature({
    digest,
    artifacts: await findSignatures(client, digest),
    signers: [{ name: 'spec.signing', kind: 'publicKey', publicKeyPem: key.publicKeyPem }],
  });
  return verdict.verified;
}

/**
 * Adds a signature of `digest` by `key` to the `.sig` tag of the client's
 * repository, keeping the signatures already there (cosign appends too).
 */
export async function signDigest(opts: {
  client: RegistryClient;
  repository: string;
  digest: string;
  key: SigningKey;
}): Promise<void> {
  const { client, digest } = opts;
  const payload = simpleSigningPayload(opts.repository, digest);
  const signature = signPayload(payload, opts.key);
  const tag = `${digest.replace(':', '-')}.sig`;
  const existing = await client.manifest(tag);
  const layer: Descriptor = {
    ...(await client.putBlob(payload, SIMPLE_SIGNING_MEDIA_TYPE)),
    annotations: { [SIGNATURE_ANNOTATION]: signature },
  };
  const layers = [...(existing?.json.layers ?? []), layer];
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      os: '',
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: await client.putBlob(config, CONFIG_MEDIA_TYPE),
    layers,
  };
  await client.putManifest(tag, Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest);
}
