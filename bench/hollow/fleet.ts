import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { HostBehaviour } from './context.js';
import { EventLog } from './events.js';
import { EngineError, sendEmpty, sendError, sendJson } from './http.js';
import type { StopBehaviour } from './lifecycle.js';
import { findRoute } from './routes.js';
import { HostState, type ImageSeed } from './state.js';
import { API_VERSION } from './system.js';

// Many hollow hosts in one process: ONE http.Server parses every request and
// each host has its own listening socket (127.0.0.1, its own port). A
// connection accepted on a host's port is handed to the shared http.Server,
// which finds the host by the socket's local port. A listening socket costs a
// file descriptor and a few hundred bytes, so 1,000 hosts are 1,000 fds plus
// the clients' connections (the machine allows 20,000), one parser setup and
// one set of handlers, where 1,000 http.Servers would each carry their own
// timers and bookkeeping. Each host still looks like its own daemon to a
// client: its own endpoint, its own state and event stream.

export interface HollowHostOptions {
  /** The daemon's name in /info, and the key for logs. */
  name: string;
  /** Added to every request before it is handled (a far-away edge host). Default 0. */
  latencyMs?: number;
  /** Uniform ± jitter around the latency. Default 0. */
  jitterMs?: number;
  /** Images the host starts with (the lab nodes have the workload image loaded). */
  images?: Array<string | ImageSeed>;
  /** How stops behave; default: the process ignores SIGTERM, as busybox sleep as PID 1 does. */
  stop?: Partial<StopBehaviour>;
  /** References whose pull fails with "not found"; default none. */
  pullFails?: (ref: string) => boolean;
  /**
   * The image already on the host that a reference has the same content as
   * (the lab registry serves the workload image itself): its pull then adds a
   * tag and downloads nothing. Default: every reference is new content.
   */
  sameContentAs?: (ref: string) => string | undefined;
  /** A fixed port; default an ephemeral one. */
  port?: number;
  /** For the jitter; tests pass a seeded one. */
  random?: () => number;
}

export interface HollowHost {
  readonly name: string;
  /** `tcp://127.0.0.1:PORT`, as a DockerHost spec names it. */
  readonly endpoint: string;
  readonly port: number;
  /** The in-memory daemon, for assertions and seeding. */
  readonly state: HostState;
  /**
   * Requests received, by "METHOD /route/{id}" (an unknown path under its raw
   * path), counted on arrival, before the latency: a benchmark counts what a
   * client asked for, including calls that are still waiting. Cumulative;
   * read deltas between two snapshots.
   */
  readonly requests: Map<string, number>;
  stop(): Promise<void>;
}

interface HostEntry {
  host: HollowHost;
  behaviour: HostBehaviour;
  delay: () => number;
  listener: NetServer;
  sockets: Set<Socket>;
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(?=\/)/;

export class HollowFleet {
  private readonly http: Server;
  private readonly byPort = new Map<number, HostEntry>();

  constructor() {
    this.http = createHttpServer((req, res) => void this.handle(req, res));
    // Event streams stay open as long as the client wants.
    this.http.requestTimeout = 0;
    // dockerd's http.Server sets only a ReadHeaderTimeout, no IdleTimeout:
    // an idle keep-alive connection stays open until the client closes it.
    // An idle timeout here (it was 30 s) closed sockets a lagging controller
    // was about to reuse, a failure the daemons being imitated do not cause.
    this.http.keepAliveTimeout = 0;
  }

  get hosts(): HollowHost[] {
    return [...this.byPort.values()].map((e) => e.host);
  }

  /** Every host's request counts summed, by "METHOD /route/{id}" (a snapshot; subtract two for a window). */
  requestTotals(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const { host } of this.byPort.values())
      for (const [label, n] of host.requests) totals.set(label, (totals.get(label) ?? 0) + n);
    return totals;
  }

  async addHost(opts: HollowHostOptions): Promise<HollowHost> {
    const state = new HostState(opts.name, new EventLog());
    for (const seed of opts.images ?? []) state.addImage(typeof seed === 'string' ? { name: seed } : seed);
    const sockets = new Set<Socket>();
    const listener = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      this.http.emit('connection', socket);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: '127.0.0.1', port: opts.port ?? 0, backlog: 511 }, resolve);
    });
    const port = (listener.address() as { port: number }).port;
    state.listenAddress = `127.0.0.1:${port}`;
    const random = opts.random ?? Math.random;
    const latency = opts.latencyMs ?? 0;
    const jitter = opts.jitterMs ?? 0;
    const host: HollowHost = {
      name: opts.name,
      endpoint: `tcp://127.0.0.1:${port}`,
      port,
      state,
      requests: new Map(),
      stop: () => this.removeHost(port),
    };
    this.byPort.set(port, {
      host,
      listener,
      sockets,
      delay: () => Math.max(0, latency + (random() * 2 - 1) * jitter),
      behaviour: {
        stop: { ignoresSigterm: true, ...opts.stop },
        pullFails: opts.pullFails ?? (() => false),
        sameContentAs: opts.sameContentAs ?? (() => undefined),
      },
    });
    return host;
  }

  /** Stops one host like a daemon going away: its port closes and open connections drop. */
  async removeHost(port: number): Promise<void> {
    const entry = this.byPort.get(port);
    if (!entry) return;
    this.byPort.delete(port);
    const closed = new Promise<void>((resolve) => entry.listener.close(() => resolve()));
    for (const s of entry.sockets) s.destroy();
    await closed;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.byPort.keys()].map((port) => this.removeHost(port)));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = this.byPort.get(req.socket.localPort ?? -1);
    if (!entry) return void res.destroy();
    const url = new URL(req.url ?? '/', 'http://hollow');
    const prefix = VERSION_PREFIX.exec(url.pathname);
    const apiVersion = prefix?.[1] ?? API_VERSION;
    const path = prefix ? url.pathname.slice(prefix[0].length) : url.pathname;
    const route = findRoute(req.method ?? 'GET', path);
    const label = route?.label ?? `${req.method ?? 'GET'} ${path}`;
    entry.host.requests.set(label, (entry.host.requests.get(label) ?? 0) + 1);
    const wait = entry.delay();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      if (Number(apiVersion) > Number(API_VERSION))
        throw new EngineError(
          400,
          `client version ${apiVersion} is too new. Maximum supported API version is ${API_VERSION}`,
        );
      if (!route) throw new EngineError(404, 'page not found');
      const reply = await route.handler({
        state: entry.host.state,
        req,
        res,
        params: route.params,
        query: url.searchParams,
        apiVersion,
        behaviour: entry.behaviour,
      });
      if (!reply || res.headersSent) return;
      if (reply.json !== undefined) sendJson(res, reply.status, reply.json, apiVersion);
      else if (reply.text !== undefined) {
        res.writeHead(reply.status, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Api-Version': apiVersion,
        });
        res.end(reply.text);
      } else sendEmpty(res, reply.status, apiVersion);
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof EngineError) sendError(res, err, apiVersion);
      else sendJson(res, 500, { message: (err as Error).message }, apiVersion);
    }
  }
}
