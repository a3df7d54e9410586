import type { Logger } from 'pino';
import { ConnectionPool, type HostConnection } from './connection-pool.js';
import type { DockerMetrics } from './docker-metrics.js';
import type { TlsMaterial } from './endpoint.js';
import { DockerEventStream, type DockerEvent, type DockerObjectType } from './event-stream.js';
import { resyncReason, type ResyncReason } from './stream-resync.js';

export type DockerEventListener = (host: string, event: DockerEvent) => void;
/** Everything placed on `host` must be observed again: its event stream may have missed changes. */
export type HostResyncListener = (host: string, reason: ResyncReason) => void;

export interface HostRuntimeOptions {
  metrics: DockerMetrics;
  logger: Logger;
  /** Per Docker API request; the connection pool's default when unset. */
  requestTimeoutMs?: number;
  /** false: never open event streams (`--docker-events=false`); drift is found by the periodic poll only. Default true. */
  eventStreams?: boolean;
}

/**
 * What every controller shares about Docker hosts: the connection pool and
 * one supervised event stream per Ready host, fanned out to listeners (each
 * controller maps events to its own keys). The DockerHost controller decides
 * when a host's stream runs; other controllers only listen. Whenever a host's
 * stream connects after a gap (a drop, or a stop while the host was NotReady,
 * paused or blocked), resync listeners are told to look at every object on
 * that host: Docker's `since` replay keeps only 256 events, so the stream
 * alone may have missed changes and the periodic poll would be the only
 * other way to find them.
 */
export class HostRuntime {
  readonly pool: ConnectionPool;
  private readonly streams = new Map<string, DockerEventStream>();
  private readonly listeners = new Set<DockerEventListener>();
  /** The object types listeners asked for; undefined once one listener wants every type. */
  private eventTypes: Set<DockerObjectType> | undefined = new Set();
  private readonly resyncListeners = new Set<HostResyncListener>();
  /** Hosts whose event stream has connected at least once (since they were last forgotten). */
  private readonly connectedOnce = new Set<string>();
  /** Where each host's last stream stopped, so the next one replays what happened in between. */
  private readonly resumePoints = new Map<string, bigint>();
  /** Hosts whose stream is held off by a fault-injection hook (tests, benchmarks). */
  private readonly blocked = new Set<string>();

  private readonly metrics: DockerMetrics;
  private readonly logger: Logger;
  private readonly eventStreams: boolean;

  constructor(options: HostRuntimeOptions) {
    const { metrics, logger, requestTimeoutMs } = options;
    this.metrics = metrics;
    this.logger = logger;
    this.eventStreams = options.eventStreams ?? true;
    this.pool = new ConnectionPool({
      metrics,
      ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
      responsiveness: {
        onChange: (host, responsive) => {
          if (responsive) logger.info({ host }, 'Docker daemon answers again');
          else
            logger.warn(
              { host },
              'Docker daemon does not answer (not even a ping): failing its requests fast',
            );
        },
      },
    });
  }

  /**
   * Listens to every host's events. `types` names the object types the
   * listener needs: streams follow the union of them (so the managed kinds
   * registered decide it), or every type when a listener gives none. Streams
   * opened before a listener registers keep their filter: register first.
   */
  onDockerEvent(
    listener: DockerEventListener,
    { types }: { types?: readonly DockerObjectType[] } = {},
  ): () => void {
    if (types === undefined) this.eventTypes = undefined;
    else for (const type of types) this.eventTypes?.add(type);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onHostResync(listener: HostResyncListener): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  connection(host: string): HostConnection | undefined {
    return this.pool.get(host);
  }

  /**
   * The connection for a host's current endpoint and TLS material. When
   * either changed, the running event stream still listens to the old daemon
   * (or with the old credentials): it is stopped, and its resume point
   * dropped, since a `since` from another daemon means nothing here. The next
   * ensureEventStream opens a stream on the new connection, and its first
   * connect resyncs every object on the host.
   */
  connect(host: string, endpoint: string, tls: TlsMaterial | undefined): HostConnection {
    const before = this.pool.get(host);
    const conn = this.pool.connect(host, endpoint, tls);
    if (before && before !== conn && this.streams.has(host)) {
      this.logger.info({ host, endpoint }, 'endpoint or credentials changed: restarting the event stream');
      this.stopEventStream(host);
      this.resumePoints.delete(host);
    }
    return conn;
  }

  /** The stream listening to a host's daemon (for tests: it is replaced when the connection is). */
  eventStream(host: string): DockerEventStream | undefined {
    return this.streams.get(host);
  }

  ensureEventStream(host: string): void {
    if (!this.eventStreams || this.streams.has(host) || this.blocked.has(host)) return;
    const since = this.resumePoints.get(host);
    const log = this.logger.child({ host });
    let streamConnectedBefore = false;
    const types = this.eventTypes?.size ? [...this.eventTypes].sort() : undefined;
    const stream = new DockerEventStream({
      host,
      ...(types ? { types } : {}),
      client: () => this.pool.get(host)?.stream,
      onEvent: (event) => {
        for (const listener of this.listeners) {
          try {
            listener(host, event);
          } catch (err) {
            log.error({ err }, 'Docker event listener threw');
          }
        }
      },
      onConnectionChange: (connected, error) => {
        this.metrics.eventStreamConnected(host, connected);
        if (!connected) return log.debug({ err: error }, 'Docker event stream disconnected');
        log.debug('Docker event stream connected');
        const reason = resyncReason({
          streamConnectedBefore,
          hostConnectedBefore: this.connectedOnce.has(host),
        });
        streamConnectedBefore = true;
        this.connectedOnce.add(host);
        if (reason) this.resync(host, reason, log);
      },
      onReconnect: () => this.metrics.eventStreamReconnect(host),
      ...(since !== undefined ? { sinceNano: since } : {}),
    });
    this.streams.set(host, stream);
    stream.start();
  }

  /** Tells every resync listener to enqueue what is on `host`; listeners only enqueue keys. */
  private resync(host: string, reason: ResyncReason, log: Logger): void {
    log.info({ reason }, 'Docker event stream connected after a gap: resyncing every object on the host');
    for (const listener of this.resyncListeners) {
      try {
        listener(host, reason);
      } catch (err) {
        log.error({ err }, 'host resync listener threw');
      }
    }
  }

  stopEventStream(host: string): void {
    const stream = this.streams.get(host);
    const resume = stream?.resumePoint;
    if (resume !== undefined) this.resumePoints.set(host, resume);
    stream?.stop();
    this.streams.delete(host);
    this.metrics.eventStreamConnected(host, false);
  }

  /** Drops a host's stream (it reconnects by itself); for fault-injection tests and benchmarks. */
  cutEventStream(host: string): void {
    this.streams.get(host)?.cut();
  }

  /**
   * Fault injection: stop a host's event stream and keep it stopped (or let it
   * start again). While blocked, drift is found by the periodic poll only.
   * The resume point is kept, so the next stream replays with `since` like a
   * real reconnect after an outage: Docker then returns at most its last 256
   * events, and the resync on connect covers the rest.
   */
  blockEventStream(host: string, blocked: boolean): void {
    if (blocked) {
      this.blocked.add(host);
      this.stopEventStream(host);
    } else {
      this.blocked.delete(host);
    }
  }

  /** Whether the host's event stream is connected now, so a change there comes as an event. */
  followsEvents(host: string): boolean {
    return this.streams.get(host)?.connected ?? false;
  }

  hasEventStream(host: string): boolean {
    return this.streams.has(host);
  }

  /** The host is gone: stop its stream and forget its connection and metrics. */
  forget(host: string): void {
    this.stopEventStream(host);
    this.resumePoints.delete(host);
    this.connectedOnce.delete(host);
    this.pool.remove(host);
    this.metrics.forgetHost(host);
  }

  stop(): void {
    for (const host of [...this.streams.keys()]) this.stopEventStream(host);
  }
}
