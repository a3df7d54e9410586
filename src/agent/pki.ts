// The Dockyard CA and the certificates it signs, as plain functions over PEM
// strings: no files, no Kubernetes, no clock of their own (`now` is a
// parameter), so the controller can keep the CA in a Secret and the agent its
// key on disk, and tests can pin time. Async only because WebCrypto is.
//
//   certificate      who holds the key      what it is for
//   --------------   --------------------   ---------------------------------------------
//   CA               the controller         signs the two below; CA:true, pathlen 0
//   server           the controller         the agent endpoint's TLS port (serverAuth,
//                                           DNS and IP SANs)
//   agent            the agent (its key     clientAuth; CN = the DockerHost's name and
//                    never leaves the box)  exactly one URI SAN IDENTITY_URI_PREFIX + name
//
// The agent's identity is decided here, by the signer, and never by the CSR:
// whatever subject or SANs a CSR asks for are ignored, so a bootstrap token
// for one host cannot buy a certificate for another. A CSR only contributes
// its public key, and only once its self-signature proves the sender holds
// the private key. Every key is ECDSA P-256 signed with SHA-256.

import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first.
import * as x509 from '@peculiar/x509';
import type { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { IDENTITY_URI_PREFIX } from './protocol.js';

/** A certificate and its private key (PKCS#8), both PEM. */
export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/** Why a request for a certificate was refused: stable words for callers to switch on. */
export type PkiReason = 'InvalidCsr' | 'InvalidHostName' | 'InvalidName';

export class PkiError extends Error {
  override readonly name = 'PkiError';
  constructor(
    readonly reason: PkiReason,
    message: string,
  ) {
    super(message);
  }
}

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };
/** notBefore is backdated this much, so a host whose clock runs a little behind accepts a fresh certificate. */
const CLOCK_SKEW_MS = 60_000;
const DAY_MS = 86_400_000;
// Kubernetes' IsDNS1123Subdomain: this pattern and at most 253 characters.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// A DNS SAN: letters, digits and hyphens in dot-separated labels, optionally a leading wildcard label.
const DNS_NAME = /^(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;
const CSR_PEM = /^-----BEGIN (NEW )?CERTIFICATE REQUEST-----/;

/** Whether `name` can name a DockerHost (a Kubernetes object name: DNS-1123 subdomain, ≤ 253 characters). */
export function isHostName(name: string): boolean {
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

/** A self-signed CA that may sign leaf certificates only (pathlen 0). */
export async function createCa(opts: {
  commonName: string;
  validityDays: number;
  now?: Date;
}): Promise<KeyPairPem> {
  if (!opts.commonName) throw new PkiError('InvalidName', 'a CA needs a common name');
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [opts.commonName] }],
    ...validity(opts.now ?? new Date(), positive(opts.validityDays, 'validityDays') * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** A TLS server certificate with a fresh key; `names` are DNS names or IP addresses, the first is also the CN. */
export async function issueServerCertificate(opts: {
  ca: KeyPairPem;
  names: string[];
  validityDays: number;
  now?: Date;
}): Promise<KeyPairPem> {
  const [commonName] = opts.names;
  if (commonName === undefined)
    throw new PkiError('InvalidName', 'a server certificate needs at least one name');
  const san = opts.names.map(sanEntry);
  const issuer = await loadIssuer(opts.ca);
  const keys = await generateKeys();
  const cert = await signLeaf(issuer, {
    commonName,
    publicKey: keys.publicKey,
    ...validity(opts.now ?? new Date(), positive(opts.validityDays, 'validityDays') * DAY_MS),
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(san),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * The agent's side of enrolment: a fresh key, which stays on the box, and a
 * CSR proving possession of it. The subject it asks for is a courtesy; the
 * signer decides the identity.
 */
export async function createAgentKey(hostName: string): Promise<{ keyPem: string; csrPem: string }> {
  assertHostName(hostName);
  const keys = await generateKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [hostName] }],
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: IDENTITY_URI_PREFIX + hostName }]),
    ],
  });
  return { keyPem: await exportKeyPem(keys.privateKey), csrPem: csr.toString('pem') };
}

/**
 * Parses a CSR and checks its self-signature and key type; returns the public
 * key it carries. Exported so the enrolment API can refuse a bad CSR before it
 * spends a single-use token.
 */
export async function checkAgentCsr(csrPem: string): Promise<x509.PublicKey> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    if (!CSR_PEM.test(csrPem.trimStart())) throw new Error('no PEM header');
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new PkiError('InvalidCsr', 'csrPem is not a PEM-encoded PKCS#10 certificate request');
  }
  const algorithm = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
  if (algorithm.name !== KEY_ALGORITHM.name || algorithm.namedCurve !== KEY_ALGORITHM.namedCurve) {
    throw new PkiError('InvalidCsr', 'the certificate request key must be ECDSA P-256');
  }
  const verified = await csr.verify().catch(() => false);
  if (!verified)
    throw new PkiError('InvalidCsr', 'the certificate request signature does not verify against its own key');
  return csr.publicKey;
}

/**
 * Signs an agent's client certificate for `hostName`. Only the CSR's public
 * key is used; the identity (CN and the single URI SAN) comes from
 * `hostName`. notAfter never passes the CA's own notAfter.
 */
export async function signAgentCsr(opts: {
  ca: KeyPairPem;
  csrPem: string;
  hostName: string;
  validitySeconds: number;
  now?: Date;
}): Promise<{ certPem: string; serial: string; notAfter: Date }> {
  assertHostName(opts.hostName);
  const lifetimeMs = positive(opts.validitySeconds, 'validitySeconds') * 1000;
  const publicKey = await checkAgentCsr(opts.csrPem);
  const issuer = await loadIssuer(opts.ca);
  const { notBefore, notAfter } = validity(opts.now ?? new Date(), lifetimeMs);
  const cappedNotAfter = notAfter > issuer.notAfter ? issuer.notAfter : notAfter;
  const serial = randomSerial();
  const cert = await signLeaf(issuer, {
    commonName: opts.hostName,
    publicKey,
    serial,
    notBefore,
    notAfter: cappedNotAfter,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: IDENTITY_URI_PREFIX + opts.hostName }]),
    ],
  });
  return { certPem: cert.toString('pem'), serial, notAfter: cert.notAfter };
}

/** When a PEM certificate stops being valid. */
export function certificateNotAfter(certPem: string): Date {
  return new x509.X509Certificate(certPem).notAfter;
}

interface Issuer {
  name: x509.Name;
  key: CryptoKey;
  /** The CA's subject key identifier (hex), repeated as the leaf's authority key identifier. */
  keyId: string;
  notAfter: Date;
}

async function loadIssuer(ca: KeyPairPem): Promise<Issuer> {
  const cert = new x509.X509Certificate(ca.certPem);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyId = ski?.keyId ?? Buffer.from(await cert.publicKey.getKeyIdentifier()).toString('hex');
  const key = await crypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.keyPem),
    KEY_ALGORITHM,
    false,
    ['sign'],
  );
  return { name: cert.subjectName, key, keyId, notAfter: cert.notAfter };
}

/** A leaf certificate: not a CA, with key identifiers, plus the purpose-specific `extensions`. */
async function signLeaf(
  issuer: Issuer,
  leaf: {
    commonName: string;
    publicKey: x509.PublicKey | CryptoKey;
    serial?: string;
    notBefore: Date;
    notAfter: Date;
    extensions: x509.Extension[];
  },
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: leaf.serial ?? randomSerial(),
    subject: [{ CN: [leaf.commonName] }],
    issuer: issuer.name,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    publicKey: leaf.publicKey,
    signingKey: issuer.key,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...leaf.extensions,
      await x509.SubjectKeyIdentifierExtension.create(leaf.publicKey),
      new x509.AuthorityKeyIdentifierExtension(issuer.keyId),
    ],
  });
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/**
 * 16 random bytes, upper-case hex. The first byte is kept in 0x40–0x7f: the
 * integer is positive without a DER padding byte and always 32 digits long,
 * so this string is exactly what node:crypto's `serialNumber` prints.
 */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

/** X.509 times have whole seconds: round here so the Date we return is the one in the certificate. */
function validity(now: Date, lifetimeMs: number): { notBefore: Date; notAfter: Date } {
  const start = Math.floor(now.getTime() / 1000) * 1000;
  return { notBefore: new Date(start - CLOCK_SKEW_MS), notAfter: new Date(start + lifetimeMs) };
}

function sanEntry(name: string): x509.JsonGeneralName {
  if (isIP(name) !== 0 && !name.includes('%')) return { type: 'ip', value: name };
  if (name.length <= 253 && DNS_NAME.test(name)) return { type: 'dns', value: name };
  throw new PkiError('InvalidName', `${quote(name)} is neither a DNS name nor an IP address`);
}

function assertHostName(hostName: string): void {
  if (!isHostName(hostName)) {
    throw new PkiError(
      'InvalidHostName',
      `${quote(hostName)} is not a Kubernetes object name (DNS-1123 subdomain, at most 253 characters)`,
    );
  }
}

function positive(value: number, what: string): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${what} must be a positive number, got ${value}`);
  return value;
}

/** Names come from the network: quote them, and not at any length. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
