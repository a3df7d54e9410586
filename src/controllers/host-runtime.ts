import type { Logger } from 'pino';
import { ConnectionPool, type HostConnection } from '../docker/connection-pool.js';
import type { DockerMetrics } from '../docker/docker-metrics.js';
import { DockerEventStream, type DockerEvent } from '../docker/event-stream.js';

export type DockerEventListener = (host: string, event: DockerEvent) => void;

/**
 * What every controller shares about Docker hosts: the connection pool and
 * one supervised event stream per Ready host, fanned out to listeners (each
 * controller maps events to its own keys). The DockerHost controller decides
 * when a host's stream runs; other controllers only listen.
 */
export class HostRuntime {
  readonly pool: ConnectionPool;
  private readonly streams = new Map<string, DockerEventStream>();
  private readonly listeners = new Set<DockerEventListener>();
  /** Where each host's last stream stopped, so the next one replays what happened in between. */
  private readonly resumePoints = new Map<string, bigint>();
  /** Hosts whose stream is held off by a fault-injection hook (tests, benchmarks). */
  private readonly blocked = new Set<string>();

  constructor(
    private readonly metrics: DockerMetrics,
    private readonly logger: Logger,
    requestTimeoutMs?: number,
  ) {
    this.pool = new ConnectionPool({
      metrics,
      ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
    });
  }

  onDockerEvent(listener: DockerEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  connection(host: string): HostConnection | undefined {
    return this.pool.get(host);
  }

  ensureEventStream(host: string): void {
    if (this.streams.has(host) || this.blocked.has(host)) return;
    const since = this.resumePoints.get(host);
    const log = this.logger.child({ host });
    const stream = new DockerEventStream({
      host,
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
        if (connected) log.debug('Docker event stream connected');
        else log.debug({ err: error }, 'Docker event stream disconnected');
      },
      onReconnect: () => this.metrics.eventStreamReconnect(host),
      ...(since !== undefined ? { sinceNano: since } : {}),
    });
    this.streams.set(host, stream);
    stream.start();
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
   * start again). Without events, drift is found by the periodic poll only.
   */
  blockEventStream(host: string, blocked: boolean): void {
    if (blocked) {
      this.blocked.add(host);
      this.stopEventStream(host);
      this.resumePoints.delete(host); // a cut stream does not replay: that is the point of the test
    } else {
      this.blocked.delete(host);
    }
  }

  hasEventStream(host: string): boolean {
    return this.streams.has(host);
  }

  /** The host is gone: stop its stream and forget its connection and metrics. */
  forget(host: string): void {
    this.stopEventStream(host);
    this.resumePoints.delete(host);
    this.pool.remove(host);
    this.metrics.forgetHost(host);
  }

  stop(): void {
    for (const host of [...this.streams.keys()]) this.stopEventStream(host);
  }
}
