import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import Dockerode from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerOptions } from './endpoint.js';
import { retryableReset, retryResetsOnReusedSockets } from './keep-alive.js';

describe('retryableReset', () => {
  const base = { code: 'ECONNRESET', reusedSocket: true, method: 'GET', body: undefined, retried: false };
  it.each([
    ['a GET reset on a reused socket', {}, true],
    ['EPIPE on a reused socket', { code: 'EPIPE' }, true],
    ['a DELETE (idempotent)', { method: 'DELETE' }, true],
    ['a PUT with a string body', { method: 'PUT', body: '{}' }, true],
    ['a POST: Docker may have created or started something', { method: 'POST', body: '{}' }, false],
    ['a fresh socket: the daemon itself closed it', { reusedSocket: false }, false],
    ['already retried once', { retried: true }, false],
    ['another error', { code: 'ECONNREFUSED' }, false],
    ['no code (an HTTP error answer)', { code: undefined }, false],
    ['a stream body cannot be sent twice', { method: 'PUT', body: Readable.from([]) }, false],
  ])('%s', (_name, change, expected) => {
    expect(retryableReset({ ...base, ...change })).toBe(expected);
  });
});

/**
 * A daemon stand-in that answers the first request on each connection and
 * resets the connection when a second one arrives on it: what a client sees
 * when it reuses a socket the peer closed while it sat idle.
 */
async function resettingServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const served = new WeakSet<Socket>();
  const server = createServer((req, res) => {
    const socket = req.socket;
    if (served.has(socket)) {
      socket.resetAndDestroy();
      return;
    }
    served.add(socket);
    req.resume();
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

describe('a dockerode client from dockerOptions, wrapped by retryResetsOnReusedSockets', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  async function clientAndServer(): Promise<{ docker: Dockerode; connections: () => number }> {
    const started = await resettingServer();
    server = started.server;
    const docker = new Dockerode(
      dockerOptions({ protocol: 'tcp', host: '127.0.0.1', port: started.port }, undefined, 5_000),
    );
    retryResetsOnReusedSockets(docker.modem);
    return { docker, connections: started.connections };
  }

  it('sends a GET again on a new connection when its reused socket was reset', async () => {
    const { docker, connections } = await clientAndServer();
    await docker.version();
    expect(connections()).toBe(1);
    // Reuses the first socket (keep-alive), which the server resets; the retry opens a second.
    await expect(docker.info()).resolves.toMatchObject({ ok: true, path: '/info' });
    expect(connections()).toBe(2);
  });

  it('does not send a POST again: the reset reaches the caller', async () => {
    const { docker, connections } = await clientAndServer();
    await docker.version();
    await expect(docker.getContainer('c1').start()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(connections()).toBe(1);
  });

  it('retries once only: a second reset reaches the caller', async () => {
    const { docker, connections } = await clientAndServer();
    // Two sockets served at once, both idle in the pool afterwards.
    await Promise.all([docker.version(), docker.version()]);
    expect(connections()).toBe(2);
    // The request goes out on one (reset), its retry on the other (reset too).
    await expect(docker.info()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(connections()).toBe(2);
  });
});

describe('the keep-alive agents under util.inspect', () => {
  it('print as their name, however many sockets they pool (docker-modem inspects every request)', () => {
    const options = dockerOptions({ protocol: 'tcp', host: '127.0.0.1', port: 1 }, undefined, 1_000);
    expect(inspect(options, { showHidden: true, depth: null })).toContain('agent: [Agent]');
  });
});
