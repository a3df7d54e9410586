// DockerHost.spec.imagePolicy, enforced before any pull reaches the host's
// daemon (docs/image-policy.md): the DockerImage kind asks before it pulls,
// the DockerContainer kind before it pulls or creates from spec.image. The
// gate decides by rule (pure, src/policy/image-policy.ts), resolves a tag to
// a digest from the registry itself when the rule pins digests, and checks
// signatures (src/policy/image-signature.ts). One verification per digest
// and set of signers: results are cached (bounded), and callers asking for
// the same digest at once share one verification.

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { ImageSigner } from '../../crds/image-policy.js';
import { Reason } from '../../crds/reasons.js';
import { ImagePullError } from '../../docker/image-client.js';
import { familiarName, parseImageReference, type ImageReference } from '../../docker/image-reference.js';
import { findSignatures } from '../../docker/image-signatures.js';
import type { RegistryCredentials } from '../../docker/registry-auth.js';
import { RegistryClient } from '../../docker/registry-client.js';
import { decideImage, type ImageVerdict } from '../../policy/image-policy.js';
import { verifyImageSignature, type SignatureVerdict } from '../../policy/image-signature.js';
import { noopImagePolicyMetrics, type ImagePolicyMetrics } from './image-policy-metrics.js';
import { readSigners, SignerMaterialError, SignerMaterials } from './signer-materials.js';

/** Verified digests kept per process; a fleet runs far fewer distinct signed digests. */
const MAX_CACHED_VERIFICATIONS = 4096;

/** How long a tag's resolved digest is shared by owners asking at about the same time. */
const RESOLVE_TTL_MS = 10_000;

/** Keys the resolution cache by credentials without keeping them in the key. */
function credentialKey(c: RegistryCredentials): string {
  return createHash('sha256')
    .update(JSON.stringify([c.username, c.password]))
    .digest('hex');
}

/** What a host's policy lets through for one image reference. */
export type Admission =
  | {
      admitted: true;
      /** The reference to pull and run: `repository@digest` when the rule pins digests, else as given. */
      image: string;
      digest?: string;
      rule?: string;
      /** The signer whose signature was verified, for RequireSignature. */
      signer?: string;
    }
  | { admitted: false; reason: Reason; message: string };

export interface AdmissionRequest {
  host: DockerHost;
  /** The reference as the resource wrote it. */
  image: string;
  /** The owner's credentials for the image's registry, if any: read only when the registry is asked. */
  credentials?: () => Promise<RegistryCredentials | undefined>;
  /** The digest this reference was resolved to before (status): reused, not resolved again. */
  pinnedDigest?: string;
}

export interface ImagePolicyGateDeps {
  materials: SignerMaterials;
  metrics?: ImagePolicyMetrics;
  registryTimeoutMs?: number;
  now?: () => Date;
}

const refusal = (reason: Reason, message: string): Admission => ({ admitted: false, reason, message });

export class ImagePolicyGate {
  private readonly verified = new LRUCache<string, Extract<SignatureVerdict, { verified: true }>>({
    max: MAX_CACHED_VERIFICATIONS,
  });
  private readonly inflight = new Map<string, Promise<SignatureVerdict>>();
  private readonly resolved = new LRUCache<string, Promise<string>>({ max: 1024, ttl: RESOLVE_TTL_MS });
  private readonly metrics: ImagePolicyMetrics;

  constructor(private readonly deps: ImagePolicyGateDeps) {
    this.metrics = deps.metrics ?? noopImagePolicyMetrics;
  }

  /** Signature verifications actually run (cache misses), for tests and the bench. */
  verifications = 0;

  /** The host's decision for one image; never throws (registry trouble is a refusal with its reason). */
  async admit(req: AdmissionRequest): Promise<Admission> {
    let ref: ImageReference;
    try {
      ref = parseImageReference(req.image);
    } catch (err) {
      return refusal(Reason.ImagePolicyViolation, `image ${req.image}: ${(err as Error).message}`);
    }
    const verdict = decideImage({
      policy: req.host.spec.imagePolicy,
      repository: `${ref.domain}/${ref.path}`,
      image: req.image,
      host: req.host.metadata.name,
    });
    const admission = await this.admitBy(verdict, ref, req);
    this.metrics.decided(verdict.rule ?? '', admission.admitted ? 'admitted' : admission.reason);
    return admission;
  }

  private async admitBy(
    verdict: ImageVerdict,
    ref: ImageReference,
    req: AdmissionRequest,
  ): Promise<Admission> {
    if (verdict.action === 'Deny') return refusal(Reason.ImagePolicyViolation, verdict.message);
    if (!verdict.requireDigest) return { admitted: true, image: req.image, ...ruleOf(verdict) };
    let digest: string;
    try {
      digest = ref.digest ?? req.pinnedDigest ?? (await this.resolve(ref, await req.credentials?.()));
    } catch (err) {
      const e = ImagePullError.from(err, `resolving ${req.image} for imagePolicy rule ${verdict.rule}`);
      return refusal(e.reason, e.message);
    }
    const image = `${familiarName(ref)}@${digest}`;
    if (verdict.action === 'Allow') return { admitted: true, image, digest, ...ruleOf(verdict) };
    return this.admitSigned({ verdict, ref, req, digest, image });
  }

  private async admitSigned(opts: {
    verdict: Extract<ImageVerdict, { action: 'RequireSignature' }>;
    ref: ImageReference;
    req: AdmissionRequest;
    digest: string;
    image: string;
  }): Promise<Admission> {
    const { verdict, ref, req, digest, image } = opts;
    const where = `imagePolicy rule ${verdict.rule} of host ${req.host.metadata.name}`;
    let result: SignatureVerdict;
    try {
      result = await this.verify({ ref, digest, signers: verdict.signers, credentials: req.credentials });
    } catch (err) {
      if (err instanceof SignerMaterialError) return refusal(err.reason, `${where}: ${err.message}`);
      const e = ImagePullError.from(err, `reading the signatures of ${image}`);
      return refusal(e.reason, `${where}: ${e.message}`);
    }
    if (!result.verified) {
      const names = verdict.signers.map((s) => s.name).join(', ');
      const why = result.failures.slice(0, 4).join('; ');
      return refusal(
        Reason.SignatureInvalid,
        `image ${req.image} (${digest}) has no valid signature by ${names} as ${where} requires: ${why}`,
      );
    }
    return { admitted: true, image, digest, rule: verdict.rule, signer: result.signer };
  }

  /**
   * The tag's digest now. Owners asking within RESOLVE_TTL_MS with the same
   * credentials share one registry request and get the same digest: a fleet
   * of containers created together pins one digest, with one request.
   */
  private resolve(ref: ImageReference, credentials: RegistryCredentials | undefined): Promise<string> {
    const who = credentials ? credentialKey(credentials) : 'anonymous';
    const key = `${ref.domain}/${ref.path}:${ref.tag ?? 'latest'}\u0000${who}`;
    const hit = this.resolved.get(key);
    if (hit) return hit;
    const digest = this.client(ref, credentials)
      .resolve(ref.tag ?? 'latest')
      .then((m) => m.digest);
    this.resolved.set(key, digest);
    digest.catch(() => this.resolved.delete(key));
    return digest;
  }

  private client(ref: ImageReference, credentials: RegistryCredentials | undefined): RegistryClient {
    return new RegistryClient({
      domain: ref.domain,
      repository: ref.path,
      ...(credentials ? { credentials } : {}),
      ...(this.deps.registryTimeoutMs ? { timeoutMs: this.deps.registryTimeoutMs } : {}),
    });
  }

  /** Cached per digest and signer material; concurrent askers share one run. */
  private async verify(opts: {
    ref: ImageReference;
    digest: string;
    signers: readonly ImageSigner[];
    credentials: AdmissionRequest['credentials'];
  }): Promise<SignatureVerdict> {
    const materials = await readSigners(this.deps.materials, opts.signers);
    const key = createHash('sha256')
      .update(JSON.stringify([opts.digest, materials]))
      .digest('hex');
    const cached = this.verified.get(key);
    if (cached) return cached;
    let running = this.inflight.get(key);
    if (!running) {
      running = (async () =>
        this.runVerification({ ...opts, credentials: await opts.credentials?.(), materials }))().finally(() =>
        this.inflight.delete(key),
      );
      this.inflight.set(key, running);
    }
    const result = await running;
    if (result.verified) this.verified.set(key, result);
    return result;
  }

  private async runVerification(opts: {
    ref: ImageReference;
    digest: string;
    credentials: RegistryCredentials | undefined;
    materials: Awaited<ReturnType<typeof readSigners>>;
  }): Promise<SignatureVerdict> {
    this.verifications += 1;
    const started = performance.now();
    const artifacts = await findSignatures(this.client(opts.ref, opts.credentials), opts.digest);
    const result = verifyImageSignature({
      digest: opts.digest,
      artifacts,
      signers: opts.materials,
      now: this.deps.now?.() ?? new Date(),
    });
    this.metrics.verified(result.verified ? 'valid' : 'invalid', (performance.now() - started) / 1000);
    return result;
  }
}

function ruleOf(verdict: Exclude<ImageVerdict, { action: 'Deny' }>): { rule?: string } {
  return verdict.rule ? { rule: verdict.rule } : {};
}
