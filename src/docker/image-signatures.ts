// Finds the cosign signatures of an image digest in its registry, in both
// places cosign puts them (see src/policy/image-signature.ts for what they
// are): Sigstore bundles attached as OCI referrers, and the older
// `sha256-<hex>.sig` tag. Only reads; everything read by digest is checked
// against it by the registry client.

import { SIGSTORE_BUNDLE_ARTIFACT_TYPE, type SignatureArtifact } from '../policy/image-signature.js';
import type { Descriptor, RegistryClient } from './registry-client.js';

/** Annotations of a legacy `.sig` layer. */
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
/** A bundle or a simple-signing payload is a few KiB; more is not a signature. */
const MAX_SIGNATURE_BLOB_BYTES = 256 * 1024;
/** Signatures looked at per digest: a registry cannot make one verification unbounded. */
const MAX_SIGNATURES = 16;

/** The referrers that are Sigstore bundles. */
function bundleReferrers(referrers: readonly Descriptor[]): Descriptor[] {
  return referrers.filter((d) => d.artifactType === SIGSTORE_BUNDLE_ARTIFACT_TYPE).slice(0, MAX_SIGNATURES);
}

async function bundlesOf(client: RegistryClient, digest: string): Promise<SignatureArtifact[]> {
  const found: SignatureArtifact[] = [];
  for (const referrer of bundleReferrers(await client.referrers(digest))) {
    const manifest = await client.manifest(referrer.digest);
    const layer = manifest?.json.layers?.[0];
    if (!layer) continue;
    const bytes = await client.blob(layer.digest, MAX_SIGNATURE_BLOB_BYTES);
    let bundle: unknown;
    try {
      bundle = JSON.parse(bytes.toString('utf8'));
    } catch {
      continue;
    }
    found.push({ format: 'bundle', source: `referrer ${referrer.digest}`, bundle });
  }
  return found;
}

async function legacySignaturesOf(client: RegistryClient, digest: string): Promise<SignatureArtifact[]> {
  const tag = `${digest.replace(':', '-')}.sig`;
  const manifest = await client.manifest(tag);
  const found: SignatureArtifact[] = [];
  for (const layer of (manifest?.json.layers ?? []).slice(0, MAX_SIGNATURES)) {
    const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
    if (!signature) continue;
    const payload = await client.blob(layer.digest, MAX_SIGNATURE_BLOB_BYTES);
    const certificate = layer.annotations?.[CERTIFICATE_ANNOTATION];
    found.push({
      format: 'legacy',
      source: `tag ${tag} layer ${layer.digest}`,
      payload,
      signature,
      ...(certificate ? { certificate } : {}),
    });
  }
  return found;
}

/** Every signature cosign may have left for `digest`: bundles first, then the legacy tag. */
export async function findSignatures(client: RegistryClient, digest: string): Promise<SignatureArtifact[]> {
  return [...(await bundlesOf(client, digest)), ...(await legacySignaturesOf(client, digest))];
}
