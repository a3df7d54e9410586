import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEnrolmentHandler,
  enroll,
  EnrolmentError,
  renew,
  type CredentialStore,
  type EnrolmentReason,
  type TokenRefusal,
} from './enrolment.js';
import { createAgentKey, createCa, issueServerCertificate, signAgentCsr, type KeyPairPem } from './pki.js';
import { agentIdentity, ENROL_ALPN, ENROLL_PATH, RENEW_PATH, type AgentIdentity } from './protocol.js';

/** What the controller keeps in Secrets, kept in Maps. */
class MemoryStore implements CredentialStore {
  readonly tokens = new Map<string, { digest: Buffer; expiresAt: number; used: boolean }>();
  readonly issued = new Map<string, Map<string, Date>>();
  failWith: Error | undefined;

  addToken(hostName: string, token: string, ttlMs = 60_000): void {
    this.tokens.set(hostName, { digest: digest(token), expiresAt: Date.now() + ttlMs, used: false });
  }

  /** Forget every certificate of the host (credentials rotated): none of them authorizes any more. */
  revoke(hostName: string): void {
    this.issued.delete(hostName);
  }

  async redeemToken(
    hostName: string,
    token: string,
  ): Promise<{ ok: true } | { ok: false; reason: TokenRefusal; message: string }> {
    if (this.failWith) throw this.failWith;
    const entry = this.tokens.get(hostName);
    if (!entry)
      return { ok: false, reason: 'UnknownHost', message: `no enrolment is pending for host ${hostName}` };
    if (!timingSafeEqual(entry.digest, digest(token))) {
      return { ok: false, reason: 'TokenInvalid', message: 'the token is not the one issued for this host' };
    }
    if (entry.used) return { ok: false, reason: 'TokenUsed', message: 'the token has been used' };
    if (entry.expiresAt <= Date.now())
      return { ok: false, reason: 'TokenExpired', message: 'the token has expired' };
    entry.used = true;
    return { ok: true };
  }

  async isAuthorized(identity: AgentIdentity): Promise<boolean> {
    return this.issued.get(identity.hostName)?.has(identity.serial) ?? false;
  }

  async recordIssued(hostName: string, issued: { serial: string; notAfter: Date }): Promise<void> {
    const serials = this.issued.get(hostName) ?? new Map<string, Date>();
    serials.set(issued.serial, issued.notAfter);
    this.issued.set(hostName, serials);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

let ca: KeyPairPem;
let otherCa: KeyPairPem;
let store: MemoryStore;
let logs: { msg: string; fields: object }[];
let tlsServer: tls.Server;
let endpoint: { host: string; port: number };
const alpnSeen: (string | false | null)[] = [];

beforeAll(async () => {
  ca = await createCa({ commonName: 'Dockyard agent CA', validityDays: 365 });
  otherCa = await createCa({ commonName: 'Another CA', validityDays: 365 });
  const serverCert = await issueServerCertificate({
    ca,
    names: ['controller.local', '127.0.0.1'],
    validityDays: 1,
  });
  const handler = createEnrolmentHandler({
    // One server for the file; each test gets a fresh store behind it.
    store: {
      redeemToken: (...a) => store.redeemToken(...a),
      isAuthorized: (i) => store.isAuthorized(i),
      recordIssued: (...a) => store.recordIssued(...a),
    },
    ca: async () => ca,
    certValiditySeconds: 3600,
    log: (msg, fields) => logs.push({ msg, fields }),
  });
  // As the real endpoint does: TLS first, then sockets that chose http/1.1 go to the HTTP server.
  const httpServer = http.createServer(handler);
  tlsServer = tls.createServer({
    key: serverCert.keyPem,
    cert: serverCert.certPem,
    ca: [ca.certPem],
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: [ENROL_ALPN],
  });
  tlsServer.on('secureConnection', (socket) => {
    alpnSeen.push(socket.alpnProtocol);
    httpServer.emit('connection', socket);
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  endpoint = { host: '127.0.0.1', port: (tlsServer.address() as AddressInfo).port };
});

afterAll(async () => {
  await new Promise((resolve) => tlsServer.close(resolve));
});

beforeEach(() => {
  store = new MemoryStore();
  logs = [];
});

/** The refusal a call ends in. */
async function refused(call: Promise<unknown>): Promise<EnrolmentError> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EnrolmentError);
  return error as EnrolmentError;
}

/** Enrols `hostName` with a fresh token: the agent's key and certificate. */
async function enrolled(hostName: string): Promise<{ keyPem: string; certPem: string; serial: string }> {
  store.addToken(hostName, `token-${hostName}`);
  const { keyPem, csrPem } = await createAgentKey(hostName);
  const answer = await enroll({ endpoint, caPem: ca.certPem, hostName, token: `token-${hostName}`, csrPem });
  return { keyPem, certPem: answer.certPem, serial: new X509Certificate(answer.certPem).serialNumber };
}

/** A raw request, for what enroll/renew would never send. */
function rawPost(
  path: string,
  body: string,
  options: { method?: string; cert?: string; key?: string } = {},
): Promise<{ status: number; body: { reason?: EnrolmentReason; message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        ...endpoint,
        path,
        method: options.method ?? 'POST',
        ca: ca.certPem,
        agent: false,
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('enroll', () => {
  it('issues a certificate whose identity is the host, over ALPN http/1.1', async () => {
    store.addToken('edge-1', 'secret-token-1');
    const { csrPem } = await createAgentKey('edge-1');
    const answer = await enroll({
      endpoint,
      caPem: ca.certPem,
      serverName: 'controller.local',
      hostName: 'edge-1',
      token: 'secret-token-1',
      csrPem,
    });
    const cert = new X509Certificate(answer.certPem);
    const identity = agentIdentity(cert);
    expect(identity?.hostName).toBe('edge-1');
    expect(answer.caPem).toBe(ca.certPem);
    expect(answer.notAfter).toBe(cert.validToDate.toISOString());
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(await store.isAuthorized(identity!)).toBe(true);
    expect(alpnSeen.at(-1)).toBe('http/1.1');
    expect(logs).toEqual([
      {
        msg: 'agent certificate issued',
        fields: expect.objectContaining({ host: 'edge-1', serial: identity!.serial }),
      },
    ]);
    expect(JSON.stringify(logs)).not.toContain('secret-token-1');
  });

  it.each<[string, (s: MemoryStore) => void, string, TokenRefusal]>([
    [
      'a used token',
      (s) => s.tokens.set('edge-1', { ...s.tokens.get('edge-1')!, used: true }),
      'tok',
      'TokenUsed',
    ],
    ['an expired token', (s) => s.addToken('edge-1', 'tok', -1), 'tok', 'TokenExpired'],
    ['a wrong token', () => {}, 'not-the-token', 'TokenInvalid'],
    ['a host with no enrolment pending', (s) => s.tokens.delete('edge-1'), 'tok', 'UnknownHost'],
  ])('refuses %s with 403', async (_what, arrange, token, reason) => {
    store.addToken('edge-1', 'tok');
    arrange(store);
    const { csrPem } = await createAgentKey('edge-1');
    const error = await refused(enroll({ endpoint, caPem: ca.certPem, hostName: 'edge-1', token, csrPem }));
    expect(error).toMatchObject({ status: 403, reason });
    expect(logs[0]).toMatchObject({ msg: 'enrolment request refused', fields: { reason, host: 'edge-1' } });
    expect(JSON.stringify(logs)).not.toContain('tok');
  });

  it('accepts a token once: the second use is TokenUsed', async () => {
    store.addToken('edge-1', 'once');
    const { csrPem } = await createAgentKey('edge-1');
    const opts = { endpoint, caPem: ca.certPem, hostName: 'edge-1', token: 'once', csrPem };
    await enroll(opts);
    expect(await refused(enroll(opts))).toMatchObject({ status: 403, reason: 'TokenUsed' });
  });

  it('refuses a garbage CSR with 400 InvalidCsr before it spends the token', async () => {
    store.addToken('edge-1', 'tok');
    const opts = { endpoint, caPem: ca.certPem, hostName: 'edge-1', token: 'tok' };
    const error = await refused(enroll({ ...opts, csrPem: 'garbage' }));
    expect(error).toMatchObject({ status: 400, reason: 'InvalidCsr' });
    const { csrPem } = await createAgentKey('edge-1');
    await expect(enroll({ ...opts, csrPem })).resolves.toMatchObject({ caPem: ca.certPem });
  });

  it('refuses a body over 64 KiB with 413', async () => {
    store.addToken('edge-1', 'tok');
    const error = await refused(
      enroll({
        endpoint,
        caPem: ca.certPem,
        hostName: 'edge-1',
        token: 'tok',
        csrPem: 'x'.repeat(70 * 1024),
      }),
    );
    expect(error).toMatchObject({ status: 413, reason: 'PayloadTooLarge' });
    expect(store.tokens.get('edge-1')?.used).toBe(false);
  });

  it('refuses a body over 64 KiB with 413 even without a Content-Length', async () => {
    const answer = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        { ...endpoint, path: ENROLL_PATH, method: 'POST', ca: ca.certPem, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('y'.repeat(10 * 1024)); // chunked: no length known up front
      req.end();
    });
    expect(answer).toBe(413);
  });

  it.each([
    ['not JSON', '{', 'BadRequest'],
    ['a JSON array', '[]', 'BadRequest'],
    ['a missing token', JSON.stringify({ hostName: 'edge-1', csrPem: 'x' }), 'BadRequest'],
    [
      'a host name that is no object name',
      JSON.stringify({ hostName: 'Edge_1', token: 't', csrPem: 'x' }),
      'BadRequest',
    ],
  ])('refuses %s with 400', async (_what, body, reason) => {
    expect(await rawPost(ENROLL_PATH, body)).toMatchObject({ status: 400, body: { reason } });
  });

  it('answers 500 Internal when the store fails, without passing its message on', async () => {
    store.failWith = new Error('secrets "bootstrap-edge-1" is forbidden');
    store.addToken('edge-1', 'tok');
    const { csrPem } = await createAgentKey('edge-1');
    const error = await refused(
      enroll({ endpoint, caPem: ca.certPem, hostName: 'edge-1', token: 'tok', csrPem }),
    );
    expect(error).toMatchObject({ status: 500, reason: 'Internal' });
    expect(error.message).not.toContain('forbidden');
    expect(logs[0]).toMatchObject({
      msg: 'enrolment request failed',
      fields: { error: expect.stringContaining('forbidden') },
    });
  });

  it('does not trust a controller whose certificate does not match the name', async () => {
    const error: unknown = await enroll({
      endpoint,
      caPem: ca.certPem,
      serverName: 'elsewhere.local',
      hostName: 'edge-1',
      token: 'tok',
      csrPem: 'x',
    }).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(EnrolmentError);
    expect((error as Error).message).toMatch(/elsewhere\.local/);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('renew', () => {
  it('issues a new certificate for the same host', async () => {
    const first = await enrolled('edge-2');
    const { keyPem, csrPem } = await createAgentKey('edge-2');
    const answer = await renew({
      endpoint,
      caPem: ca.certPem,
      certPem: first.certPem,
      keyPem: first.keyPem,
      csrPem,
    });
    const identity = agentIdentity(new X509Certificate(answer.certPem));
    expect(identity?.hostName).toBe('edge-2');
    expect(identity?.serial).not.toBe(first.serial);
    expect(await store.isAuthorized(identity!)).toBe(true);
    // The renewed certificate renews in turn.
    await expect(
      renew({ endpoint, caPem: ca.certPem, certPem: answer.certPem, keyPem, csrPem }),
    ).resolves.toMatchObject({ caPem: ca.certPem });
  });

  it('signs for the host the certificate names, whatever the body says', async () => {
    const first = await enrolled('edge-2');
    const { csrPem } = await createAgentKey('edge-3');
    const answer = await rawPost(RENEW_PATH, JSON.stringify({ csrPem, hostName: 'edge-3' }), {
      cert: first.certPem,
      key: first.keyPem,
    });
    expect(answer.status).toBe(200);
    const certPem = (answer.body as { certPem: string }).certPem;
    expect(agentIdentity(new X509Certificate(certPem))?.hostName).toBe('edge-2');
  });

  it('refuses a connection without a client certificate with 401', async () => {
    const { csrPem } = await createAgentKey('edge-2');
    expect(await rawPost(RENEW_PATH, JSON.stringify({ csrPem }))).toMatchObject({
      status: 401,
      body: { reason: 'Unauthorized' },
    });
  });

  it('refuses a certificate the store no longer authorizes with 401', async () => {
    const first = await enrolled('edge-2');
    store.revoke('edge-2');
    const { csrPem } = await createAgentKey('edge-2');
    const error = await refused(
      renew({ endpoint, caPem: ca.certPem, certPem: first.certPem, keyPem: first.keyPem, csrPem }),
    );
    expect(error).toMatchObject({ status: 401, reason: 'Unauthorized' });
    expect(logs.at(-1)).toMatchObject({ fields: { host: 'edge-2', reason: 'Unauthorized' } });
  });

  it('refuses a certificate from another CA with 401', async () => {
    await enrolled('edge-2');
    const forged = await createAgentKey('edge-2');
    const signed = await signAgentCsr({
      ca: otherCa,
      csrPem: forged.csrPem,
      hostName: 'edge-2',
      validitySeconds: 600,
    });
    const error = await refused(
      renew({
        endpoint,
        caPem: ca.certPem,
        certPem: signed.certPem,
        keyPem: forged.keyPem,
        csrPem: forged.csrPem,
      }),
    );
    expect(error).toMatchObject({ status: 401, reason: 'Unauthorized' });
  });

  it('refuses a CA-signed certificate that names no agent with 401', async () => {
    const server = await issueServerCertificate({ ca, names: ['edge-2'], validityDays: 1 });
    const { csrPem } = await createAgentKey('edge-2');
    // A serverAuth-only certificate is not even accepted as a TLS client; either way, no identity.
    expect(
      await rawPost(RENEW_PATH, JSON.stringify({ csrPem }), { cert: server.certPem, key: server.keyPem }),
    ).toMatchObject({
      status: 401,
    });
  });

  it('refuses a garbage CSR from an authorized agent with 400 InvalidCsr', async () => {
    const first = await enrolled('edge-2');
    const error = await refused(
      renew({ endpoint, caPem: ca.certPem, certPem: first.certPem, keyPem: first.keyPem, csrPem: 'garbage' }),
    );
    expect(error).toMatchObject({ status: 400, reason: 'InvalidCsr' });
  });
});

describe('routing', () => {
  it.each([
    ['an unknown path', '/v1/other', 'POST', 404, 'NotFound'],
    ['GET on enrol', ENROLL_PATH, 'GET', 405, 'MethodNotAllowed'],
    ['PUT on renew', RENEW_PATH, 'PUT', 405, 'MethodNotAllowed'],
  ])('answers %s with JSON', async (_what, path, method, status, reason) => {
    expect(await rawPost(path, '', { method })).toMatchObject({
      status,
      body: { reason, message: expect.any(String) },
    });
  });
});
