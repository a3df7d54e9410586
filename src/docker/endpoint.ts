import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type Dockerode from 'dockerode';
import { keepAliveHttpAgent, keepAliveHttpsAgent } from './keep-alive.js';

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
 * pass 0 because the timeout is a socket idle timeout. Each client gets its
 * own keep-alive agent (keep-alive.ts), whose errors tell a reset reused
 * socket apart.
 */
export function dockerOptions(
  endpoint: Endpoint,
  tls: TlsMaterial | undefined,
  timeoutMs: number,
): DockerClientOptions {
  const timeout = timeoutMs > 0 ? { timeout: timeoutMs } : {};
  if (endpoint.protocol === 'unix')
    return { socketPath: endpoint.socketPath, agent: keepAliveHttpAgent(), ...timeout };
  if (!tls)
    return {
      protocol: 'http',
      host: endpoint.host,
      port: endpoint.port,
      agent: keepAliveHttpAgent(),
      ...timeout,
    };
  return {
    protocol: 'https',
    host: endpoint.host,
    port: endpoint.port,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    // docker-modem passes no `servername` to the TLS handshake, so Node would
    // send no SNI for an IP endpoint and verify the certificate against the
    // endpoint's host. An agent's options win over the request's: with
    // `servername` set there, the handshake sends it as SNI and checks the
    // daemon's certificate against it.
    agent: keepAliveHttpsAgent(tls.serverName ? { servername: tls.serverName } : {}),
    ...timeout,
  };
}

/** Docker options plus what docker-modem accepts but @types/dockerode does not list: its agent. */
export type DockerClientOptions = Dockerode.DockerOptions & { agent?: HttpAgent | HttpsAgent };
