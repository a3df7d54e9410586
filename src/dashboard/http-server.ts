// The dashboard's local HTTP server: GET only (anything else 405), the
// bundled page and its assets, the state as JSON, and a server-sent event
// stream of changes. No CORS header is ever sent, and a request whose Host
// is not the address the server was started for is refused (a web page on
// another site cannot read it through DNS rebinding). The viewer's
// credentials stay in this process: the browser gets rows, never them.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { LiveState } from './live-state.js';

/** Files of the bundle (dist/dashboard-web), by the path they are served at. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/stream-worker.js': { file: 'stream-worker.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** SSE comment lines keep idle proxies and the browser from dropping the stream. */
const KEEPALIVE_MS = 15_000;

export interface DashboardServerOptions {
  live: LiveState;
  /** The bundle's directory (index.html, app.js, app.css). */
  assetsDir: string;
  host: string;
  port: number;
}

export interface DashboardServer {
  url: string;
  /** Open event streams (tabs). */
  streams(): number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

/** Host names this server answers to: the bound address, and the loopback names when bound there. */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set([host]);
  if (['127.0.0.1', '::1', 'localhost'].includes(host))
    for (const n of ['127.0.0.1', 'localhost', '[::1]']) names.add(n);
  return new Set([...names].map((n) => `${n.includes(':') && !n.startsWith('[') ? `[${n}]` : n}:${port}`));
}

class Handler {
  readonly open = new Set<ServerResponse>();
  private hosts = new Set<string>();
  private assetCache = new Map<string, Buffer>();

  constructor(private readonly opts: DashboardServerOptions) {}

  bound(port: number): void {
    this.hosts = allowedHosts(this.opts.host, port);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET') {
      send(res, 405, 'text/plain; charset=utf-8', 'the dashboard is read-only: GET only\n', { allow: 'GET' });
      return;
    }
    if (!this.hosts.has(req.headers.host ?? '')) {
      send(res, 421, 'text/plain; charset=utf-8', 'unexpected Host header\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const asset = ASSETS[url.pathname];
    if (asset) return this.serveAsset(res, asset);
    if (url.pathname === '/api/state')
      return send(res, 200, 'application/json', JSON.stringify(this.opts.live.current()));
    if (url.pathname === '/api/object') {
      const detail = this.opts.live.detail(url.searchParams.get('key') ?? '');
      return send(res, detail ? 200 : 404, 'application/json', JSON.stringify(detail));
    }
    if (url.pathname === '/api/stream') return this.stream(req, res);
    if (url.pathname === '/healthz') return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }

  private async serveAsset(res: ServerResponse, asset: { file: string; type: string }): Promise<void> {
    let body = this.assetCache.get(asset.file);
    if (!body) {
      body = await readFile(join(this.opts.assetsDir, asset.file));
      this.assetCache.set(asset.file, body);
    }
    send(res, 200, asset.type, body);
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream',
      connection: 'keep-alive',
    });
    res.write(': dockyard dashboard\n\n');
    this.open.add(res);
    const unsubscribe = this.opts.live.subscribe({
      send: (m) => res.write(`data: ${JSON.stringify(m)}\n\n`),
    });
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const done = () => {
      clearInterval(keepalive);
      unsubscribe();
      this.open.delete(res);
    };
    req.on('close', done);
  }
}

export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const handler = new Handler(opts);
  const server: Server = createServer((req, res) => {
    handler.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `${(err as Error).message}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  handler.bound(port);
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}/`,
    streams: () => handler.open.size,
    close: async () => {
      for (const res of handler.open) res.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
