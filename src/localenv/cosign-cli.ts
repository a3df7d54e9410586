// The cosign CLI, the reference implementation the supply-chain tests sign
// images with (offline, against a local registry: see test/support/cosign.ts),
// so Dockyard's signature checks are proven against artifacts cosign itself
// wrote. Test-only, never shipped. Built like compose-cli.ts: from the pinned
// Go module in tools/cosign, once, into a cache entry keyed by its go.mod,
// go.sum and tools.go and the build recipe, so a version bump is a new entry
// and never a stale binary.

import { join } from 'node:path';
import { ensurePinnedGoBinary, requiredVersion, type PinnedGoBinary } from './go-module.js';

const MODULE_DIR_IN_REPO = join('tools', 'cosign');
const COSIGN_MODULE = 'github.com/sigstore/cosign/v3';

const COSIGN: PinnedGoBinary = {
  dirInRepo: MODULE_DIR_IN_REPO,
  module: COSIGN_MODULE,
  binary: 'cosign',
  pkg: `${COSIGN_MODULE}/cmd/cosign`,
  recipe: 'go build -trimpath CGO_ENABLED=0 -ldflags=-s -w + release-utils gitVersion stamp v1',
  ldflags: versionLdflags,
  what: (version) => `cosign ${version} (the supply-chain tests' signer)`,
  expected: '~3 min on 2 cores',
};

/**
 * Returns the path of the cosign binary built from tools/cosign (a few
 * minutes on two cores the first time; later calls cost a stat).
 */
export function ensureCosignCli(log: (msg: string) => void = () => {}): Promise<string> {
  return ensurePinnedGoBinary(COSIGN, log);
}

/** The cosign version tools/cosign/go.mod requires, e.g. "v3.1.3". */
export function readPinnedCosignVersion(goMod: string): string {
  return requiredVersion(goMod, COSIGN_MODULE, MODULE_DIR_IN_REPO);
}

/**
 * `-X …/version.gitVersion` is what cosign's own Makefile stamps (with the
 * commit, tree state and date, which a module build does not know): it is
 * what `cosign version` prints and the "cosign/<version>" User-Agent the
 * registry sees; a plain `go build` says "devel". The Makefile's release
 * build has no build tags (pivkey/pkcs11key need cgo and are left out here too).
 */
function versionLdflags(version: string): string {
  return ['-s', '-w', `-X sigs.k8s.io/release-utils/version.gitVersion=${version}`].join(' ');
}

/**
 * How the signature is stored in the registry:
 * - `legacy`: the `sha256-<hex>.sig` tag, an OCI manifest whose layer is the
 *   simple-signing payload (`application/vnd.dev.cosign.simplesigning.v1+json`)
 *   with the signature in the `dev.cosignproject.cosign/signature` annotation
 *   (and `dev.sigstore.cosign/certificate`, `…/chain` when signed with a certificate).
 * - `bundle`: a Sigstore bundle v0.3 (DSSE envelope over an in-toto statement,
 *   predicateType `https://sigstore.dev/cosign/sign/v1`) in an OCI 1.1 referrer
 *   manifest (artifactType `application/vnd.dev.sigstore.bundle.v0.3+json`);
 *   on a registry without the referrers API (distribution 2.8) it is listed
 *   in an OCI index under the fallback tag `sha256-<hex>`, one entry per signing.
 */
export type CosignSignatureFormat = 'legacy' | 'bundle';

export interface CosignSignInvocation {
  /** The path ensureCosignCli returned. */
  binary: string;
  /** `registry/repo@sha256:…`: what is signed is a digest, never a tag a push could move. */
  ref: string;
  /** A cosign-format encrypted key (`generate-key-pair`, `import-key-pair`); its password goes in the environment. */
  keyPath: string;
  format: CosignSignatureFormat;
  /** A PEM leaf for that key: the signature then carries an identity instead of only a key. */
  certificatePath?: string;
  /**
   * PEM intermediates then root. cosign checks the leaf against it and drops
   * the self-signed root: it stores only intermediates (none for a leaf the
   * root signed directly). In the bundle format a chain turns the verification
   * material into `x509CertificateChain`, which a v0.3 bundle must not hold:
   * @sigstore/bundle's bundleFromJSON rejects it ("invalid bundle") and cosign
   * verify ignores it unless given --allow-certificate-chain. Leave the chain
   * out for a bundle a spec-following verifier accepts (`certificate`).
   */
  certificateChainPath?: string;
  /** Sign an index and every manifest it lists (`--recursive`). */
  recursive?: boolean;
}

/**
 * The command line for one offline `cosign sign` (v3): nothing but the
 * registry is contacted. `--use-signing-config=false` stops the TUF fetch of
 * the public-good signing config (tuf-repo-cdn.sigstore.dev) and
 * `--tlog-upload=false` the Rekor upload; with a key nothing asks Fulcio or an
 * OIDC provider. cosign refuses `--tlog-upload=false` while a signing config
 * is in use, and `--new-bundle-format=false` without a bundle path unless the
 * signing config is off, so the three flags go together. No timestamp
 * authority is used either, so the signature carries no signed time: a
 * verifier checks a certificate's validity at the time of verification.
 * `--yes` only skips the public-log consent prompt, which is not shown here,
 * but keeps a future default from waiting on stdin. Secrets never go on the
 * command line (it appears in errors): see cosignEnv.
 */
export function cosignSignArgs(inv: Omit<CosignSignInvocation, 'binary'>): string[] {
  if (!/^[^@\s]+@sha256:[0-9a-f]{64}$/.test(inv.ref)) {
    throw new Error(`cosign sign wants a reference by digest (repo@sha256:<64 hex>), got ${inv.ref}`);
  }
  if (inv.certificateChainPath !== undefined && inv.certificatePath === undefined) {
    throw new Error('a certificate chain needs the leaf certificate it belongs to');
  }
  return [
    'sign',
    '--key',
    inv.keyPath,
    ...(inv.certificatePath !== undefined ? ['--certificate', inv.certificatePath] : []),
    ...(inv.certificateChainPath !== undefined ? ['--certificate-chain', inv.certificateChainPath] : []),
    `--new-bundle-format=${inv.format === 'bundle'}`,
    '--use-signing-config=false',
    '--tlog-upload=false',
    ...(inv.recursive ? ['--recursive'] : []),
    '--yes',
    inv.ref,
  ];
}

export interface CosignEnvOptions {
  /** A private HOME: cosign's TUF cache (`~/.sigstore`) and docker config lookups stay inside it. */
  home: string;
  /** Folder holding a `config.json` with the registry's credentials (DOCKER_CONFIG); none for an open registry. */
  dockerConfigDir?: string;
  /** Decrypts the key (COSIGN_PASSWORD), so cosign never prompts. */
  keyPassword: string;
  /** Where PATH comes from; process.env unless a test says otherwise. */
  inherit?: NodeJS.ProcessEnv;
}

/**
 * The environment for a cosign run, built rather than inherited: the caller's
 * COSIGN_*, SIGSTORE_*, TUF_* or DOCKER_CONFIG would silently change where
 * cosign looks for trust material and credentials. TUF_ROOT points into the
 * private HOME so even an unexpected TUF fetch never touches the real cache.
 * Registry credentials travel in DOCKER_CONFIG (go-containerregistry's default
 * keychain reads `config.json` there), not --registry-password.
 */
export function cosignEnv(opts: CosignEnvOptions): NodeJS.ProcessEnv {
  const inherit = opts.inherit ?? process.env;
  const env: NodeJS.ProcessEnv = {
    HOME: opts.home,
    TUF_ROOT: join(opts.home, '.sigstore', 'root'),
    DOCKER_CONFIG: opts.dockerConfigDir ?? join(opts.home, '.docker'),
    COSIGN_PASSWORD: opts.keyPassword,
  };
  if (inherit.PATH !== undefined) env.PATH = inherit.PATH;
  return env;
}
