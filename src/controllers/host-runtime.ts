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
    if (this.streams.has(host)) return;
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
    });
    this.streams.set(host, stream);
    stream.start();
  }

  stopEventStream(host: string): void {
    this.streams.get(host)?.stop();
    this.streams.delete(host);
    this.metrics.eventStreamConnected(host, false);
  }

  /** Drops a host's stream (it reconnects by itself); for fault-injection tests and benchmarks. */
  cutEventStream(host: string): void {
    this.streams.get(host)?.cut();
  }

  hasEventStream(host: string): boolean {
    return this.streams.has(host);
  }

  /** The host is gone: stop its stream and forget its connection and metrics. */
  forget(host: string): void {
    this.stopEventStream(host);
    this.pool.remove(host);
    this.metrics.forgetHost(host);
  }

  stop(): void {
    for (const host of [...this.streams.keys()]) this.stopEventStream(host);
  }
}
