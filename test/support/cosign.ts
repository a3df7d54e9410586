// Signing images with the real cosign CLI (src/localenv/cosign-cli.ts), offline:
// nothing but the local registry is contacted (no Rekor, no Fulcio, no TUF).
// Keys come from `cosign generate-key-pair`; identities ("keyless" signatures
// under a custom trusted root) from a test PKI made with openssl, whose leaf
// certificates carry what Fulcio puts in its own: a URI or email SAN, the
// code-signing EKU and the OIDC issuer extensions. The recipe, the flags and
// what lands in distribution 2.8 are written up in the cosign findings
// (tools/cosign pins v3.1.3; see cosignSignArgs for the flags).
//
// Secrets never reach a command line (run() puts it in its errors): the key
// password goes in COSIGN_PASSWORD, registry credentials in a config.json
// under a private DOCKER_CONFIG that is removed after the run.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cosignEnv,
  cosignSignArgs,
  ensureCosignCli,
  type CosignSignatureFormat,
  type CosignSignInvocation,
} from '../../src/localenv/cosign-cli.js';
import { run, type ExecResult } from '../../src/localenv/exec.js';

/** Encrypts every test key; fixed so a failing test can be replayed by hand. */
export const COSIGN_TEST_PASSWORD = 'dockyard-cosign-test';

export interface CosignKeyPair {
  /** `ENCRYPTED SIGSTORE PRIVATE KEY` PEM, what `cosign sign --key` reads. */
  keyPath: string;
  /** PKIX `PUBLIC KEY` PEM (ECDSA P-256). */
  publicKeyPath: string;
  password: string;
}

export interface RegistryLogin {
  username: string;
  password: string;
  /** `127.0.0.1:PORT`, as in the image reference. */
  address: string;
}

interface CosignRun {
  /** The cosign binary; ensureCosignCli() when omitted (a stat once built). */
  binary?: string;
  registryAuth?: RegistryLogin;
  /** Decrypts the key; COSIGN_TEST_PASSWORD when omitted. */
  password?: string;
}

/** `cosign generate-key-pair` into `dir`: cosign.key and cosign.pub. */
export async function generateCosignKeyPair(dir: string, opts: CosignRun = {}): Promise<CosignKeyPair> {
  const password = opts.password ?? COSIGN_TEST_PASSWORD;
  await mkdir(dir, { recursive: true });
  await cosign(['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], { ...opts, password });
  return { keyPath: join(dir, 'cosign.key'), publicKeyPath: join(dir, 'cosign.pub'), password };
}

/**
 * `cosign import-key-pair` of a PEM key made elsewhere (openssl): `cosign
 * sign --key` reads only cosign's encrypted format and answers "unsupported
 * pem type: EC PRIVATE KEY" to an openssl key.
 */
export async function importCosignKeyPair(
  pemKeyPath: string,
  outPrefix: string,
  opts: CosignRun = {},
): Promise<CosignKeyPair> {
  const password = opts.password ?? COSIGN_TEST_PASSWORD;
  await cosign(['import-key-pair', '--key', pemKeyPath, '--output-key-prefix', outPrefix], {
    ...opts,
    password,
  });
  return { keyPath: `${outPrefix}.key`, publicKeyPath: `${outPrefix}.pub`, password };
}

/** What to sign and how (CosignSignInvocation); the binary defaults to ensureCosignCli(). */
export type CosignSignOptions = CosignRun & Omit<CosignSignInvocation, 'binary'>;

/**
 * Signs `ref` in the registry, offline. Signing the same digest again adds a
 * second entry to the bundle format's fallback index; the legacy `.sig`
 * manifest keeps one layer per distinct payload (cosign skips a duplicate).
 */
export async function cosignSign(opts: CosignSignOptions): Promise<ExecResult> {
  return cosign(cosignSignArgs(opts), opts);
}

export type CosignVerifyOptions = CosignRun & {
  ref: string;
  /** Which storage cosign reads: `bundle` (its default) falls back to `legacy` only when no bundle exists. */
  format?: CosignSignatureFormat;
} & (
    | { publicKeyPath: string }
    | {
        /** A trusted_root.json naming the test CA (createCosignTrustedRoot). */
        trustedRootPath: string;
        identity: string;
        issuer: string;
        /** Needed for bundles signed with a chain (`x509CertificateChain`), which cosign otherwise skips. */
        allowCertificateChain?: boolean;
      }
  );

/**
 * `cosign verify` without transparency log or SCT, to prove a fixture is what
 * cosign itself accepts. Returns the verified payloads (cosign's JSON output).
 */
export async function cosignVerify(opts: CosignVerifyOptions): Promise<unknown[]> {
  const trust =
    'publicKeyPath' in opts
      ? ['--key', opts.publicKeyPath]
      : [
          '--trusted-root',
          opts.trustedRootPath,
          '--certificate-identity',
          opts.identity,
          '--certificate-oidc-issuer',
          opts.issuer,
          '--insecure-ignore-sct=true',
          ...(opts.allowCertificateChain ? ['--allow-certificate-chain'] : []),
        ];
  const { stdout } = await cosign(
    [
      'verify',
      ...trust,
      '--insecure-ignore-tlog=true',
      ...(opts.format ? [`--new-bundle-format=${opts.format === 'bundle'}`] : []),
      opts.ref,
    ],
    opts,
  );
  return JSON.parse(stdout) as unknown[];
}

/**
 * A Sigstore trusted_root.json whose only certificate authority is the test
 * CA (`chainPath`: intermediates then root, PEM), for cosign verify and
 * @sigstore/verify alike. No Rekor, CT log or TSA: verifiers must be told to
 * skip those (there are none in the signatures either).
 */
export async function createCosignTrustedRoot(opts: {
  binary?: string;
  chainPath: string;
  out: string;
  /** Shown as the CA's URL; never contacted. */
  uri?: string;
  /** RFC 3339; the CA is trusted for signatures made from then on. */
  startTime?: string;
}): Promise<string> {
  const uri = opts.uri ?? 'https://ca.dockyard.test';
  const start = opts.startTime ?? '2019-01-01T00:00:00Z';
  for (const value of [uri, opts.chainPath, start]) {
    if (value.includes(',')) throw new Error(`cosign trusted-root create cannot take a comma: ${value}`);
  }
  await cosign(
    [
      'trusted-root',
      'create',
      `--fulcio=url=${uri},certificate-chain=${opts.chainPath},start-time=${start}`,
      '--out',
      opts.out,
    ],
    opts,
  );
  return opts.out;
}

/** Runs cosign with a private HOME (and DOCKER_CONFIG when logging in), removed afterwards. */
async function cosign(args: string[], opts: CosignRun): Promise<ExecResult> {
  const binary = opts.binary ?? (await ensureCosignCli());
  const home = await mkdtemp(join(tmpdir(), 'dockyard-cosign-'));
  try {
    let dockerConfigDir: string | undefined;
    if (opts.registryAuth) {
      dockerConfigDir = join(home, '.docker');
      await mkdir(dockerConfigDir, { mode: 0o700 });
      await writeFile(join(dockerConfigDir, 'config.json'), dockerConfigFor(opts.registryAuth), {
        mode: 0o600,
      });
    }
    const env = cosignEnv({ home, dockerConfigDir, keyPassword: opts.password ?? COSIGN_TEST_PASSWORD });
    return await run(binary, args, { env, timeoutMs: 120_000 });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** `docker login`'s shape: go-containerregistry's default keychain reads it from DOCKER_CONFIG. */
function dockerConfigFor(auth: RegistryLogin): string {
  const token = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  return JSON.stringify({ auths: { [auth.address]: { auth: token } } });
}

// ---------------------------------------------------------------------------
// A test PKI: what a custom Fulcio would issue, made with openssl.

/** The identity and issuer of the GitHub Actions leaves. */
export const TEST_WORKFLOW_IDENTITY =
  'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
export const TEST_WORKFLOW_ISSUER = 'https://token.actions.githubusercontent.com';
/** The identity and issuer of the email leaf. */
export const TEST_EMAIL_IDENTITY = 'release@acme.example';
export const TEST_EMAIL_ISSUER = 'https://accounts.google.com';

export interface TestPki {
  /** Self-signed root (valid 2019–2036). */
  rootPath: string;
  /** Intermediate under the root (valid 2019–2036). */
  intermediatePath: string;
  /** Intermediate then root: what `--certificate-chain` and createCosignTrustedRoot take. */
  chainPath: string;
  /** The one P-256 key all leaves certify, in cosign's format (and as the PEM openssl made). */
  key: CosignKeyPair & { pemPath: string };
  leaves: {
    /** URI SAN TEST_WORKFLOW_IDENTITY, issuer in .1.1 (raw) and .1.8 (DER UTF8String); root-issued; 30 days. */
    workflow: string;
    /** The same identity, issued by the intermediate. */
    workflowViaIntermediate: string;
    /** Email SAN TEST_EMAIL_IDENTITY, issuer TEST_EMAIL_ISSUER (.1.1 and .1.8); root-issued; 30 days. */
    email: string;
    /** Like `workflow` but valid 2020-01-01 – 2021-01-01 only: cosign still signs with it. */
    expired: string;
  };
}

/**
 * Fulcio's issuer extensions, both written as Fulcio does: 1.3.6.1.4.1.57264.1.1
 * holds the bare string (deprecated), .1.8 a DER UTF8String. @sigstore/verify
 * and cosign's bundle path read .1.8 first, then .1.1; cosign's legacy `.sig`
 * path reads only .1.1 (a leaf without it fails "none of the expected
 * identities matched … with issuer " there). The installed openssl (3.0) has
 * no `-not_before`/`-not_after` (3.4+), so certificates are issued with
 * `openssl ca -startdate/-enddate`, which also backdates the CA.
 */
function extensionsConfig(): string {
  const leaf = (san: string, issuer: string) =>
    [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = codeSigning',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      `subjectAltName = critical,${san}`,
      `1.3.6.1.4.1.57264.1.1 = DER:${Buffer.from(issuer).toString('hex')}`,
      `1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:${issuer}`,
    ].join('\n');
  return [
    '[root_ext]',
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
    '[int_ext]',
    'basicConstraints = critical,CA:TRUE,pathlen:0',
    'keyUsage = critical,keyCertSign,cRLSign',
    'extendedKeyUsage = codeSigning',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '[workflow_ext]',
    leaf(`URI:${TEST_WORKFLOW_IDENTITY}`, TEST_WORKFLOW_ISSUER),
    '[email_ext]',
    leaf(`email:${TEST_EMAIL_IDENTITY}`, TEST_EMAIL_ISSUER),
    '',
  ].join('\n');
}

function caConfig(dir: string, certificate: string, privateKey: string): string {
  return [
    '[ca]',
    'default_ca = test_ca',
    '[test_ca]',
    `database = ${join(dir, 'db', 'index.txt')}`,
    `serial = ${join(dir, 'db', 'serial')}`,
    `new_certs_dir = ${join(dir, 'db')}`,
    `certificate = ${certificate}`,
    `private_key = ${privateKey}`,
    'default_md = sha256',
    'policy = any',
    'unique_subject = no',
    'copy_extensions = none',
    '[any]',
    'organizationName = optional',
    'commonName = optional',
    '',
  ].join('\n');
}

/** Builds the test PKI in `dir` (a second or so). */
export async function createTestPki(dir: string, opts: CosignRun = {}): Promise<TestPki> {
  const p = (name: string) => join(dir, name);
  await mkdir(p('db'), { recursive: true });
  await writeFile(p('db/index.txt'), '');
  await writeFile(p('db/serial'), '1000\n');
  await writeFile(p('ext.cnf'), extensionsConfig());
  await writeFile(p('root-ca.cnf'), caConfig(dir, p('root.pem'), p('root.key')));
  await writeFile(p('int-ca.cnf'), caConfig(dir, p('intermediate.pem'), p('intermediate.key')));

  const openssl = (args: string[]) => run('openssl', args);
  const key = (path: string) =>
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path]);
  const csr = (keyPath: string, subject: string, out: string) =>
    openssl(['req', '-new', '-key', keyPath, '-subj', subject, '-out', out]);
  const issue = (o: {
    ca: 'root' | 'int';
    csr: string;
    ext: string;
    out: string;
    validity: string[];
    selfSign?: boolean;
  }) =>
    openssl([
      'ca',
      '-batch',
      '-notext',
      '-config',
      p(`${o.ca}-ca.cnf`),
      ...(o.selfSign ? ['-selfsign'] : []),
      '-in',
      o.csr,
      ...o.validity,
      '-extfile',
      p('ext.cnf'),
      '-extensions',
      o.ext,
      '-out',
      o.out,
    ]);
  const longLived = ['-startdate', '20190101000000Z', '-enddate', '20360101000000Z'];

  await key(p('root.key'));
  await csr(p('root.key'), '/O=Dockyard Test/CN=Dockyard Test Root CA', p('root.csr'));
  await issue({
    ca: 'root',
    csr: p('root.csr'),
    ext: 'root_ext',
    out: p('root.pem'),
    validity: longLived,
    selfSign: true,
  });
  await key(p('intermediate.key'));
  await csr(
    p('intermediate.key'),
    '/O=Dockyard Test/CN=Dockyard Test Intermediate CA',
    p('intermediate.csr'),
  );
  await issue({
    ca: 'root',
    csr: p('intermediate.csr'),
    ext: 'int_ext',
    out: p('intermediate.pem'),
    validity: longLived,
  });

  await key(p('leaf.key'));
  await csr(p('leaf.key'), '/O=Dockyard Test', p('leaf.csr'));
  const days30 = ['-days', '30'];
  await issue({
    ca: 'root',
    csr: p('leaf.csr'),
    ext: 'workflow_ext',
    out: p('leaf-workflow.pem'),
    validity: days30,
  });
  await issue({
    ca: 'int',
    csr: p('leaf.csr'),
    ext: 'workflow_ext',
    out: p('leaf-workflow-int.pem'),
    validity: days30,
  });
  await issue({
    ca: 'root',
    csr: p('leaf.csr'),
    ext: 'email_ext',
    out: p('leaf-email.pem'),
    validity: days30,
  });
  await issue({
    ca: 'root',
    csr: p('leaf.csr'),
    ext: 'workflow_ext',
    out: p('leaf-expired.pem'),
    validity: ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z'],
  });

  const { stdout: intermediate } = await openssl(['x509', '-in', p('intermediate.pem')]);
  const { stdout: root } = await openssl(['x509', '-in', p('root.pem')]);
  await writeFile(p('chain.pem'), intermediate + root);
  const cosignKey = await importCosignKeyPair(p('leaf.key'), p('leaf-cosign'), opts);

  return {
    rootPath: p('root.pem'),
    intermediatePath: p('intermediate.pem'),
    chainPath: p('chain.pem'),
    key: { ...cosignKey, pemPath: p('leaf.key') },
    leaves: {
      workflow: p('leaf-workflow.pem'),
      workflowViaIntermediate: p('leaf-workflow-int.pem'),
      email: p('leaf-email.pem'),
      expired: p('leaf-expired.pem'),
    },
  };
}
