// The controller's end of the agent tunnels. Controllers keep talking to an
// ordinary Docker unix socket; each request on it becomes one HTTP/2 stream to
// that host's agent, bodies streamed both ways:
//
//   dockerode ──HTTP/1.1──▶ <socketDir>/<host>.sock   (one http.Server per host, ensureHost)
//                              │ no tunnel → 503 {"message": "dockyard-agent: not connected: agent for host …"}
//                              ▼ one request = one stream
//                          ClientHttp2Session ══ over the agent's TLS socket (attach) ══▶ agent ─▶ dockerd
//
//   every heartbeatMs(host):  ping (deadline: the interval)  ┐ either fails → destroy the session;
//                             authorize(identity)            ┘ the agent redials with backoff
//
// Cancellation runs both ways: dockerode ends an event stream by destroying
// its socket, which resets the HTTP/2 stream (and the agent then drops its
// request to dockerd); a stream the agent or the session ends early ends the
// local response with an error, so dockerode sees the failure instead of a
// stream that silently stops.

import { chmod, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type tls from 'node:tls';
import { isHostName } from './pki.js';
import {
  AGENT_DISCONNECTED_PREFIX,
  AGENT_DISCONNECTED_STATUS,
  AGENT_INFO_PATH,
  type AgentIdentity,
  type AgentInfo,
} from './protocol.js';
import {
  errorMessage,
  forwardableHeaders,
  endedCleanly,
  pingWithin,
  SILENT_LOG,
  withDeadline,
  type AgentLog,
} from './tunnel-http.js';

/** What the hub knows about one host's agent; kept after a disconnect so lastSeen stays known. */
export interface AgentConnectionState {
  connected: boolean;
  version?: string;
  connectedSince?: Date;
  lastSeen?: Date;
  /** Connections after the first one since this hub started. */
  reconnects: number;
  rttMs?: number;
  /** Serial of the certificate the current (or last) connection presented. */
  serial?: string;
}

export interface TunnelHubOptions {
  /** Holds one `<host>.sock` per host; created with mode 0700 (whoever can open a socket drives that daemon). */
  socketDir: string;
  /** Read before every heartbeat, so a changed DockerHost spec applies without reconnecting. */
  heartbeatMs: (hostName: string) => number;
  /** Checked at every heartbeat: false closes the tunnel (revocation takes effect within one heartbeat). */
  authorize: (identity: AgentIdentity) => Promise<boolean>;
  /** Connected, disconnected or version learnt. Should only enqueue. */
  onChange: (hostName: string) => void;
  now?: () => Date;
  log?: AgentLog;
}

interface Tunnel {
  identity: AgentIdentity;
  session: http2.ClientHttp2Session;
  heartbeat?: NodeJS.Timeout;
}

interface HostEntry {
  hostName: string;
  /** The local socket's server once ensureHost() ran. */
  listening?: Promise<http.Server>;
  tunnel?: Tunnel;
  state: AgentConnectionState;
  attaches: number;
}

/** Keeps NAT mappings warm between heartbeats on links that drop idle flows quickly. */
const TCP_KEEPALIVE_MS = 15_000;

export class TunnelHub {
  private readonly hosts = new Map<string, HostEntry>();
  private readonly log: AgentLog;
  private readonly now: () => Date;
  private closed = false;

  constructor(private readonly options: TunnelHubOptions) {
    this.log = options.log ?? SILENT_LOG;
    this.now = options.now ?? (() => new Date());
  }

  socketPath(hostName: string): string {
    // A DockerHost name (DNS subdomain) cannot escape socketDir; anything else is refused.
    if (!isHostName(hostName))
      throw new Error(`invalid host name for an agent socket: ${JSON.stringify(hostName)}`);
    return `${this.options.socketDir}/${hostName}.sock`;
  }

  /** Starts the host's local Docker socket (idempotent); resolves with its path. */
  async ensureHost(hostName: string): Promise<string> {
    if (this.closed) throw new Error(`tunnel hub closed: no socket for host ${hostName}`);
    const path = this.socketPath(hostName);
    const entry = this.entry(hostName);
    entry.listening ??= this.listenLocal(hostName, path);
    try {
      await entry.listening;
    } catch (err) {
      entry.listening = undefined;
      throw err;
    }
    return path;
  }

  /** Closes the host's socket and tunnel and forgets its state. */
  async removeHost(hostName: string): Promise<void> {
    const entry = this.hosts.get(hostName);
    if (!entry) return;
    this.hosts.delete(hostName);
    this.dropTunnel(entry);
    await closeLocal(entry);
  }

  /** Takes over an admitted agent socket (AgentEndpointServer's onTunnel). A newer tunnel replaces an older one. */
  attach(identity: AgentIdentity, socket: tls.TLSSocket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const { hostName } = identity;
    const entry = this.entry(hostName);
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    const session = http2.connect('http://agent', { createConnection: () => socket });
    const tunnel: Tunnel = { identity, session };
    // Replace first, then destroy: the old session's close handler sees it is no longer current.
    const previous = entry.tunnel;
    entry.tunnel = tunnel;
    if (previous) {
      this.log.info(
        { host: hostName, serial: previous.identity.serial },
        'agent tunnel replaced by a newer one',
      );
      clearTimeout(previous.heartbeat);
      previous.session.destroy();
    }
    entry.attaches += 1;
    const now = this.now();
    entry.state = {
      connected: true,
      connectedSince: now,
      lastSeen: now,
      reconnects: entry.attaches - 1,
      serial: identity.serial,
    };
    session.on('error', (err) => this.log.warn({ host: hostName, err: err.message }, 'agent tunnel error'));
    session.on('close', () => this.detached(entry, tunnel));
    this.log.info({ host: hostName, serial: identity.serial }, 'agent connected');
    this.options.onChange(hostName);
    this.scheduleHeartbeat(entry, tunnel);
    void this.learnVersion(entry, tunnel);
  }

  state(hostName: string): AgentConnectionState | undefined {
    const state = this.hosts.get(hostName)?.state;
    return state && { ...state };
  }

  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.hosts.values()];
    this.hosts.clear();
    for (const entry of entries) this.dropTunnel(entry);
    await Promise.all(entries.map((entry) => closeLocal(entry)));
  }

  private entry(hostName: string): HostEntry {
    let entry = this.hosts.get(hostName);
    if (!entry) {
      entry = { hostName, state: { connected: false, reconnects: 0 }, attaches: 0 };
      this.hosts.set(hostName, entry);
    }
    return entry;
  }

  private async listenLocal(hostName: string, path: string): Promise<http.Server> {
    await mkdir(this.options.socketDir, { recursive: true, mode: 0o700 });
    await chmod(this.options.socketDir, 0o700);
    // A socket file left by a previous process would make listen() fail with EADDRINUSE.
    await rm(path, { force: true });
    // No request timeout: an image load or build context upload may take as long as it takes, as on dockerd's own socket.
    const server = http.createServer({ requestTimeout: 0 }, (req, res) => this.forward(hostName, req, res));
    server.on('upgrade', (_req, socket: Socket) => refuseUpgrade(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  /** One local request → one HTTP/2 stream to the host's agent. */
  private forward(hostName: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const entry = this.hosts.get(hostName);
    const tunnel = entry?.tunnel;
    if (!tunnel) {
      replyJson(res, AGENT_DISCONNECTED_STATUS, {
        message: notConnectedMessage(hostName, entry?.state.lastSeen),
      });
      return;
    }
    // END_STREAM on the headers tells the agent at once that no body follows.
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = tunnel.session.request(
        { ':method': req.method ?? 'GET', ':path': req.url ?? '/', ...forwardableHeaders(req.headers) },
        { endStream: !hasBody },
      );
    } catch (err) {
      // The session is closing (a GOAWAY or a destroy racing this request).
      replyJson(res, AGENT_DISCONNECTED_STATUS, {
        message: `${AGENT_DISCONNECTED_PREFIX}: agent tunnel for host ${hostName}: ${errorMessage(err)}`,
      });
      return;
    }
    if (hasBody) req.pipe(stream);
    else req.resume();
    relay({ hostName, res, stream });
  }

  private scheduleHeartbeat(entry: HostEntry, tunnel: Tunnel): void {
    const intervalMs = this.options.heartbeatMs(entry.hostName);
    tunnel.heartbeat = setTimeout(() => void this.beat(entry, tunnel, intervalMs), intervalMs);
  }

  /** Ping and authorize side by side, so both a dead link and a revocation act within one interval. */
  private async beat(entry: HostEntry, tunnel: Tunnel, intervalMs: number): Promise<void> {
    const host = entry.hostName;
    const [pinged, allowed] = await Promise.allSettled([
      pingWithin(tunnel.session, intervalMs),
      // A hung check must not stall the heartbeat (and with it dead-link detection).
      withDeadline(this.options.authorize(tunnel.identity), intervalMs, 'authorize'),
    ]);
    if (entry.tunnel !== tunnel) return;
    if (pinged.status === 'rejected') {
      this.log.warn({ host, err: errorMessage(pinged.reason) }, 'agent heartbeat failed: closing the tunnel');
      tunnel.session.destroy();
      return;
    }
    entry.state = { ...entry.state, rttMs: pinged.value, lastSeen: this.now() };
    if (allowed.status === 'fulfilled' && !allowed.value) {
      this.log.warn(
        { host, serial: tunnel.identity.serial },
        'agent no longer authorized: closing the tunnel',
      );
      tunnel.session.destroy();
      return;
    }
    // An API hiccup must not cut every tunnel: keep it and ask again next beat.
    if (allowed.status === 'rejected') {
      this.log.warn(
        { host, err: errorMessage(allowed.reason) },
        'agent authorization check failed; kept for now',
      );
    }
    this.scheduleHeartbeat(entry, tunnel);
  }

  private async learnVersion(entry: HostEntry, tunnel: Tunnel): Promise<void> {
    const host = entry.hostName;
    try {
      const info = await fetchAgentInfo(tunnel.session, this.options.heartbeatMs(host));
      if (entry.tunnel !== tunnel) return;
      // The certificate decides who this is; a disagreeing info only hints at a misconfigured agent.
      if (info.hostName !== host) {
        this.log.warn(
          { host, claimed: info.hostName },
          'agent info names another host; the certificate wins',
        );
      }
      entry.state = { ...entry.state, version: info.version };
      this.options.onChange(host);
    } catch (err) {
      if (entry.tunnel === tunnel) this.log.warn({ host, err: errorMessage(err) }, 'agent info unavailable');
    }
  }

  private detached(entry: HostEntry, tunnel: Tunnel): void {
    clearTimeout(tunnel.heartbeat);
    if (entry.tunnel !== tunnel) return;
    entry.tunnel = undefined;
    entry.state = { ...entry.state, connected: false, rttMs: undefined };
    this.log.info({ host: entry.hostName, lastSeen: entry.state.lastSeen }, 'agent disconnected');
    if (!this.closed) this.options.onChange(entry.hostName);
  }

  private dropTunnel(entry: HostEntry): void {
    const tunnel = entry.tunnel;
    entry.tunnel = undefined;
    if (!tunnel) return;
    clearTimeout(tunnel.heartbeat);
    tunnel.session.destroy();
  }
}

/** Pipes a stream's answer into the local response, cancelling both ways. */
function relay(pair: { hostName: string; res: http.ServerResponse; stream: http2.ClientHttp2Stream }): void {
  const { hostName, res, stream } = pair;
  stream.on('response', (headers) => {
    res.writeHead(Number(headers[':status']), forwardableHeaders(headers));
    stream.pipe(res, { end: false });
  });
  // A torn-down session ends its streams' readable side too; only a clean end may end the response.
  stream.on('end', () => {
    if (endedCleanly(stream) && res.headersSent) res.end();
  });
  // dockerode cancels (an event stream, a pull) by destroying its socket: pass that on as RST_STREAM.
  res.on('close', () => {
    if (!res.writableFinished && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  });
  // Reported through 'close' below, where the response can still be answered or failed.
  stream.on('error', () => {});
  stream.on('close', () => {
    if (res.destroyed || res.writableEnded) return;
    const message = `agent tunnel stream for host ${hostName} ended early (HTTP/2 code ${stream.rstCode})`;
    // No answer came through the tunnel: the tunnel is what failed, not the daemon, so it reads
    // as a disconnected agent (the managed reconcilers then report the host, not the object).
    if (!res.headersSent)
      replyJson(res, AGENT_DISCONNECTED_STATUS, { message: `${AGENT_DISCONNECTED_PREFIX}: ${message}` });
    // Headers are out: cutting the connection is the only way to tell the client the body is incomplete.
    else res.destroy(new Error(message));
  });
}

function notConnectedMessage(hostName: string, lastSeen: Date | undefined): string {
  const seen = lastSeen ? `last seen ${lastSeen.toISOString()}` : 'not seen since the controller started';
  return `${AGENT_DISCONNECTED_PREFIX}: agent for host ${hostName} is not connected (${seen})`;
}

/** GET AGENT_INFO_PATH over the tunnel, answered by the agent itself. */
function fetchAgentInfo(session: http2.ClientHttp2Session, timeoutMs: number): Promise<AgentInfo> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': AGENT_INFO_PATH }, { endStream: true });
    stream.setTimeout(timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => {
      try {
        if (status !== 200) throw new Error(`agent info answered HTTP ${status}`);
        const info = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AgentInfo;
        if (typeof info.version !== 'string') throw new Error('agent info has no version');
        resolve(info);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    stream.on('close', () => reject(new Error(`agent info stream closed (HTTP/2 code ${stream.rstCode})`)));
  });
}

/** Attach and exec hijack the connection; nothing in the controllers uses them, so say so plainly. */
function refuseUpgrade(socket: Socket): void {
  const body = JSON.stringify({
    message: 'HTTP upgrade (attach/exec hijacking) is not supported through the agent tunnel',
  });
  socket.on('error', () => {});
  socket.end(
    'HTTP/1.1 501 Not Implemented\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function replyJson(res: http.ServerResponse, status: number, body: { message: string }): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/** Closing a unix-socket server unlinks its file (libuv does), so a later ensureHost() starts clean. */
async function closeLocal(entry: HostEntry): Promise<void> {
  const server = await entry.listening?.catch(() => undefined);
  if (!server) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
