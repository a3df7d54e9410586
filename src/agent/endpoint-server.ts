// The controller's one public TLS port for edge agents. Agents dial in (their
// hosts open no port); ALPN tells the two kinds of connection apart before a
// single application byte is read:
//
//   agent ──TLS──▶ tls.Server (requestCert, CA not enforced by TLS itself)
//                     │
//                     ├─ ALPN dockyard-agent/1 ─▶ authorized by the CA? identity SAN? authorize()?
//                     │                             yes ─▶ onTunnel(identity, socket)  (TunnelHub.attach)
//                     │                             no  ─▶ log why, destroy
//                     │
//                     └─ ALPN http/1.1 or none ──▶ internal http.Server ─▶ enrolment(req, res)
//
// TLS does not reject a missing or foreign client certificate
// (rejectUnauthorized: false) because enrolment must work without one; the
// tunnel branch checks `socket.authorized` itself.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { agentIdentity, ENROL_ALPN, TUNNEL_ALPN, type AgentIdentity } from './protocol.js';
import { SILENT_LOG, type AgentLog } from './tunnel-http.js';

/** The endpoint's own certificate and the CA that signs agent certificates (PEM). */
export interface EndpointTls {
  certPem: string;
  keyPem: string;
  caPem: string;
}

export interface AgentEndpointOptions {
  listen: { host: string; port: number };
  /** Read at start() and on every reloadTls(), so a rotated certificate needs no restart. */
  tls: () => EndpointTls;
  enrolment: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Is this identity still allowed (host exists, serial not revoked)? */
  authorize: (identity: AgentIdentity) => Promise<boolean>;
  /**
   * Does this replica work on the host (--shards: its shard is held here)?
   * Absent: every host. An agent refused for it redials, and the Service in
   * front of the replicas sends the next dial to one of them at random.
   */
  serves?: (hostName: string) => boolean;
  /** Takes ownership of an admitted tunnel socket. */
  onTunnel: (identity: AgentIdentity, socket: tls.TLSSocket) => void;
  log?: AgentLog;
}

/** Why a tunnel connection was refused: a stable word, logged as `reason`. */
export type TunnelRefusal =
  'no-certificate' | 'untrusted-certificate' | 'no-identity' | 'not-authorized' | 'other-replica';

const REFUSAL_MESSAGES: Record<TunnelRefusal, string> = {
  'no-certificate': 'tunnel refused: no client certificate',
  'untrusted-certificate': 'tunnel refused: client certificate not signed by the Dockyard CA (or expired)',
  'no-identity': 'tunnel refused: client certificate carries no agent identity',
  'not-authorized': 'tunnel refused: host unknown or certificate revoked',
  'other-replica': "tunnel refused: the host's shard is held by another replica (the agent redials)",
};

/** Refusals that are part of normal operation (sharded replicas), logged at info rather than warn. */
const ROUTINE_REFUSALS: ReadonlySet<TunnelRefusal> = new Set(['other-replica']);

/** Idle enrolment connections are dropped after this long (the API is a single request/response). */
const ENROLMENT_IDLE_MS = 30_000;

export class AgentEndpointServer {
  private readonly log: AgentLog;
  private readonly tlsServer: tls.Server;
  private readonly enrolmentServer: http.Server;
  /** Enrolment sockets, destroyed on close (tunnel sockets belong to onTunnel's owner). */
  private readonly enrolmentSockets = new Set<tls.TLSSocket>();
  private closed = false;

  constructor(private readonly options: AgentEndpointOptions) {
    this.log = options.log ?? SILENT_LOG;
    this.enrolmentServer = http.createServer(options.enrolment);
    this.enrolmentServer.setTimeout(ENROLMENT_IDLE_MS);
    // Certificates come in at start() (reloadTls), so a missing Secret fails start(), not construction.
    this.tlsServer = tls.createServer({
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: [TUNNEL_ALPN, ENROL_ALPN],
    });
    this.tlsServer.on('secureConnection', (socket) => this.route(socket));
    this.tlsServer.on('tlsClientError', (err, socket) =>
      this.log.info(
        { err: err.message, remote: socket.remoteAddress },
        'agent endpoint: TLS handshake failed',
      ),
    );
  }

  /** Listens; resolves with the bound port (useful with port 0). */
  async start(): Promise<{ port: number }> {
    const { host, port } = this.options.listen;
    this.reloadTls();
    await new Promise<void>((resolve, reject) => {
      this.tlsServer.once('error', reject);
      this.tlsServer.listen(port, host, () => {
        this.tlsServer.off('error', reject);
        resolve();
      });
    });
    const bound = (this.tlsServer.address() as AddressInfo).port;
    this.log.info({ host, port: bound }, 'agent endpoint listening');
    return { port: bound };
  }

  /** Re-reads options.tls(); new handshakes use it, open connections keep theirs. */
  reloadTls(): void {
    this.tlsServer.setSecureContext(secureContextOptions(this.options.tls()));
  }

  /** Stops accepting and drops enrolment connections. Admitted tunnels are the hub's to close. */
  async close(): Promise<void> {
    this.closed = true;
    // Not awaiting close()'s callback: it waits for every connection, the hub's tunnels included.
    this.tlsServer.close();
    for (const socket of this.enrolmentSockets) socket.destroy();
  }

  private route(socket: tls.TLSSocket): void {
    // Without a listener a reset during authorize() would crash the process.
    socket.on('error', (err) =>
      this.log.info({ err: err.message, remote: socket.remoteAddress }, 'agent endpoint: socket error'),
    );
    if (socket.alpnProtocol === TUNNEL_ALPN) {
      void this.admitTunnel(socket);
      return;
    }
    this.enrolmentSockets.add(socket);
    socket.once('close', () => this.enrolmentSockets.delete(socket));
    this.enrolmentServer.emit('connection', socket);
  }

  private async admitTunnel(socket: tls.TLSSocket): Promise<void> {
    const remote = socket.remoteAddress;
    const verdict = await this.verifyTunnel(socket).catch((err: unknown) => {
      this.log.warn({ err: String(err), remote }, 'tunnel refused: authorize failed');
      return undefined;
    });
    if (verdict === undefined) {
      socket.destroy();
      return;
    }
    if ('refusal' in verdict) {
      const fields = { remote, reason: verdict.refusal, detail: verdict.detail };
      if (ROUTINE_REFUSALS.has(verdict.refusal)) this.log.info(fields, REFUSAL_MESSAGES[verdict.refusal]);
      else this.log.warn(fields, REFUSAL_MESSAGES[verdict.refusal]);
      socket.destroy();
      return;
    }
    // The endpoint may have closed, or the agent gone, while authorize() ran.
    if (this.closed || socket.destroyed) {
      socket.destroy();
      return;
    }
    this.log.info(
      { remote, host: verdict.identity.hostName, serial: verdict.identity.serial },
      'tunnel admitted',
    );
    this.options.onTunnel(verdict.identity, socket);
  }

  /** The checks in order; the first that fails is the reason given. */
  private async verifyTunnel(
    socket: tls.TLSSocket,
  ): Promise<{ identity: AgentIdentity } | { refusal: TunnelRefusal; detail?: string }> {
    const cert = socket.getPeerX509Certificate();
    if (!cert) return { refusal: 'no-certificate' };
    if (!socket.authorized) {
      return { refusal: 'untrusted-certificate', detail: String(socket.authorizationError) };
    }
    const identity = agentIdentity(cert);
    if (!identity) return { refusal: 'no-identity', detail: cert.subject };
    // Before authorize(): a replica without the host's shard need not ask anything.
    if (this.options.serves && !this.options.serves(identity.hostName))
      return { refusal: 'other-replica', detail: identity.hostName };
    if (!(await this.options.authorize(identity))) {
      return { refusal: 'not-authorized', detail: `${identity.hostName} serial ${identity.serial}` };
    }
    return { identity };
  }
}

function secureContextOptions(pem: EndpointTls): tls.SecureContextOptions {
  return { cert: pem.certPem, key: pem.keyPem, ca: pem.caPem };
}
