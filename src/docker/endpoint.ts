import type Dockerode from 'dockerode';

export type Endpoint =
  { protocol: 'unix'; socketPath: string } | { protocol: 'tcp'; host: string; port: number };

/** Parses a DockerHost endpoint (already shape-checked by the CRD schema). */
export function parseEndpoint(endpoint: string): Endpoint {
  if (endpoint.startsWith('unix://')) {
    return { protocol: 'unix', socketPath: endpoint.slice('unix://'.length) };
  }
  if (endpoint.startsWith('tcp://')) {
    const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
    const port = url.port ? Number(url.port) : 2375;
    return { protocol: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port };
  }
  throw new Error(`unsupported Docker endpoint ${endpoint}: use unix:///path or tcp://host:port`);
}

/** PEM material for mutual TLS, as read from the DockerHost's Secret. */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
  serverName?: string;
}

/**
 * dockerode options for an endpoint. `timeoutMs` bounds every request so a
 * slow host never blocks others; streaming clients (events, pull progress)
 * pass 0 because the timeout is a socket idle timeout.
 */
export function dockerOptions(
  endpoint: Endpoint,
  tls: TlsMaterial | undefined,
  timeoutMs: number,
): Dockerode.DockerOptions {
  const timeout = timeoutMs > 0 ? { timeout: timeoutMs } : {};
  if (endpoint.protocol === 'unix') return { socketPath: endpoint.socketPath, ...timeout };
  if (!tls) return { protocol: 'http', host: endpoint.host, port: endpoint.port, ...timeout };
  return {
    protocol: 'https',
    host: endpoint.host,
    port: endpoint.port,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    ...timeout,
  };
}
