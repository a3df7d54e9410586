import { afterEach, describe, expect, it } from 'vitest';
import { HealthProbes, parseBindAddress, startHttpServer, type HttpServerHandle } from './health.js';

describe('parseBindAddress', () => {
  it.each([
    { addr: ':8080', want: { host: undefined, port: 8080 } },
    { addr: '127.0.0.1:0', want: { host: '127.0.0.1', port: 0 } },
    { addr: '0.0.0.0:8081', want: { host: '0.0.0.0', port: 8081 } },
    { addr: 'localhost:9443', want: { host: 'localhost', port: 9443 } },
    { addr: '[::1]:8080', want: { host: '::1', port: 8080 } },
    { addr: '[::]:8080', want: { host: '::', port: 8080 } },
    { addr: '0', want: undefined },
    { addr: '', want: undefined },
  ])('$addr', ({ addr, want }) => {
    expect(parseBindAddress(addr)).toEqual(want);
  });

  it.each(['8080', 'host', ':99999', '::1:8080', 'a:b', ':'])('rejects %j', (addr) => {
    expect(() => parseBindAddress(addr)).toThrow(/invalid bind address/);
  });
});

describe('HealthProbes over HTTP', () => {
  let server: HttpServerHandle | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(probes: HealthProbes): Promise<string> {
    server = await startHttpServer({ host: '127.0.0.1', port: 0 }, probes.handle);
    return `http://127.0.0.1:${server.address.port}`;
  }

  it('answers ok when every check passes, and lists checks when verbose', async () => {
    const probes = new HealthProbes();
    probes.addHealthzCheck('ping', () => {});
    probes.addReadyzCheck('informers', async () => {});
    const base = await serve(probes);
    const healthz = await fetch(`${base}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, 'ok']);
    const verbose = await fetch(`${base}/readyz?verbose`);
    expect(await verbose.text()).toBe('[+]informers ok\nreadyz check passed\n');
  });

  it('answers 500 naming the failing check', async () => {
    const probes = new HealthProbes();
    probes.addReadyzCheck('ping', () => {});
    probes.addReadyzCheck('informers-synced', () => {
      throw new Error('dockerhosts.dockyard.io not synced');
    });
    const base = await serve(probes);
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(
      '[+]ping ok\n[-]informers-synced failed: dockerhosts.dockyard.io not synced\nreadyz check failed\n',
    );
    const single = await fetch(`${base}/readyz/ping`);
    expect(single.status).toBe(200);
  });

  it.each([
    { path: '/nope', status: 404 },
    { path: '/readyz/unknown', status: 404 },
    { path: '/healthz', status: 200 },
  ])('$path → $status', async ({ path, status }) => {
    const probes = new HealthProbes();
    probes.addHealthzCheck('ping', () => {});
    const base = await serve(probes);
    expect((await fetch(`${base}${path}`)).status).toBe(status);
  });

  it('fails to start on an address in use', async () => {
    const probes = new HealthProbes();
    await serve(probes);
    const port = server?.address.port ?? 0;
    await expect(startHttpServer({ host: '127.0.0.1', port }, probes.handle)).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
