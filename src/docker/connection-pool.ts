import { loopClock } from './loop-clock.js';
import { createHash } from 'node:crypto';
import Dockerode from 'dockerode';
import { noopDockerMetrics, type DockerMetrics } from './docker-metrics.js';
import { dockerOptions, parseEndpoint, type TlsMaterial } from './endpoint.js';
import { instrumentClient } from './instrument.js';
import { retryResetsOnReusedSockets } from './keep-alive.js';
import { ResponsivenessGuard, type ResponsivenessOptions } from './responsiveness.js';

/** A live connection to one DockerHost. */
export interface HostConnection {
  readonly host: string;
  readonly endpoint: string;
  /** Requests are bounded by the pool's timeout. */
  readonly api: Dockerode;
  /** No idle timeout: for event streams and pull progress. */
  readonly stream: Dockerode;
  /** Changes whenever the endpoint or TLS material changes. */
  readonly fingerprint: string;
}

export interface ConnectionPoolOptions {
  /**
   * Per-request (socket idle) timeout, so one hung host never blocks a worker
   * for long. Default 30 s: long enough for a create or a pull to answer.
   * Calls that legitimately take longer (stop with a grace period, event
   * streams, pulls) use the `stream` client without a timeout.
   */
  requestTimeoutMs?: number;
  /** Request counts and latency per host and operation. */
  metrics?: DockerMetrics;
  /** Hung-daemon detection for `api` requests (see responsiveness.ts); tests shorten it. */
  responsiveness?: Pick<ResponsivenessOptions, 'suspectAfterMs' | 'pingTimeoutMs' | 'onChange'>;
}

/**
 * One dockerode client pair per DockerHost, rebuilt when the endpoint or TLS
 * material changes (the fingerprint covers both, hashed so no key material is
 * kept in a comparable string).
 */
export class ConnectionPool {
  private readonly connections = new Map<string, HostConnection>();
  /** Per host: fails `api` requests fast while the daemon answers neither them nor a ping. */
  private readonly guards = new Map<string, ResponsivenessGuard>();
  private readonly timeoutMs: number;
  private readonly metrics: DockerMetrics;
  private readonly responsiveness: ConnectionPoolOptions['responsiveness'];

  constructor(opts: ConnectionPoolOptions = {}) {
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.metrics = opts.metrics ?? noopDockerMetrics;
    this.responsiveness = opts.responsiveness;
  }

  static fingerprint(endpoint: string, tls: TlsMaterial | undefined): string {
    const h = createHash('sha256').update(endpoint);
    if (tls)
      h.update('\0')
        .update(tls.ca)
        .update('\0')
        .update(tls.cert)
        .update('\0')
        .update(tls.key)
        .update('\0')
        .update(tls.serverName ?? '');
    return h.digest('hex').slice(0, 16);
  }

  /** The connection for `host`, created or rebuilt as needed. */
  connect(
    host: string,
    endpoint: string,
    tls: TlsMaterial | undefined,
    timeoutMs = this.timeoutMs,
  ): HostConnection {
    const fingerprint = `${ConnectionPool.fingerprint(endpoint, tls)}/${timeoutMs}`;
    const existing = this.connections.get(host);
    if (existing && existing.fingerprint === fingerprint) return existing;
    this.guards.get(host)?.close();
    const parsed = parseEndpoint(endpoint);
    const api = instrumentClient(new Dockerode(dockerOptions(parsed, tls, timeoutMs)), host, this.metrics);
    const stream = new Dockerode(dockerOptions(parsed, tls, 0));
    retryResetsOnReusedSockets(api.modem);
    retryResetsOnReusedSockets(stream.modem);
    // The ping goes through the stream client (no socket timeout of its own,
    // not guarded) with its own deadline.
    const pinger = stream as unknown as { ping(o: { abortSignal: AbortSignal }): Promise<unknown> };
    const guard = new ResponsivenessGuard({
      host,
      ...this.responsiveness,
      // In usable time: a saturated controller must not blame a daemon for its own lag.
      ping: (ms) => pinger.ping({ abortSignal: loopClock.timeout(ms) }),
    });
    guard.guard(api.modem as unknown as Parameters<ResponsivenessGuard['guard']>[0]);
    const conn: HostConnection = { host, endpoint, fingerprint, api, stream };
    this.connections.set(host, conn);
    this.guards.set(host, guard);
    return conn;
  }

  get(host: string): HostConnection | undefined {
    return this.connections.get(host);
  }

  remove(host: string): void {
    this.guards.get(host)?.close();
    this.guards.delete(host);
    this.connections.delete(host);
  }

  hosts(): string[] {
    return [...this.connections.keys()];
  }
}
