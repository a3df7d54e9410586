import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  certificateNotAfter,
  checkAgentCsr,
  createAgentKey,
  createCa,
  isHostName,
  issueServerCertificate,
  PkiError,
  signAgentCsr,
  type KeyPairPem,
} from './pki.js';
import { agentIdentity, IDENTITY_URI_PREFIX } from './protocol.js';

const NOW = new Date('2030-01-02T03:04:05.678Z');

let ca: KeyPairPem;
let otherCa: KeyPairPem;

beforeAll(async () => {
  ca = await createCa({ commonName: 'Dockyard agent CA', validityDays: 3650 });
  otherCa = await createCa({ commonName: 'Someone else', validityDays: 3650 });
});

async function refusal(promise: Promise<unknown>): Promise<PkiError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PkiError);
  return error as PkiError;
}

describe('createCa', () => {
  it('is a self-signed P-256 CA for leaves, with critical constraints and a key identifier', async () => {
    const created = await createCa({ commonName: 'Test, CA', validityDays: 10, now: NOW });
    const cert = new X509Certificate(created.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=Test\\, CA');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.validFromDate.toISOString()).toBe('2030-01-02T03:03:05.000Z');
    expect(cert.validToDate.toISOString()).toBe('2030-01-12T03:04:05.000Z');

    const parsed = new x509.X509Certificate(created.certPem);
    const basic = parsed.getExtension(x509.BasicConstraintsExtension);
    expect(basic).toMatchObject({ ca: true, critical: true, pathLength: 0 });
    const usage = parsed.getExtension(x509.KeyUsagesExtension);
    expect(usage?.critical).toBe(true);
    expect(usage?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(parsed.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(parsed.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    expect(created.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});

describe('issueServerCertificate', () => {
  it('carries DNS and IP SANs, is signed by the CA and names it by key identifier', async () => {
    const server = await issueServerCertificate({
      ca,
      names: ['dockyard.example.com', '127.0.0.1', '::1', 'localhost'],
      validityDays: 30,
    });
    const cert = new X509Certificate(server.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.subject).toBe('CN=dockyard.example.com');
    expect(cert.subjectAltName).toBe(
      'DNS:dockyard.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost',
    );
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(otherCa.certPem).publicKey)).toBe(false);
    expect(cert.checkHost('dockyard.example.com')).toBe('dockyard.example.com');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(tls.checkServerIdentity('::1', tlsPeer(cert))).toBeUndefined();

    const aki = new x509.X509Certificate(server.certPem).getExtension(x509.AuthorityKeyIdentifierExtension);
    const ski = new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension);
    expect(aki?.keyId).toBe(ski?.keyId);
  });

  it.each([[[]], [['not a name']], [['under_score.example']], [['fe80::1%eth0']]])(
    'refuses names %j',
    async (names) => {
      expect((await refusal(issueServerCertificate({ ca, names, validityDays: 1 }))).reason).toBe(
        'InvalidName',
      );
    },
  );
});

describe('TLS with a server certificate', () => {
  let server: tls.Server | undefined;
  afterEach(() => server?.close());

  /** Starts a TLS server; resolves with what the client and the server each made of one handshake. */
  async function handshake(
    serverOptions: tls.TlsOptions,
    clientOptions: tls.ConnectionOptions,
  ): Promise<{ clientError?: Error; serverAuthorized?: boolean; serverError?: Error }> {
    const serverSide = new Promise<{ authorized: boolean; error?: Error }>((resolve) => {
      server = tls.createServer(serverOptions, (socket) => {
        resolve({
          authorized: socket.authorized,
          ...(socket.authorizationError ? { error: socket.authorizationError } : {}),
        });
        socket.end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server!.address() as AddressInfo).port;
    const clientError = await new Promise<Error | undefined>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ...clientOptions }, () => {
        socket.end();
        resolve(undefined);
      });
      socket.on('error', resolve);
    });
    if (clientError) return { clientError };
    const seen = await serverSide;
    return { serverAuthorized: seen.authorized, ...(seen.error ? { serverError: seen.error } : {}) };
  }

  let serverCert: KeyPairPem;
  beforeAll(async () => {
    serverCert = await issueServerCertificate({
      ca,
      names: ['controller.local', '127.0.0.1'],
      validityDays: 1,
    });
  });

  it.each([
    ['a DNS name (SNI)', { servername: 'controller.local' }],
    ['an IP address', {}],
  ])('verifies against %s', async (_what, identity) => {
    const result = await handshake(
      { key: serverCert.keyPem, cert: serverCert.certPem },
      { ca: ca.certPem, ...identity },
    );
    expect(result.clientError).toBeUndefined();
  });

  it('fails for a name the certificate does not carry, and for another CA', async () => {
    const serverOptions = { key: serverCert.keyPem, cert: serverCert.certPem };
    const wrongName = await handshake(serverOptions, { ca: ca.certPem, servername: 'other.local' });
    expect((wrongName.clientError as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const wrongCa = await handshake(serverOptions, { ca: otherCa.certPem, servername: 'controller.local' });
    expect(wrongCa.clientError?.message).toMatch(/signature|issuer|verify/i);
  });

  it('authorizes a client certificate of its CA and not one of another CA', async () => {
    const serverOptions = {
      key: serverCert.keyPem,
      cert: serverCert.certPem,
      ca: [ca.certPem],
      requestCert: true,
      rejectUnauthorized: false,
    };
    const ours = await agentCertificate(ca, 'edge-1');
    const theirs = await agentCertificate(otherCa, 'edge-1');
    const good = await handshake(serverOptions, { ca: ca.certPem, servername: 'controller.local', ...ours });
    expect(good).toEqual({ serverAuthorized: true });
    const bad = await handshake(serverOptions, { ca: ca.certPem, servername: 'controller.local', ...theirs });
    expect(bad.serverAuthorized).toBe(false);
    expect(bad.serverError).toBeDefined();
  });
});

describe('signAgentCsr', () => {
  it('binds the certificate to the host, for client authentication only', async () => {
    const { csrPem } = await createAgentKey('edge-1');
    const signed = await signAgentCsr({ ca, csrPem, hostName: 'edge-1', validitySeconds: 3600, now: NOW });
    const cert = new X509Certificate(signed.certPem);
    expect(agentIdentity(cert)).toEqual({
      hostName: 'edge-1',
      serial: signed.serial,
      notAfter: signed.notAfter,
    });
    expect(cert.subjectAltName).toBe(`URI:${IDENTITY_URI_PREFIX}edge-1`);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.validFromDate.toISOString()).toBe('2030-01-02T03:03:05.000Z');
    expect(signed.notAfter.toISOString()).toBe('2030-01-02T04:04:05.000Z');
    expect(certificateNotAfter(signed.certPem)).toEqual(signed.notAfter);
    const usage = new x509.X509Certificate(signed.certPem).getExtension(x509.KeyUsagesExtension);
    expect(usage?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
  });

  it('returns the serial as node:crypto prints it, random each time', async () => {
    const { csrPem } = await createAgentKey('edge-1');
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const signed = await signAgentCsr({ ca, csrPem, hostName: 'edge-1', validitySeconds: 60 });
      expect(signed.serial).toBe(new X509Certificate(signed.certPem).serialNumber);
      expect(signed.serial).toMatch(/^[4-7][0-9A-F]{31}$/);
      serials.add(signed.serial);
    }
    expect(serials.size).toBe(20);
  });

  it('ignores the subject and SANs the CSR asks for', async () => {
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const greedy = await x509.Pkcs10CertificateRequestGenerator.create({
      name: [{ CN: ['edge-2'] }],
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: `${IDENTITY_URI_PREFIX}edge-2` },
          { type: 'dns', value: 'controller.local' },
        ]),
        new x509.BasicConstraintsExtension(true, undefined, true),
      ],
    });
    const signed = await signAgentCsr({
      ca,
      csrPem: greedy.toString('pem'),
      hostName: 'edge-1',
      validitySeconds: 60,
    });
    const cert = new X509Certificate(signed.certPem);
    expect(agentIdentity(cert)?.hostName).toBe('edge-1');
    expect(cert.subject).toBe('CN=edge-1');
    expect(cert.subjectAltName).toBe(`URI:${IDENTITY_URI_PREFIX}edge-1`);
    expect(cert.ca).toBe(false);
    const requested = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(requested);
  });

  it('refuses a CSR whose signature does not match its content', async () => {
    const { csrPem } = await createAgentKey('aaaaaaaa');
    const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
    const at = der.indexOf('aaaaaaaa');
    der.write('bbbbbbbb', at);
    const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    const error = await refusal(
      signAgentCsr({ ca, csrPem: tampered, hostName: 'edge-1', validitySeconds: 60 }),
    );
    expect(error.reason).toBe('InvalidCsr');
    expect(error.message).toMatch(/signature/);
  });

  it.each([
    ['garbage', 'not a csr'],
    ['a certificate', '__CA__'],
    ['a broken PEM body', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'],
  ])('refuses %s as a CSR', async (_what, csrPem) => {
    const input = csrPem === '__CA__' ? ca.certPem : csrPem;
    expect((await refusal(checkAgentCsr(input))).reason).toBe('InvalidCsr');
  });

  it('refuses a CSR for a key that is not P-256', async () => {
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
      'sign',
      'verify',
    ]);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: [{ CN: ['edge-1'] }],
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
    });
    const error = await refusal(checkAgentCsr(csr.toString('pem')));
    expect(error).toMatchObject({ reason: 'InvalidCsr', message: expect.stringMatching(/P-256/) });
  });

  it('never outlives the CA', async () => {
    const shortCa = await createCa({ commonName: 'short', validityDays: 1, now: NOW });
    const { csrPem } = await createAgentKey('edge-1');
    const signed = await signAgentCsr({
      ca: shortCa,
      csrPem,
      hostName: 'edge-1',
      validitySeconds: 7 * 86_400,
      now: NOW,
    });
    expect(signed.notAfter).toEqual(certificateNotAfter(shortCa.certPem));
  });

  it.each(['', 'Edge-1', '-edge', 'edge-', 'edge_1', 'edge/1', 'a..b', 'a'.repeat(254)])(
    'refuses host name %j',
    async (hostName) => {
      expect(isHostName(hostName)).toBe(false);
      const { csrPem } = await createAgentKey('edge-1');
      expect((await refusal(signAgentCsr({ ca, csrPem, hostName, validitySeconds: 60 }))).reason).toBe(
        'InvalidHostName',
      );
      expect((await refusal(createAgentKey(hostName))).reason).toBe('InvalidHostName');
    },
  );

  it.each(['edge-1', 'a', '0', 'edge.site-a.example', 'a'.repeat(253)])(
    'accepts host name %j',
    (hostName) => {
      expect(isHostName(hostName)).toBe(true);
    },
  );
});

/** An agent key and a certificate for it signed by `by`, as tls.connect options. */
async function agentCertificate(by: KeyPairPem, hostName: string): Promise<{ key: string; cert: string }> {
  const { keyPem, csrPem } = await createAgentKey(hostName);
  const signed = await signAgentCsr({ ca: by, csrPem, hostName, validitySeconds: 600 });
  return { key: keyPem, cert: signed.certPem };
}

/** The subset of a TLS peer certificate tls.checkServerIdentity reads. */
function tlsPeer(cert: X509Certificate): tls.PeerCertificate {
  return cert.toLegacyObject();
}
