import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerHost } from '../crds/dockerhost.js';
import type { FleetCache } from './fleet-cache.js';
import { allowedHosts, startDashboardServer, type DashboardServer } from './http-server.js';
import { diffRows, LiveState } from './live-state.js';
import type { StreamMessage } from './views/types.js';

const hostObj = (name: string, status: string): DockerHost =>
  ({
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: { name },
    spec: { endpoint: 'unix:///s' },
    status: {
      conditions: [
        {
          type: 'Ready',
          status,
          reason: 'Connected',
          message: '',
          lastTransitionTime: '2026-12-05T12:00:00Z',
        },
      ],
    },
  }) as DockerHost;

/** The cache as the live state reads it, with hosts the test changes. */
function fakeCache(hosts: DockerHost[]): FleetCache {
  return {
    hosts: () => hosts,
    containers: () => [],
    events: () => [],
    byKind: () => new Map([['DockerHost', hosts]]),
    ofKind: (kind: string) => (kind === 'DockerHost' ? hosts : []),
  } as unknown as FleetCache;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  server: DashboardServer,
  opts: { method?: string; path?: string; headers?: Record<string, string> },
): Promise<Reply> {
  const url = new URL(opts.path ?? '/', server.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard server', () => {
  const hosts = [hostObj('edge-1', 'True')];
  const live = new LiveState({ cache: fakeCache(hosts), access: { resources: {} }, throttleMs: 10 });
  let server: DashboardServer;
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-assets-'));

  beforeAll(async () => {
    for (const f of ['index.html', 'app.js', 'stream-worker.js', 'app.css'])
      writeFileSync(join(dir, f), `/* ${f} */`);
    server = await startDashboardServer({ live, assetsDir: dir, host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
    live.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])(
    'refuses %s with 405 and Allow: GET',
    async (method) => {
      const reply = await call(server, { method, path: '/api/state' });
      expect(reply.status).toBe(405);
      expect(reply.headers.allow).toBe('GET');
    },
  );

  it('serves the page and the state with a strict CSP and no CORS header, even to a cross-origin request', async () => {
    const page = await call(server, { headers: { origin: 'https://evil.example' } });
    expect(page.status).toBe(200);
    expect(page.body).toBe('/* index.html */');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    const state = await call(server, { path: '/api/state', headers: { origin: 'https://evil.example' } });
    expect(JSON.parse(state.body).hosts.map((h: { name: string }) => h.name)).toEqual(['edge-1']);
    for (const reply of [page, state])
      expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('refuses a Host it was not started for (DNS rebinding)', async () => {
    const reply = await call(server, { path: '/api/state', headers: { host: 'attacker.example:80' } });
    expect(reply.status).toBe(421);
  });

  it('answers 404 for an unknown path or object', async () => {
    expect((await call(server, { path: '/etc/passwd' })).status).toBe(404);
    expect((await call(server, { path: '/api/object?key=DockerHost/nope' })).status).toBe(404);
  });

  it('streams the state, then only the rows that changed', async () => {
    const messages: StreamMessage[] = [];
    const url = new URL('/api/stream', server.url);
    const req = request(url);
    const got = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        let buffer = '';
        res.on('data', (c: Buffer) => {
          buffer += c.toString();
          const blocks = buffer.split('\n\n');
          buffer = blocks.pop() ?? '';
          for (const block of blocks) {
            const data = block.split('\n').find((l) => l.startsWith('data: '));
            if (data) messages.push(JSON.parse(data.slice(6)) as StreamMessage);
          }
          if (messages.length >= 2) resolve();
        });
      });
    });
    req.end();
    await new Promise((r) => setTimeout(r, 50));
    expect(server.streams()).toBe(1);
    hosts.push(hostObj('edge-2', 'False'));
    live.changed();
    await got;
    req.destroy();
    expect(messages[0]?.type).toBe('state');
    expect(messages[1]).toMatchObject({ type: 'patch', view: 'hosts', remove: [] });
    expect((messages[1] as { upsert: Array<{ name: string }> }).upsert.map((r) => r.name)).toEqual([
      'edge-2',
    ]);
  });
});

describe('diffRows', () => {
  it('upserts new and changed rows and removes the gone ones', () => {
    const before = new Map([
      ['a', JSON.stringify({ key: 'a', v: 1 })],
      ['b', JSON.stringify({ key: 'b', v: 1 })],
    ]);
    const { upsert, remove } = diffRows(before, [
      { key: 'a', v: 1 },
      { key: 'c', v: 1 },
    ] as never);
    expect(upsert).toEqual([{ key: 'c', v: 1 }]);
    expect(remove).toEqual(['b']);
  });
});

describe('allowedHosts', () => {
  it('answers to the loopback names when bound to loopback, and only to its address otherwise', () => {
    expect([...allowedHosts('127.0.0.1', 8420)].sort()).toEqual([
      '127.0.0.1:8420',
      '[::1]:8420',
      'localhost:8420',
    ]);
    expect([...allowedHosts('10.0.0.5', 80)]).toEqual(['10.0.0.5:80']);
  });
});
