import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Dockyard's Docker-side metrics; one instance per process registry. */
export interface DockerMetrics {
  hostUp(host: string, up: boolean): void;
  forgetHost(host: string): void;
  request(host: string, operation: string, outcome: 'ok' | 'error', seconds: number): void;
  eventStreamReconnect(host: string): void;
  eventStreamConnected(host: string, connected: boolean): void;
}

export function createDockerMetrics(registry: Registry): DockerMetrics {
  const registers = [registry];
  const up = new Gauge({
    name: 'dockyard_host_up',
    help: '1 when the DockerHost answered its last heartbeat, 0 otherwise',
    labelNames: ['host'] as const,
    registers,
  });
  const requests = new Counter({
    name: 'dockyard_docker_requests_total',
    help: 'Docker Engine API requests by host, operation and outcome',
    labelNames: ['host', 'operation', 'outcome'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'dockyard_docker_request_duration_seconds',
    help: 'Docker Engine API request latency (until response headers) by host and operation',
    labelNames: ['host', 'operation'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const reconnects = new Counter({
    name: 'dockyard_docker_event_stream_reconnects_total',
    help: 'Reconnects of the Docker event stream per host',
    labelNames: ['host'] as const,
    registers,
  });
  const streamUp = new Gauge({
    name: 'dockyard_docker_event_stream_connected',
    help: '1 while the Docker event stream of the host is connected',
    labelNames: ['host'] as const,
    registers,
  });
  return {
    hostUp: (host, isUp) => up.set({ host }, isUp ? 1 : 0),
    forgetHost: (host) => {
      up.remove({ host });
      streamUp.remove({ host });
    },
    request: (host, operation, outcome, seconds) => {
      requests.inc({ host, operation, outcome });
      latency.observe({ host, operation }, seconds);
    },
    eventStreamReconnect: (host) => reconnects.inc({ host }),
    eventStreamConnected: (host, connected) => streamUp.set({ host }, connected ? 1 : 0),
  };
}

/** Metrics that go nowhere, for unit tests and tools. */
export const noopDockerMetrics: DockerMetrics = {
  hostUp: () => {},
  forgetHost: () => {},
  request: () => {},
  eventStreamReconnect: () => {},
  eventStreamConnected: () => {},
};
