// Both tunnel ends over real TLS on loopback, with a fake Docker daemon on a
// temp unix socket. A "dockerode-like" client is plain http.request on the
// hub's per-host socket, as dockerode's modem does.
//
//   http.request ─▶ hub <dir>/a.sock ═ HTTP/2 over TLS ═ runTunnel ─▶ fake dockerd <dir>/docker.sock

import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentEndpointServer } from './endpoint-server.js';
import { createAgentKey, createCa, issueServerCertificate, signAgentCsr, type KeyPairPem } from './pki.js';
import { TUNNEL_ALPN, type AgentIdentity } from './protocol.js';
import {
  backoffDelayMs,
  runTunnel,
  type RecordedRequest,
  type RecordedResponse,
  type TunnelAgent,
  type TunnelAgentOptions,
} from './tunnel-agent.js';
import { TunnelHub } from './tunnel-hub.js';

const HEARTBEAT_MS = 200;
const WAIT = { timeout: 5_000, interval: 10 };

interface Pki {
  ca: KeyPairPem;
  server: KeyPairPem;
  agents: Record<'a' | 'b', KeyPairPem & { serial: string }>;
  foreignA: KeyPairPem;
}

let pki: Pki;

async function agentCert(ca: KeyPairPem, hostName: string): Promise<KeyPairPem & { serial: string }> {
  const { keyPem, csrPem } = await createAgentKey(hostName);
  const { certPem, serial } = await signAgentCsr({ ca, csrPem, hostName, validitySeconds: 3600 });
  return { certPem, keyPem, serial };
}

beforeAll(async () => {
  const ca = await createCa({ commonName: 'Dockyard agent CA', validityDays: 1 });
  const foreignCa = await createCa({ commonName: 'Someone else', validityDays: 1 });
  pki = {
    ca,
    server: await issueServerCertificate({ ca, names: ['localhost', '127.0.0.1'], validityDays: 1 }),
    agents: { a: await agentCert(ca, 'a'), b: await agentCert(ca, 'b') },
    foreignA: await agentCert(foreignCa, 'a'),
  };
});

// ---------------------------------------------------------------- fake dockerd

interface FakeDocker {
  socketPath: string;
  eventStreamsClosed: number;
  slowClosed: number;
  close(): Promise<void>;
}

async function startFakeDocker(dir: string): Promise<FakeDocker> {
  const fake: FakeDocker = {
    socketPath: join(dir, 'docker.sock'),
    eventStreamsClosed: 0,
    slowClosed: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /_ping' || route === 'HEAD /_ping') {
      res.writeHead(200, { 'api-version': '1.47', 'content-length': 2 }).end('OK');
    } else if (route === 'GET /events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      let n = 0;
      const timer = setInterval(() => res.write(`${JSON.stringify({ n: n++ })}\n`), 50);
      res.on('close', () => {
        clearInterval(timer);
        fake.eventStreamsClosed += 1;
      });
    } else if (route === 'POST /echo') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
    } else if (route === 'POST /containers/create') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const json = JSON.stringify({ Id: 'c0ffee', Received: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        res.end(json);
      });
    } else if (route === 'POST /containers/c0ffee/start') {
      // As dockerd answers a start: 204, no Content-Length (Go's net/http sends none for 204).
      res.writeHead(204).end();
    } else if (route === 'GET /slow') {
      res.on('close', () => (fake.slowClosed += 1));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(fake.socketPath, resolve));
  return fake;
}

// ---------------------------------------------------------------- harness

interface Controller {
  endpoint: AgentEndpointServer;
  hub: TunnelHub;
  port: number;
  changes: string[];
  /** Sockets handed to the hub, so a test can cut one from the controller's side. */
  tunnels: tls.TLSSocket[];
  refusals: string[];
  revokedSerials: Set<string>;
}

let dir: string;
let docker: FakeDocker;
let controller: Controller;
const agents: TunnelAgent[] = [];

/** `serves`: a sharded replica's check (does it hold the host's shard?), asked by the endpoint and the hub. */
async function startController(
  opts: { serves?: (host: string) => boolean; name?: string } = {},
): Promise<Controller> {
  const changes: string[] = [];
  const tunnels: tls.TLSSocket[] = [];
  const refusals: string[] = [];
  const revokedSerials = new Set<string>();
  const authorize = async (identity: AgentIdentity) =>
    !revokedSerials.has(identity.serial) && (opts.serves?.(identity.hostName) ?? true);
  const reasonOf = (obj: object) => (obj as { reason?: string }).reason;
  const hub = new TunnelHub({
    socketDir: join(dir, opts.name ?? 'hosts'),
    heartbeatMs: () => HEARTBEAT_MS,
    authorize,
    onChange: (host) => changes.push(host),
  });
  const endpoint = new AgentEndpointServer({
    listen: { host: '127.0.0.1', port: 0 },
    tls: () => ({ certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem }),
    enrolment: (_req, res) => res.end('enrolment here'),
    authorize,
    ...(opts.serves ? { serves: opts.serves } : {}),
    onTunnel: (identity, socket) => {
      tunnels.push(socket);
      hub.attach(identity, socket);
    },
    log: {
      // Routine refusals (another replica's host) are logged at info, the others at warn.
      info: (obj) => void (reasonOf(obj) && refusals.push(`info:${reasonOf(obj)}`)),
      warn: (obj) => refusals.push(String(reasonOf(obj))),
    },
  });
  const { port } = await endpoint.start();
  return { endpoint, hub, port, changes, tunnels, refusals, revokedSerials };
}

function startAgent(cert: KeyPairPem, overrides: Partial<TunnelAgentOptions> = {}): TunnelAgent {
  const agent = runTunnel({
    endpoint: { host: '127.0.0.1', port: controller.port },
    caPem: pki.ca.certPem,
    credentials: () => cert,
    dockerSocketPath: docker.socketPath,
    info: () => ({ version: '1.2.3', hostName: 'a', startedAt: '2030-01-01T00:00:00Z' }),
    backoff: { initialMs: 20, maxMs: 100 },
    ...overrides,
  });
  agents.push(agent);
  return agent;
}

/** A TCP relay in front of the endpoint whose open connections can be frozen: a path that silently died. */
async function startFreezableRelay(): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  const pairs: [net.Socket, net.Socket][] = [];
  const frozen: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(controller.port, '127.0.0.1');
    for (const socket of [client, upstream]) socket.on('error', () => {});
    client.pipe(upstream).pipe(client);
    pairs.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => {
      for (const [client, upstream] of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        frozen.push(client, upstream);
      }
    },
    close: () => {
      for (const socket of frozen.splice(0)) socket.destroy();
      for (const pair of pairs.splice(0)) pair.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
/** A Service in front of replicas: each new connection goes to the next port in turn. */
async function startRoundRobin(ports: number[]): Promise<{ port: number; close(): Promise<void> }> {
  const open = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(ports[next++ % ports.length]!, '127.0.0.1');
    for (const socket of [client, upstream]) {
      socket.on('error', () => {});
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dockyard-tunnel-'));
  docker = await startFakeDocker(dir);
  controller = await startController();
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
  await controller.endpoint.close();
  await controller.hub.close();
  await docker.close();
  await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- client

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function call(socketPath: string, opts: { method?: string; path: string; body?: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = opts.body ? { 'content-length': opts.body.length } : {};
    const req = http.request({
      socketPath,
      method: opts.method ?? 'GET',
      path: opts.path,
      headers,
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.end(opts.body);
  });
}

/** Opens GET /events and resolves once `lines` lines arrived, with the response still open. */
function openEvents(
  socketPath: string,
  lines: number,
): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/events', agent: false });
    req.on('error', () => {});
    req.on('response', (res) => {
      let seen = '';
      res.on('error', () => {});
      res.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.split('\n').length - 1 >= lines) resolve({ req, res });
      });
      res.on('end', () => reject(new Error('event stream ended')));
    });
    req.end();
  });
}

async function connectedHost(host: 'a' | 'b'): Promise<string> {
  const socketPath = await controller.hub.ensureHost(host);
  startAgent(pki.agents[host]);
  await vi.waitFor(() => expect(controller.hub.state(host)?.connected).toBe(true), WAIT);
  return socketPath;
}

// ---------------------------------------------------------------- tests

describe('tunnel: requests through the hub socket', () => {
  it('answers /_ping and reports the agent version in state()', async () => {
    const socketPath = await connectedHost('a');
    const answer = await call(socketPath, { path: '/_ping' });
    expect(answer).toMatchObject({
      status: 200,
      body: Buffer.from('OK'),
      headers: { 'api-version': '1.47' },
    });
    expect(await call(socketPath, { method: 'HEAD', path: '/_ping' })).toMatchObject({
      status: 200,
      body: Buffer.alloc(0),
    });
    await vi.waitFor(() => expect(controller.hub.state('a')?.version).toBe('1.2.3'), WAIT);
    expect(controller.hub.state('a')).toMatchObject({
      connected: true,
      reconnects: 0,
      serial: pki.agents.a.serial,
    });
    await vi.waitFor(() => expect(controller.hub.state('a')?.rttMs).toBeTypeOf('number'), WAIT);
  });

  it('carries a 5 MiB body both ways', async () => {
    const socketPath = await connectedHost('a');
    const body = randomBytes(5 * 1024 * 1024);
    const answer = await call(socketPath, { method: 'POST', path: '/echo', body });
    expect(answer.status).toBe(200);
    expect(answer.body.equals(body)).toBe(true);
  });

  it('streams events incrementally and a local cancel closes them at the daemon', async () => {
    const socketPath = await connectedHost('a');
    const { req } = await openEvents(socketPath, 3);
    expect(docker.eventStreamsClosed).toBe(0);
    req.destroy();
    await vi.waitFor(() => expect(docker.eventStreamsClosed).toBe(1), WAIT);
  });

  it('a cancelled request that Docker never answered is dropped at the daemon too', async () => {
    const socketPath = await connectedHost('a');
    const req = http.request({ socketPath, path: '/slow', agent: false });
    req.on('error', () => {});
    req.end();
    await vi.waitFor(() => expect(req.socket?.writable).toBe(true), WAIT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    await vi.waitFor(() => expect(docker.slowClosed).toBe(1), WAIT);
  });

  it('ends the local response with an error when the tunnel dies mid-stream', async () => {
    const socketPath = await connectedHost('a');
    const { res } = await openEvents(socketPath, 1);
    const ended = new Promise<boolean>((resolve) => res.on('close', () => resolve(res.complete)));
    controller.tunnels[0]!.destroy();
    expect(await ended).toBe(false);
    await vi.waitFor(() => expect(docker.eventStreamsClosed).toBe(1), WAIT);
  });

  it('answers 503 with a message while the agent is not connected', async () => {
    const socketPath = await controller.hub.ensureHost('a');
    const answer = await call(socketPath, { path: '/_ping' });
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body.toString())).toEqual({
      message:
        'dockyard-agent: not connected: agent for host a is not connected (not seen since the controller started)',
    });
  });

  it('answers an HTTP upgrade (attach/exec) with 501', async () => {
    const socketPath = await connectedHost('a');
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        socketPath,
        method: 'POST',
        path: '/containers/x/attach',
        headers: { connection: 'Upgrade', upgrade: 'tcp' },
        agent: false,
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(501);
  });

  it('passes small POST bodies and their answers to the recorder hooks', async () => {
    const socketPath = await controller.hub.ensureHost('a');
    const requests: RecordedRequest[] = [];
    const responses: RecordedResponse[] = [];
    startAgent(pki.agents.a, {
      onRequest: (r) => requests.push(r),
      onResponse: (_r, s) => {
        responses.push(s);
      },
    });
    await vi.waitFor(() => expect(controller.hub.state('a')?.connected).toBe(true), WAIT);
    const body = Buffer.from(JSON.stringify({ Image: 'nginx' }));
    const answer = await call(socketPath, { method: 'POST', path: '/containers/create', body });
    expect(answer.status).toBe(201);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(requests).toMatchObject([{ method: 'POST', path: '/containers/create', body }]);
    expect(responses).toEqual([{ status: 201, body: answer.body }]);
    // A start's 204 carries no Content-Length; the recorder still sees it before the controller.
    const started = await call(socketPath, { method: 'POST', path: '/containers/c0ffee/start' });
    expect(started.status).toBe(204);
    expect(started.headers['content-length']).toBeUndefined();
    expect(requests.map((r) => r.path)).toEqual(['/containers/create', '/containers/c0ffee/start']);
    expect(responses).toEqual([
      { status: 201, body: answer.body },
      { status: 204, body: undefined },
    ]);
    // A GET is not the recorder's business.
    await call(socketPath, { path: '/_ping' });
    expect(requests).toHaveLength(2);
  });

  it("holds Docker's answer until the recorder has saved it (the controller never hears of a start a power cut could lose)", async () => {
    const socketPath = await controller.hub.ensureHost('a');
    let saved: (() => void) | undefined;
    let answered = false;
    startAgent(pki.agents.a, {
      onRequest: () => {},
      onResponse: () => new Promise<void>((resolve) => (saved = resolve)),
    });
    await vi.waitFor(() => expect(controller.hub.state('a')?.connected).toBe(true), WAIT);
    const body = Buffer.from(JSON.stringify({ Image: 'nginx' }));
    const answer = call(socketPath, { method: 'POST', path: '/containers/create', body }).then((a) => {
      answered = true;
      return a;
    });
    await vi.waitFor(() => expect(saved).toBeDefined(), WAIT);
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).toBe(false);
    saved?.();
    expect((await answer).status).toBe(201);
  });
});

describe('tunnel: connection lifecycle', () => {
  it('reconnects after the controller closes the session, reading credentials again', async () => {
    const socketPath = await controller.hub.ensureHost('a');
    let dials = 0;
    startAgent(pki.agents.a, { credentials: () => (dials++, pki.agents.a) });
    await vi.waitFor(() => expect(controller.hub.state('a')?.connected).toBe(true), WAIT);
    controller.tunnels[0]!.destroy();
    await vi.waitFor(
      () => expect(controller.hub.state('a')).toMatchObject({ connected: true, reconnects: 1 }),
      WAIT,
    );
    expect(dials).toBe(2);
    // connect, disconnect, connect (each version learnt adds one more).
    expect(controller.changes.filter((host) => host === 'a').length).toBeGreaterThanOrEqual(3);
    expect((await call(socketPath, { path: '/_ping' })).status).toBe(200);
  });

  it('closes the session within one heartbeat once authorize says no, and refuses the redial', async () => {
    const socketPath = await controller.hub.ensureHost('a');
    const states: { connected: boolean; error?: string }[] = [];
    const agent = startAgent(pki.agents.a, { onState: (state) => states.push(state) });
    await vi.waitFor(() => expect(agent.connected()).toBe(true), WAIT);
    expect(controller.hub.state('a')?.connected).toBe(true);
    const revokedAt = Date.now();
    controller.revokedSerials.add(pki.agents.a.serial);
    await vi.waitFor(() => expect(controller.hub.state('a')?.connected).toBe(false), WAIT);
    // The next beat is at most one interval away; allow for its ping round trip and scheduling.
    expect(Date.now() - revokedAt).toBeLessThan(HEARTBEAT_MS + 200);
    await vi.waitFor(() => expect(controller.refusals).toContain('not-authorized'), WAIT);
    // The agent hears of the refusal a moment after the endpoint logs it.
    await vi.waitFor(
      () =>
        expect(states).toContainEqual({
          connected: false,
          error: 'endpoint closed the connection before accepting the tunnel',
        }),
      WAIT,
    );
    expect(agent.connected()).toBe(false);
    expect(states[0]).toEqual({ connected: true });
    const answer = await call(socketPath, { path: '/_ping' });
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body.toString()).message).toMatch(
      /^dockyard-agent: not connected: agent for host a is not connected \(last seen /,
    );
  });

  it('registers a certificate for host "b" as b, never as a', async () => {
    const socketA = await controller.hub.ensureHost('a');
    const socketB = await connectedHost('b');
    expect(controller.hub.state('a')).toMatchObject({ connected: false });
    expect((await call(socketA, { path: '/_ping' })).status).toBe(503);
    expect((await call(socketB, { path: '/_ping' })).status).toBe(200);
  });

  it('a connection gone silent is dropped by the heartbeat on both ends, and the agent redials', async () => {
    const socketPath = await controller.hub.ensureHost('a');
    const relay = await startFreezableRelay();
    try {
      startAgent(pki.agents.a, { endpoint: { host: '127.0.0.1', port: relay.port }, livenessMs: 300 });
      await vi.waitFor(() => expect(controller.hub.state('a')?.connected).toBe(true), WAIT);
      const frozenAt = Date.now();
      relay.freeze();
      await vi.waitFor(() => expect(controller.hub.state('a')?.connected).toBe(false), WAIT);
      // At most one interval to the next beat, then one interval for the unanswered ping.
      expect(Date.now() - frozenAt).toBeLessThan(2 * HEARTBEAT_MS + 200);
      await vi.waitFor(
        () => expect(controller.hub.state('a')).toMatchObject({ connected: true, reconnects: 1 }),
        WAIT,
      );
      expect((await call(socketPath, { path: '/_ping' })).status).toBe(200);
    } finally {
      await Promise.all(agents.splice(0).map((agent) => agent.close()));
      await relay.close();
    }
  });

  it('a newer tunnel for the same host replaces the older one', async () => {
    const socketPath = await connectedHost('a');
    startAgent(pki.agents.a);
    await vi.waitFor(() => expect(controller.tunnels[0]?.destroyed).toBe(true), WAIT);
    expect(controller.hub.state('a')?.reconnects).toBeGreaterThanOrEqual(1);
    // Two agents with one certificate keep displacing each other (the log says so); stop the first.
    await agents[0]!.close();
    // The hub may still hold the first agent's tunnel for a moment after close()
    // (its end has not seen the FIN yet): wait for the survivor to serve.
    await vi.waitFor(async () => expect((await call(socketPath, { path: '/_ping' })).status).toBe(200), WAIT);
    expect(controller.hub.state('a')?.connected).toBe(true);
  });

  it('closing the endpoint stops new connections but leaves admitted tunnels to the hub', async () => {
    const socketPath = await connectedHost('a');
    await controller.endpoint.close();
    expect((await call(socketPath, { path: '/_ping' })).status).toBe(200);
    await controller.hub.removeHost('a');
    expect(controller.hub.state('a')).toBeUndefined();
    await expect(call(socketPath, { path: '/_ping' })).rejects.toThrow(/ENOENT/);
  });
});

describe('agent endpoint', () => {
  function dialTunnel(cert?: KeyPairPem): Promise<void> {
    return new Promise((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: controller.port,
        ca: pki.ca.certPem,
        ALPNProtocols: [TUNNEL_ALPN],
        ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve());
    });
  }

  it('refuses a tunnel with a certificate from another CA', async () => {
    await dialTunnel(pki.foreignA);
    expect(controller.refusals).toEqual(['untrusted-certificate']);
    expect(controller.tunnels).toHaveLength(0);
  });

  it('refuses a tunnel without a certificate', async () => {
    await dialTunnel();
    expect(controller.refusals).toEqual(['no-certificate']);
    expect(controller.tunnels).toHaveLength(0);
  });

  it('serves a reloaded certificate to new connections', async () => {
    const fingerprint = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: controller.port, ca: pki.ca.certPem }, () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.destroy();
        });
        socket.on('error', reject);
      });
    const before = await fingerprint();
    pki.server = await issueServerCertificate({ ca: pki.ca, names: ['127.0.0.1'], validityDays: 1 });
    controller.endpoint.reloadTls();
    const after = await fingerprint();
    expect(after).not.toBe(before);
    expect(after).toBe(new X509Certificate(pki.server.certPem).fingerprint256);
  });

  it('hands connections without the tunnel ALPN to the enrolment handler', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1',
        port: controller.port,
        ca: pki.ca.certPem,
        path: '/v1/enroll',
        agent: false,
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('enrolment here');
  });
});

describe('sharded replicas behind one Service', () => {
  it("refuses an agent at the replica without its host's shard; it redials to the holder, and follows the shard when it moves", async () => {
    let holderOfA: 'one' | 'two' = 'two';
    const one = await startController({ name: 'one', serves: (host) => host === 'a' && holderOfA === 'one' });
    const two = await startController({ name: 'two', serves: (host) => host === 'a' && holderOfA === 'two' });
    // The first dial reaches replica one, which does not hold the shard.
    const service = await startRoundRobin([one.port, two.port]);
    try {
      const [socketOne, socketTwo] = await Promise.all([one.hub.ensureHost('a'), two.hub.ensureHost('a')]);
      startAgent(pki.agents.a, { endpoint: { host: '127.0.0.1', port: service.port } });
      await vi.waitFor(() => expect(two.hub.state('a')?.connected).toBe(true), WAIT);
      expect(one.refusals).toContain('info:other-replica');
      expect(one.tunnels).toHaveLength(0);
      expect((await call(socketTwo, { path: '/_ping' })).status).toBe(200);
      expect((await call(socketOne, { path: '/_ping' })).status).toBe(503);
      // The shard moves to replica one: two's heartbeat drops the tunnel, the agent lands on one.
      holderOfA = 'one';
      await vi.waitFor(() => expect(one.hub.state('a')?.connected).toBe(true), WAIT);
      expect(two.hub.state('a')?.connected).toBe(false);
      expect(two.tunnels[0]?.destroyed).toBe(true);
      expect((await call(socketOne, { path: '/_ping' })).status).toBe(200);
    } finally {
      await service.close();
      for (const replica of [one, two]) {
        await replica.endpoint.close();
        await replica.hub.close();
      }
    }
  });
});

describe('backoffDelayMs', () => {
  it.each([
    { attempt: 0, random: 0.5, expected: 500 },
    { attempt: 1, random: 0.5, expected: 1_000 },
    { attempt: 3, random: 0.999, expected: 7_992 },
    { attempt: 10, random: 0.5, expected: 15_000 },
    { attempt: 2000, random: 0.5, expected: 15_000 },
    { attempt: 4, random: 0, expected: 0 },
  ])('attempt $attempt, random $random → $expected ms', ({ attempt, random, expected }) => {
    expect(backoffDelayMs({ initialMs: 1_000, maxMs: 30_000 }, attempt, () => random)).toBe(expected);
  });
});
