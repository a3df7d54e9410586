// Health probes (/healthz, /readyz, in the API server's format) and the small
// HTTP server helper the manager uses for probes and /metrics. Bind addresses
// are written as in Go (`:8080`, `127.0.0.1:0`, `[::1]:8081`; `0` disables),
// so flags and Helm values read like every other operator's.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BindAddress {
  /** undefined: all interfaces. */
  host: string | undefined;
  port: number;
}

/** Parses a Go-style bind address; undefined means "disabled" (`0` or empty). */
export function parseBindAddress(addr: string): BindAddress | undefined {
  const value = addr.trim();
  if (value === '' || value === '0') return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (!match) throw new Error(`invalid bind address ${JSON.stringify(addr)}: want host:port, :port or 0`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`invalid bind address ${JSON.stringify(addr)}: port out of range`);
  const host = match[1] ?? match[2];
  return { host: host ? host : undefined, port };
}

/** A check passes by returning; it fails by throwing (the message is shown on the probe). */
export type Checker = () => void | Promise<void>;

const CHECK_TIMEOUT_MS = 5_000;

async function runCheck(check: Checker): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(check),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/** Named health and readiness checks served as /healthz and /readyz. */
export class HealthProbes {
  private readonly healthz = new Map<string, Checker>();
  private readonly readyz = new Map<string, Checker>();

  addHealthzCheck(name: string, check: Checker): void {
    this.healthz.set(name, check);
  }

  addReadyzCheck(name: string, check: Checker): void {
    this.readyz.set(name, check);
  }

  /** Request handler; answers 404 for other paths. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://probe');
    const [, endpoint, single] = url.pathname.split('/');
    const checks = endpoint === 'healthz' ? this.healthz : endpoint === 'readyz' ? this.readyz : undefined;
    if (!checks || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    void this.respond(checks, endpoint ?? '', single, url.searchParams.has('verbose'), res);
  };

  private async respond(
    checks: Map<string, Checker>,
    endpoint: string,
    single: string | undefined,
    verbose: boolean,
    res: ServerResponse,
  ): Promise<void> {
    const selected = single ? [...checks].filter(([name]) => name === single) : [...checks];
    if (single && selected.length === 0) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no check named ${single}\n`);
      return;
    }
    const results = await Promise.all(
      selected.map(async ([name, check]) => ({ name, error: await runCheck(check) })),
    );
    const failed = results.some((r) => r.error !== undefined);
    const lines = results.map((r) =>
      r.error === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.error}`,
    );
    let body: string;
    if (failed) body = `${lines.join('\n')}\n${endpoint} check failed\n`;
    else body = verbose ? `${lines.join('\n')}\n${endpoint} check passed\n` : 'ok';
    res.writeHead(failed ? 500 : 200, {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  }
}

export interface HttpServerHandle {
  readonly address: AddressInfo;
  /** Stops accepting connections and closes open ones. */
  close(): Promise<void>;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Listens on `bind`; rejects when the address cannot be bound (e.g. in use). */
export function startHttpServer(bind: BindAddress, handler: RequestHandler): Promise<HttpServerHandle> {
  const server: Server = createServer(handler);
  // Probes and scrapes are short; a stuck client must not hold shutdown up.
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: bind.port, ...(bind.host ? { host: bind.host } : {}) }, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({
        address,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
