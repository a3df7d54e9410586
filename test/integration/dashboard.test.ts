import { request } from 'node:http';
import { KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/dashboard.js';
import { ensureDashboardBundle } from '../../src/localenv/dashboard-bundle.js';
import { launchChromium, screenshot, waitForText } from '../support/browser.js';
import { isReady } from '../support/kube.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// The dashboard (#18) in a real headless Chromium against the real control
// plane and two Docker nodes: the fleet grid's counts, a repair after
// `docker rm -f`, a failing healthcheck named in the health column, a paused
// node shown disconnected since a time, and a ServiceAccount that may see one
// namespace seeing only that one. Screenshots land in test-results/dashboard/.

let world: World;
let browser: Browser;
let admin: RunningDashboard;
let page: Page;
let assetsDir: string;
const SHOP = 'shop';
const OTHER = 'other';
const quiet = pino({ level: 'silent' });

beforeAll(async () => {
  const [w, bundle, b] = await Promise.all([
    startWorld({
      lab: { nodes: [{ name: 'n1' }, { name: 'n2' }] },
      loadWorkloadImage: true,
      namespaces: [SHOP, OTHER],
    }),
    ensureDashboardBundle(),
    launchChromium(),
  ]);
  world = w;
  browser = b;
  assetsDir = bundle.dir;
  console.log(`[dashboard] bundle ${(bundle.bytes / 1024).toFixed(1)} KiB`);
  admin = await startDashboard({
    kc: world.cp.kubeConfig(),
    logger: quiet,
    host: '127.0.0.1',
    port: 0,
    namespaces: ['default'],
    assetsDir,
    throttleMs: 50,
  });
  page = await browser.newPage();
  await page.goto(admin.server.url);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
  await world?.stop();
});

const sleeper = (extra: Record<string, unknown> = {}) => ({
  image: world.image,
  command: ['sh', '-c', 'trap "exit 0" TERM; sleep 86400 & wait'],
  ...extra,
});

describe('the dashboard in a browser', () => {
  it('shows every host with its containers and the Dockyard objects placed on it', async () => {
    await world.kube.create('DockerContainer', SHOP, 'web', sleeper({ hostSelector: {} }));
    await world.kube.create('DockerContainer', OTHER, 'batch', sleeper({ hostName: 'n1' }));
    for (const [ns, name] of [
      [SHOP, 'web'],
      [OTHER, 'batch'],
    ] as const)
      await world.kube.waitFor('DockerContainer', ns, name, isReady, 'Ready', 60_000);
    await waitForText(page, '[data-testid=fleet-summary]', /2 hosts, 2 connected/);
    await waitForText(page, 'tr[data-host=n1] td[data-col=placed]', /^2 \/ 2$/);
    await waitForText(page, 'tr[data-host=n2] td[data-col=placed]', /^1 \/ 1$/);
    // Docker's own counts are asked for and written once a minute while they
    // change (host-facts-cache.ts, CONTAINER_COUNTS_REPORT_MS), plus a heartbeat.
    await waitForText(page, 'tr[data-host=n1] td[data-col=containers]', /^2 \/ 2$/, 90_000);
    await screenshot(page, 'fleet');
  });

  it('shows the repair of a container removed out of band', async () => {
    await world.lab.node('n2').exec(['docker', 'rm', '-f', `${SHOP}.web`]);
    await waitForText(page, 'tr[data-host=n2] td[data-col=repairs]', /^[1-9]\d*$/);
    await page.goto(`${admin.server.url}#/object/${encodeURIComponent(`DockerContainer/${SHOP}/web`)}`);
    await waitForText(page, '[data-testid=events]', /DriftRepaired.*on n2/);
    await screenshot(page, 'object');
  });

  it('shows a failing healthcheck as Unhealthy, naming the container', async () => {
    await world.kube.create(
      'DockerContainer',
      SHOP,
      'sick',
      sleeper({
        hostName: 'n1',
        healthcheck: { command: ['test', '-f', '/tmp/never'], interval: '1s', retries: 1 },
      }),
    );
    await page.goto(`${admin.server.url}#/containers`);
    const text = await waitForText(
      page,
      `tr[data-container="${SHOP}/sick/n1"] td:nth-child(7)`,
      /Unhealthy/,
      60_000,
    );
    expect(text).toContain(`Unhealthy: ${SHOP}.sick on n1`);
    expect(
      await page.$eval(`tr[data-container="${SHOP}/sick/n1"]`, (el) => el.getAttribute('data-health')),
    ).toBe('failing');
    await screenshot(page, 'containers');
  });

  it('shows a paused node as disconnected, with the time since its state is unknown', async () => {
    await page.goto(admin.server.url);
    const node = world.lab.node('n2');
    await node.pause();
    try {
      await waitForText(page, 'tr[data-host=n2] td:nth-child(2)', /unknown since \d\d:\d\d:\d\d/, 60_000);
      expect(await page.$eval('tr[data-host=n2]', (el) => el.getAttribute('data-connection'))).toBe(
        'disconnected',
      );
      await screenshot(page, 'fleet-disconnected');
    } finally {
      await node.unpause();
    }
    await waitForText(page, 'tr[data-host=n2] td:nth-child(2)', /Connected/, 60_000);
  });
});

describe('a viewer whose RBAC allows one namespace', () => {
  let viewer: RunningDashboard;
  let token: string;

  beforeAll(async () => {
    const rbac = world.cp.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: SHOP,
      body: {
        metadata: { name: 'dockyard-viewer' },
        rules: [
          { apiGroups: ['dockyard.io'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: SHOP,
      body: {
        metadata: { name: 'dockyard-viewer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'dockyard-viewer' },
        subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace: SHOP }],
      },
    });
    const path = await world.cp.serviceAccountKubeconfig(SHOP, 'viewer');
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    token = kc.getCurrentUser()?.token ?? '';
    expect(token).not.toBe('');
    viewer = await startDashboard({
      kc,
      logger: quiet,
      host: '127.0.0.1',
      port: 0,
      namespaces: [SHOP],
      assetsDir,
    });
  });

  afterAll(async () => {
    await viewer?.stop();
  });

  it('sees only that namespace, is told it may not list hosts, and never gets the token', async () => {
    const p = await browser.newPage();
    await p.goto(`${viewer.server.url}#/containers`);
    await waitForText(p, 'tbody', new RegExp(`${SHOP}`));
    const rows = await p.$$eval('tr[data-container]', (els) =>
      els.map((e) => e.getAttribute('data-container')),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r?.startsWith(`${SHOP}/`))).toBe(true);
    await p.goto(viewer.server.url);
    await waitForText(p, '.notice', /do not let you list DockerHosts/);
    await screenshot(p, 'viewer-one-namespace');
    await p.close();
    for (const path of ['/', '/assets/app.js', '/api/state'])
      expect(await get(viewer.server.url, path)).not.toContain(token);
    expect(viewer.cache.watchCount()).toBeLessThan(admin.cache.watchCount() + 1);
  });
});

describe('many tabs, one process', () => {
  it('twenty open tabs share one stream per browser and cost no more watches than one', async () => {
    const before = admin.cache.watchCount();
    const pages = await Promise.all(Array.from({ length: 20 }, () => browser.newPage()));
    await Promise.all(pages.map((p) => p.goto(admin.server.url)));
    await Promise.all(pages.map((p) => waitForText(p, '[data-testid=fleet-summary]', /2 hosts/)));
    // One SharedWorker per browser holds the stream (a browser allows six connections per host).
    expect(admin.server.streams()).toBe(1);
    expect(admin.cache.watchCount()).toBe(before);
    await Promise.all(pages.map((p) => p.close()));
  });
});

function get(base: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(new URL(path, base), (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}
