// The keys and trusted roots an imagePolicy's signers name, read from the
// Secrets and ConfigMaps the host's administrator points at. Read by name,
// never listed; kept for a short while so a thousand containers admitted at
// once read each key once, and a rotated key is seen within that while.

import type { ImageSigner } from '../../crds/image-policy.js';
import { Reason } from '../../crds/reasons.js';
import type { SignerMaterial } from '../../policy/image-signature.js';
import type { RefReader } from '../dockercontainer/env-resolver.js';

/** How long a key or trusted root read from the API is reused. */
const MATERIAL_TTL_MS = 30_000;

/** A signer's key or trusted root is missing or unreadable: the admission fails with this reason. */
export class SignerMaterialError extends Error {
  constructor(
    readonly reason:
      typeof Reason.SecretNotFound | typeof Reason.ConfigMapNotFound | typeof Reason.SignatureInvalid,
    message: string,
  ) {
    super(message);
  }
}

type Source = { kind: 'Secret' | 'ConfigMap'; namespace: string; name: string; key: string };

export class SignerMaterials {
  private readonly cache = new Map<string, { at: number; text: Promise<string> }>();

  constructor(
    private readonly refs: (namespace: string) => RefReader,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The text under one key; throws SignerMaterialError naming what is missing (never its content). */
  text(source: Source): Promise<string> {
    const id = `${source.kind}/${source.namespace}/${source.name}/${source.key}`;
    const now = this.clock();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < MATERIAL_TTL_MS) return hit.text;
    const text = this.read(source);
    this.cache.set(id, { at: now, text });
    // A failed read is not kept: the next admission reads again.
    text.catch(() => this.cache.delete(id));
    return text;
  }

  private async read(source: Source): Promise<string> {
    const reader = this.refs(source.namespace);
    const data =
      source.kind === 'Secret' ? await reader.secret(source.name) : await reader.configMap(source.name);
    const what = `${source.kind} ${source.namespace}/${source.name}`;
    const reason = source.kind === 'Secret' ? Reason.SecretNotFound : Reason.ConfigMapNotFound;
    if (data === undefined) throw new SignerMaterialError(reason, `${what} not found`);
    const text = data[source.key];
    if (text === undefined) throw new SignerMaterialError(reason, `key ${source.key} not found in ${what}`);
    return text;
  }
}

/** Every signer with its material read and parsed; a trusted root that is not JSON is named. */
export async function readSigners(
  materials: SignerMaterials,
  signers: readonly ImageSigner[],
): Promise<SignerMaterial[]> {
  return Promise.all(
    signers.map(async (signer): Promise<SignerMaterial> => {
      if (signer.publicKey) {
        const publicKeyPem = await materials.text({ kind: 'Secret', ...signer.publicKey });
        return { name: signer.name, kind: 'publicKey', publicKeyPem };
      }
      const keyless = signer.keyless!;
      const text = await materials.text({ kind: 'ConfigMap', ...keyless.trustedRoot });
      let trustedRoot: unknown;
      try {
        trustedRoot = JSON.parse(text);
      } catch {
        const { namespace, name, key } = keyless.trustedRoot;
        throw new SignerMaterialError(
          Reason.SignatureInvalid,
          `signer ${signer.name}: key ${key} of ConfigMap ${namespace}/${name} is not a trusted root (not JSON)`,
        );
      }
      return {
        name: signer.name,
        kind: 'keyless',
        issuer: keyless.issuer,
        subject: keyless.subject,
        trustedRoot,
      };
    }),
  );
}
