// The agent's end of the tunnel. The host opens no port: the agent dials out
// to the controller and then, with the roles reversed, serves HTTP/2 on the
// socket it dialled, forwarding each stream to the local Docker daemon:
//
//   runTunnel ──tls.connect (ALPN dockyard-agent/1, client cert)──▶ controller's AgentEndpointServer
//       │
//       │  HTTP/2 server on that socket ◀══ one stream per Engine API request ══ TunnelHub (client)
//       ├─ GET  /_dockyard/agent/info ─▶ info() as JSON
//       ├─ any other /_dockyard/…      ─▶ 404
//       └─ everything else ──http.request──▶ dockerd's unix socket (bodies streamed both ways;
//                                            a reset stream destroys the daemon request)
//
//   POST/DELETE with a body ≤ 1 MiB: buffered whole, onRequest sees it before dockerd does, and
//   onResponse sees a small (Content-Length ≤ 1 MiB, or a 204/304) answer before the controller does.
//
//   socket closed ─▶ wait (full jitter, initialMs doubling to maxMs; reset after a connection
//                    that lasted > 30 s) ─▶ dial again, reading credentials() afresh
//
// The controller pings every heartbeat; the agent also pings the controller
// every livenessMs, so a silently dead path (NAT dropped the flow, the
// controller's node vanished) ends in a redial instead of a socket that
// waits forever.

import http from 'node:http';
import http2 from 'node:http2';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { AGENT_INFO_PATH, AGENT_PATH_PREFIX, TUNNEL_ALPN, type AgentInfo } from './protocol.js';
import {
  endedCleanly,
  errorMessage,
  forwardableHeaders,
  pingWithin,
  serverIdentityOptions,
  SILENT_LOG,
  type AgentLog,
} from './tunnel-http.js';

/** A request the desired-state recorder sees (POST and DELETE whose body is at most 1 MiB). */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

/** Docker's answer to a RecordedRequest; `body` when Docker sent a Content-Length of at most 1 MiB. */
export interface RecordedResponse {
  status: number;
  body?: Buffer;
}

export interface TunnelAgentOptions {
  endpoint: { host: string; port: number };
  /** TLS name to verify the controller's certificate against; defaults to endpoint.host. */
  serverName?: string;
  caPem: string;
  /** Read on every dial, so a renewed certificate is used from the next connection on. */
  credentials: () => { certPem: string; keyPem: string };
  dockerSocketPath: string;
  info: () => AgentInfo;
  /** Default 1 s → 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** How often the agent pings the controller, and how long an answer may take. Default 30 s. */
  livenessMs?: number;
  onState?: (state: { connected: boolean; error?: string }) => void;
  /** Called for POST/DELETE with bodies ≤ 1 MiB, after the body arrived and before Docker sees it. */
  onRequest?: (request: RecordedRequest) => void;
  /**
   * Called for the requests onRequest saw, with Docker's answer, before the
   * controller sees it; the answer waits for a returned promise (so what the
   * controller was told happened is recorded first).
   */
  onResponse?: (request: RecordedRequest, response: RecordedResponse) => void | Promise<void>;
  log?: AgentLog;
}

export interface TunnelAgent {
  /** Stops for good: drops the connection and any request in flight, no further dials. */
  close(): Promise<void>;
  connected(): boolean;
}

const DEFAULT_BACKOFF = { initialMs: 1_000, maxMs: 30_000 };
/** A connection that lasted this long was a real one: the next failure starts the backoff afresh. */
const STABLE_CONNECTION_MS = 30_000;
const DEFAULT_LIVENESS_MS = 30_000;
/** Bounds the TCP + TLS handshake; an endpoint that blackholes SYNs would otherwise take minutes. */
const CONNECT_TIMEOUT_MS = 15_000;
const TCP_KEEPALIVE_MS = 15_000;
/** Bodies the recorder sees are buffered whole; anything larger streams through untouched. */
const RECORDED_BODY_LIMIT = 1024 * 1024;

export function runTunnel(options: TunnelAgentOptions): TunnelAgent {
  const dialer = new TunnelDialer(options);
  const done = dialer.loop();
  return {
    close: async () => {
      dialer.stop();
      await done;
    },
    connected: () => dialer.isConnected,
  };
}

/**
 * The delay before redial number `attempt` (0-based): "full jitter", uniform in
 * [0, min(maxMs, initialMs·2^attempt)), so a controller restart does not bring
 * every agent back in the same instant.
 */
export function backoffDelayMs(
  backoff: { initialMs: number; maxMs: number },
  attempt: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt));
}

/** How one connection ended: acceptedForMs is set when the controller took the tunnel. */
interface ConnectionOutcome {
  acceptedForMs?: number;
  error?: string;
}

class TunnelDialer {
  isConnected = false;
  private stopped = false;
  private readonly stopping = new AbortController();
  private socket?: tls.TLSSocket;
  private readonly log: AgentLog;

  constructor(private readonly options: TunnelAgentOptions) {
    this.log = options.log ?? SILENT_LOG;
  }

  stop(): void {
    this.stopped = true;
    this.stopping.abort();
    this.socket?.destroy();
  }

  async loop(): Promise<void> {
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    let attempt = 0;
    while (!this.stopped) {
      const outcome = await this.connectOnce();
      if (this.stopped) break;
      if ((outcome.acceptedForMs ?? 0) > STABLE_CONNECTION_MS) attempt = 0;
      const delayMs = backoffDelayMs(backoff, attempt);
      attempt += 1;
      this.log.warn({ err: outcome.error, delayMs }, 'tunnel down; dialling again after backoff');
      await sleep(delayMs, undefined, { signal: this.stopping.signal }).catch(() => {});
    }
  }

  /** One dial; resolves when that connection is gone, however it went. */
  private connectOnce(): Promise<ConnectionOutcome> {
    return new Promise((resolve) => {
      let socket: tls.TLSSocket;
      try {
        socket = this.dial();
      } catch (err) {
        // Unreadable credentials or bad PEM: retried with backoff, as the files may not be written yet.
        this.reportState(false, errorMessage(err));
        resolve({ error: errorMessage(err) });
        return;
      }
      this.socket = socket;
      let acceptedAt: number | undefined;
      let error: string | undefined;
      socket.on('error', (err) => (error ??= err.message));
      socket.once('secureConnect', () => {
        socket.setTimeout(0);
        if (socket.alpnProtocol !== TUNNEL_ALPN) {
          socket.destroy(
            new Error(`endpoint did not agree to ${TUNNEL_ALPN} (ALPN: ${socket.alpnProtocol})`),
          );
          return;
        }
        this.serve(socket, () => {
          acceptedAt = Date.now();
          this.log.info({ endpoint: this.options.endpoint }, 'tunnel connected');
          this.reportState(true);
        });
      });
      socket.once('close', () => {
        this.socket = undefined;
        // TLS 1.3 reports a refused client certificate only as the server hanging up.
        error ??=
          acceptedAt === undefined ? 'endpoint closed the connection before accepting the tunnel' : undefined;
        this.reportState(false, error ?? 'tunnel closed');
        resolve({ acceptedForMs: acceptedAt === undefined ? undefined : Date.now() - acceptedAt, error });
      });
    });
  }

  private dial(): tls.TLSSocket {
    const { endpoint, serverName, caPem } = this.options;
    const { certPem, keyPem } = this.options.credentials();
    const socket = tls.connect({
      host: endpoint.host,
      port: endpoint.port,
      ...serverIdentityOptions(endpoint.host, serverName),
      ca: caPem,
      cert: certPem,
      key: keyPem,
      ALPNProtocols: [TUNNEL_ALPN],
    });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connect timed out')));
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    return socket;
  }

  /** Serves HTTP/2 on the dialled socket; onAccepted once the controller's client speaks. */
  private serve(socket: tls.TLSSocket, onAccepted: () => void): void {
    const server = http2.createServer();
    server.on('session', (session) => {
      // The controller starts its HTTP/2 client (and so sends SETTINGS) only once it admitted us.
      session.once('remoteSettings', onAccepted);
      session.on('error', (err) => this.log.warn({ err: err.message }, 'tunnel session error'));
      session.on('stream', (stream, headers) => void this.handleStream(stream, headers));
      this.watchLiveness(session);
    });
    server.emit('connection', socket);
  }

  private watchLiveness(session: http2.ServerHttp2Session): void {
    const livenessMs = this.options.livenessMs ?? DEFAULT_LIVENESS_MS;
    const timer = setInterval(() => {
      pingWithin(session, livenessMs).catch((err: unknown) => {
        this.log.warn({ err: errorMessage(err) }, 'controller stopped answering pings: dropping the tunnel');
        session.destroy();
      });
    }, livenessMs);
    session.once('close', () => clearInterval(timer));
  }

  private async handleStream(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): Promise<void> {
    const method = String(headers[':method'] ?? 'GET');
    const path = String(headers[':path'] ?? '/');
    // A reset stream (a cancelled event stream) is routine; the 'close' handlers clean up.
    stream.on('error', () => {});
    try {
      if (path === AGENT_INFO_PATH) {
        answerJson(stream, 200, this.options.info());
      } else if (path.startsWith(AGENT_PATH_PREFIX)) {
        answerJson(stream, 404, { message: `no such agent endpoint: ${path}` });
      } else {
        await this.forwardToDocker({ stream, method, path, headers: forwardableHeaders(headers) });
      }
    } catch (err) {
      // E.g. http.request refusing a malformed header: answer this stream, keep the tunnel.
      this.log.warn({ err: errorMessage(err), method, path }, 'tunnel request failed');
      if (!stream.headersSent) answerJson(stream, 500, { message: `dockyard agent: ${errorMessage(err)}` });
      else stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  private async forwardToDocker(call: {
    stream: http2.ServerHttp2Stream;
    method: string;
    path: string;
    headers: Record<string, string | string[]>;
  }): Promise<void> {
    const { stream, method, path, headers } = call;
    const read = this.wantsRecording(call) ? await readUpTo(stream, RECORDED_BODY_LIMIT) : undefined;
    if (gone(stream)) return;
    const recorded = read?.complete ? { method, path, headers, body: bodyOrNone(read.body) } : undefined;
    if (recorded) this.callHook('onRequest', () => this.options.onRequest?.(recorded));
    const dockerReq = http.request({ socketPath: this.options.dockerSocketPath, method, path, headers });
    let answered = false;
    dockerReq.on('response', (dockerRes) => {
      dockerRes.once('end', () => (answered = true));
      this.relayAnswer({ stream, dockerRes, recorded }).catch((err: unknown) => {
        this.log.warn({ err: errorMessage(err), method, path }, 'relaying the daemon answer failed');
        if (!gone(stream)) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        dockerReq.destroy();
      });
    });
    dockerReq.on('error', (err) => {
      if (gone(stream)) return;
      if (!stream.headersSent) {
        answerJson(stream, 502, {
          message: `docker daemon at ${this.options.dockerSocketPath}: ${err.message}`,
        });
      } else stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
    // The controller cancelled (or the tunnel died): stop dockerd's side too, e.g. an event stream.
    stream.once('close', () => {
      if (!answered) dockerReq.destroy();
    });
    if (read?.complete || stream.endAfterHeaders) {
      // No body, or all of it here: end() lets Node send a Content-Length instead of chunked encoding.
      dockerReq.end(read?.body);
      return;
    }
    if (read) dockerReq.write(read.body);
    stream.pipe(dockerReq, { end: false });
    // A truncated upload must not reach dockerd as a complete (chunked) body.
    stream.once('end', () => (endedCleanly(stream) ? dockerReq.end() : dockerReq.destroy()));
  }

  private wantsRecording(call: { method: string; headers: Record<string, string | string[]> }): boolean {
    if (!this.options.onRequest || (call.method !== 'POST' && call.method !== 'DELETE')) return false;
    const length = declaredLength(call.headers);
    return length === undefined || length <= RECORDED_BODY_LIMIT;
  }

  /** Docker's answer back onto the stream; buffered first only when the recorder wants it and it is small. */
  private async relayAnswer(answer: {
    stream: http2.ServerHttp2Stream;
    dockerRes: http.IncomingMessage;
    recorded: RecordedRequest | undefined;
  }): Promise<void> {
    const { stream, dockerRes, recorded } = answer;
    if (gone(stream)) return;
    const status = dockerRes.statusCode ?? 502;
    const responseHeaders = { ':status': status, ...forwardableHeaders(dockerRes.headers) };
    dockerRes.once('close', () => {
      if (!dockerRes.complete && !gone(stream)) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
    // A 204 or 304 has no body and so no Content-Length (a start, stop or remove):
    // it is complete at once, and its request must reach the recorder too.
    const length = STATUSES_WITHOUT_BODY.has(status) ? 0 : declaredLength(dockerRes.headers);
    // Only a declared, small length is buffered: a pull's progress stream is a POST answered chunked, for minutes.
    if (recorded && this.options.onResponse && length !== undefined && length <= RECORDED_BODY_LIMIT) {
      const read = await readUpTo(dockerRes, RECORDED_BODY_LIMIT);
      if (!read.complete || gone(stream)) return;
      const response = { status, body: bodyOrNone(read.body) };
      await this.awaitHook('onResponse', async () => this.options.onResponse?.(recorded, response));
      if (gone(stream)) return;
      stream.respond(responseHeaders);
      stream.end(read.body);
      return;
    }
    stream.respond(responseHeaders);
    dockerRes.pipe(stream);
  }

  /** A recorder bug must not break the Docker call it watches. */
  private callHook(name: string, hook: () => void): void {
    try {
      hook();
    } catch (err) {
      this.log.warn({ err: errorMessage(err), hook: name }, 'tunnel hook failed');
    }
  }

  private async awaitHook(name: string, hook: () => Promise<void>): Promise<void> {
    try {
      await hook();
    } catch (err) {
      this.log.warn({ err: errorMessage(err), hook: name }, 'tunnel hook failed');
    }
  }

  private reportState(connected: boolean, error?: string): void {
    this.isConnected = connected;
    this.options.onState?.(error === undefined ? { connected } : { connected, error });
  }
}

/**
 * Reads a body until it ends (complete) or passes `limit` bytes (not
 * complete; what was read is returned and the rest is left in the stream,
 * paused, for a pipe to carry on).
 */
function readUpTo(stream: Readable, limit: number): Promise<{ body: Buffer; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (complete: boolean): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      stream.pause();
      resolve({ body: Buffer.concat(chunks), complete });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onClose = (): void => finish(false);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onClose);
  });
}

const STATUSES_WITHOUT_BODY: ReadonlySet<number> = new Set([204, 304]);

function declaredLength(headers: Record<string, string | string[] | undefined>): number | undefined {
  const value = headers['content-length'];
  if (typeof value !== 'string' || value === '') return undefined;
  const length = Number(value);
  return Number.isFinite(length) ? length : undefined;
}

function bodyOrNone(body: Buffer): Buffer | undefined {
  return body.length > 0 ? body : undefined;
}

/** Reset or destroyed: respond() and close() would throw or do nothing. */
function gone(stream: http2.Http2Stream): boolean {
  return stream.destroyed || stream.closed;
}

function answerJson(stream: http2.ServerHttp2Stream, status: number, body: object): void {
  if (gone(stream)) return;
  const json = JSON.stringify(body);
  stream.respond({
    ':status': status,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  stream.end(json);
}
