// Dashboard under load (#18): `dockyard dashboard` (started in this process
// with the admin kubeconfig, as `dockyard dashboard` would be) and a real
// headless Chromium over the DockerVolumes the memory and restart scenarios
// left (5,000 by default). Measured:
// - first render: navigation start → every object listed on the Objects page,
//   and → the fleet grid's rows, each in a fresh browser context (its own
//   SharedWorker, so nothing is served from an earlier tab);
// - the browser's memory with that page open: JS heap and Chromium's PSS;
// - status → browser: new DockerVolumes one at a time; the time a watch of
//   this process sees the controller's Ready=True status, and the time the
//   open Objects page shows that row Ready;
// - tabs: the API server's WATCH requests with the dashboard's first tab and
//   with 20 tabs open (they must be the same: one watch per kind per
//   dashboard process, not per tab).

import { readFileSync, readdirSync } from 'node:fs';
import { Watch } from '@kubernetes/client-node';
import { pino } from 'pino';
import { waitFor } from '../../src/localenv/process.js';
import type { Browser, Page } from 'puppeteer-core';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/dashboard.js';
import { ROW_LIMIT } from '../../src/dashboard/web/pages.js';
import { ensureDashboardBundle } from '../../src/localenv/dashboard-bundle.js';
import { launchChromium } from '../../test/support/browser.js';
import { isReady, type DockyardObject } from '../../test/support/kube.js';
import { counterSum, scrapeApiServer } from '../support/metrics.js';
import { atMost, type Row, type ScenarioResult } from '../support/report.js';
import type { Session } from '../support/session.js';
import { summarize } from '../support/stats.js';
import { countVolumes, growVolumes, VOLUME_NAMESPACE, volumeSpec } from './memory.js';

/** The targets. */
const FIRST_RENDER_TARGET_MS = 1_000;
const STATUS_TO_BROWSER_TARGET_MS = 1_000;
const RENDER_TIMEOUT_MS = 120_000;
const WATCH_READS = 6;

// Code that runs in the page is passed as source text: this project's Node
// typings have no DOM.

/**
 * Opens `url` in a fresh context and returns milliseconds from navigation
 * start until `ready` (a JavaScript expression) holds in the page: a
 * MutationObserver installed before the page's scripts notes the moment.
 */
async function firstRender(
  browser: Browser,
  url: string,
  ready: string,
): Promise<{ ms: number; page: Page }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.evaluateOnNewDocument(`
    new MutationObserver((_, observer) => {
      if (!(${ready})) return;
      window.__dockyardRenderedAt = performance.now();
      observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  `);
  await page.goto(url);
  await page.waitForFunction('window.__dockyardRenderedAt !== undefined', { timeout: RENDER_TIMEOUT_MS });
  const ms = (await page.evaluate('window.__dockyardRenderedAt')) as number;
  return { ms, page };
}

/**
 * The Objects page drawn: its summary counts every object and its table
 * holds as many rows as it draws (all, or the first ROW_LIMIT).
 */
const objectsPageReady = (objects: number) =>
  `document.querySelectorAll('tr[data-object]').length >= ${Math.min(objects, ROW_LIMIT)} && ` +
  `parseInt(document.querySelector('[data-testid=objects-summary]')?.textContent?.trim() ?? '', 10) >= ${objects}`;

/**
 * PSS of a process and all its descendants (Chromium's renderers, GPU and
 * network processes): proportional set size, so pages the processes share
 * are counted once, not once per process as summed RSS would.
 */
function treePssBytes(rootPid: number): number {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      parent.set(Number(entry), Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0));
    } catch {
      // The process ended while we looked.
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid; p > 1; p = parent.get(p) ?? 0) if (p === rootPid) return true;
    return false;
  };
  let total = 0;
  for (const pid of parent.keys()) {
    if (!inTree(pid)) continue;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      total += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) * 1024;
    } catch {
      // Gone, or a kernel thread.
    }
  }
  return total;
}

/**
 * The API server's WATCH requests in flight, all resources: the most of
 * WATCH_READS reads, since a watch its client is just re-opening (a server
 * timeout, a relist) is missing from a single read.
 */
async function apiServerWatches(session: Session): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < WATCH_READS; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 500));
    const samples = await scrapeApiServer(session.env.cp.kubeConfig());
    reads.push(counterSum(samples, 'apiserver_longrunning_requests', { verb: 'WATCH' }));
  }
  return Math.max(...reads);
}

/** Times (ms since the epoch) at which a watch of this process first saw each DockerVolume Ready. */
async function watchReady(session: Session): Promise<{ readyAt: Map<string, number>; stop: () => void }> {
  const readyAt = new Map<string, number>();
  const request = await new Watch(session.env.cp.kubeConfig()).watch(
    `/apis/dockyard.io/v1alpha1/namespaces/${VOLUME_NAMESPACE}/dockervolumes`,
    { labelSelector: 'bench.dockyard.io/latency=true' },
    (_type: string, obj: DockyardObject) => {
      const name = obj.metadata.name;
      if (!readyAt.has(name) && isReady(obj)) readyAt.set(name, Date.now());
    },
    () => {},
  );
  return { readyAt, stop: () => request.abort() };
}

/**
 * Creates `samples` DockerVolumes one after the other with `page` open on the
 * Objects page; for each, the time from the watch seeing Ready=True to the
 * page's row showing Ready (Date.now() on both sides: one machine, one clock).
 */
async function statusToBrowser(session: Session, page: Page, samples: number): Promise<number[]> {
  const { readyAt, stop } = await watchReady(session);
  const latencies: number[] = [];
  const nodes = session.env.nodes.map((n) => n.name);
  try {
    for (let i = 0; i < samples; i++) {
      const name = `latency-${String(i).padStart(3, '0')}`;
      const key = `DockerVolume/${VOLUME_NAMESPACE}/${name}`;
      const shown = page.waitForFunction(
        `document.querySelector('tr[data-object="${key}"] .badge.ok') ? Date.now() : false`,
        { polling: 'mutation', timeout: RENDER_TIMEOUT_MS },
      );
      await session.env.kube.create(
        'DockerVolume',
        VOLUME_NAMESPACE,
        name,
        volumeSpec(nodes[i % nodes.length] as string),
        { labels: { 'bench.dockyard.io/latency': 'true' } },
      );
      const shownAt = (await (await shown).jsonValue()) as number;
      // The page can win the race against this process's own watch: wait for it, the gap may be negative.
      await waitFor(async () => readyAt.has(name), {
        timeoutMs: 10_000,
        intervalMs: 5,
        what: `${name} Ready`,
      });
      latencies.push(shownAt - (readyAt.get(name) as number));
    }
  } finally {
    stop();
  }
  return latencies;
}

interface TabsFigures {
  /** WATCH requests the dashboard added with its first tab open, and with all tabs open. */
  watchesOneTab: number;
  watchesAllTabs: number;
  /** The dashboard's own count of its watches (one per kind and namespace scope). */
  dashboardWatches: number;
  /** Event streams the dashboard serves with all tabs open (one per browser context). */
  streams: number;
}

/** Opens `tabs` − 1 more tabs beside `first` in its context and counts the API server's watches. */
async function manyTabs(
  session: Session,
  running: { dashboard: RunningDashboard; first: Page; watchesBefore: number },
  tabs: number,
): Promise<TabsFigures> {
  const { dashboard, first, watchesBefore } = running;
  const watchesOneTab = (await apiServerWatches(session)) - watchesBefore;
  const context = first.browserContext();
  const pages: Page[] = [];
  try {
    // One after the other, as a person opens tabs; each shows the fleet before the next opens.
    for (let i = 1; i < tabs; i++) {
      const page = await context.newPage();
      pages.push(page);
      await page.goto(dashboard.server.url);
      await page.waitForFunction(
        `/\\d+ hosts/.test(document.querySelector('[data-testid=fleet-summary]')?.textContent ?? '')`,
        { timeout: RENDER_TIMEOUT_MS },
      );
    }
    return {
      watchesOneTab,
      watchesAllTabs: (await apiServerWatches(session)) - watchesBefore,
      dashboardWatches: dashboard.cache.watchCount(),
      streams: dashboard.server.streams(),
    };
  } finally {
    await Promise.all(pages.map((p) => p.close()));
  }
}

export async function dashboard(session: Session): Promise<ScenarioResult> {
  const { options, log } = session;
  const started = Date.now();
  const have = await countVolumes(session);
  if (have < options.dashboardObjects) {
    log(`[dashboard] growing to ${options.dashboardObjects} DockerVolumes`);
    await growVolumes(session, have, options.dashboardObjects);
  }
  const objects = Math.max(have, options.dashboardObjects);
  const watchesBefore = await apiServerWatches(session);
  const [bundle, browser] = await Promise.all([ensureDashboardBundle(), launchChromium()]);
  const startedAt = performance.now();
  const running = await startDashboard({
    kc: session.env.cp.kubeConfig(),
    logger: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    namespaces: ['default'],
    assetsDir: bundle.dir,
  });
  try {
    // A person opens a dashboard that is running: its caches hold every object first.
    await waitFor(async () => running.cache.hasSynced() && running.live.current().objects.length >= objects, {
      timeoutMs: RENDER_TIMEOUT_MS,
      intervalMs: 20,
      what: `the dashboard's caches to hold ${objects} objects`,
    });
    const syncMs = performance.now() - startedAt;
    const url = running.server.url;
    log(`[dashboard] first renders over ${objects} objects (caches filled in ${Math.round(syncMs)} ms)`);
    const fleet = await firstRender(
      browser,
      url,
      `document.querySelectorAll('tr[data-host]').length >= ${session.env.nodes.length}`,
    );
    const list = await firstRender(browser, `${url}#/objects`, objectsPageReady(objects));
    const heap = await list.page.metrics();
    const browserPss = treePssBytes(browser.process()?.pid ?? 0);
    const tabs = await manyTabs(
      session,
      { dashboard: running, first: fleet.page, watchesBefore },
      options.dashboardTabs,
    );
    log(`[dashboard] status → browser, ${options.dashboardLatencySamples} samples`);
    const latency = summarize(await statusToBrowser(session, list.page, options.dashboardLatencySamples));
    return report({
      session,
      started,
      objects,
      bundleBytes: bundle.bytes,
      figures: { syncMs, fleetMs: fleet.ms, objectsMs: list.ms, heap, browserPss, tabs, latency },
    });
  } finally {
    await browser.close();
    await running.stop();
  }
}

interface Figures {
  /** From startDashboard to caches holding every object. */
  syncMs: number;
  fleetMs: number;
  objectsMs: number;
  heap: Awaited<ReturnType<Page['metrics']>>;
  browserPss: number;
  tabs: TabsFigures;
  latency: ReturnType<typeof summarize>;
}

function report(r: {
  session: Session;
  started: number;
  objects: number;
  bundleBytes: number;
  figures: Figures;
}): ScenarioResult {
  const { options } = r.session;
  const f = r.figures;
  const mib = (b: number | undefined) => (b === undefined ? undefined : b / 2 ** 20);
  const rows: Row[] = [
    { metric: `Dashboard start until its caches hold the ${r.objects} objects`, value: f.syncMs, unit: 'ms' },
    {
      metric: `First render of the Objects page (${r.objects} objects, ${Math.min(r.objects, ROW_LIMIT)} rows drawn)`,
      value: f.objectsMs,
      unit: 'ms',
      target: `≤ ${FIRST_RENDER_TARGET_MS} ms`,
      pass: atMost(f.objectsMs, FIRST_RENDER_TARGET_MS),
    },
    {
      metric: `First render of the fleet grid (${r.session.env.nodes.length} hosts, counts over ${r.objects} objects)`,
      value: f.fleetMs,
      unit: 'ms',
      target: `≤ ${FIRST_RENDER_TARGET_MS} ms`,
      pass: atMost(f.fleetMs, FIRST_RENDER_TARGET_MS),
    },
    { metric: 'Browser JS heap used, Objects page open', value: mib(f.heap.JSHeapUsedSize), unit: 'MiB' },
    { metric: 'Browser JS heap total, Objects page open', value: mib(f.heap.JSHeapTotalSize), unit: 'MiB' },
    { metric: "Chromium's PSS, all its processes", value: mib(f.browserPss), unit: 'MiB' },
    {
      metric: `Status → browser, median of ${f.latency?.count ?? 0}`,
      value: f.latency?.p50,
      unit: 'ms',
    },
    {
      metric: `Status → browser, slowest of ${f.latency?.count ?? 0}`,
      value: f.latency?.max,
      unit: 'ms',
      target: `≤ ${STATUS_TO_BROWSER_TARGET_MS} ms`,
      pass: atMost(f.latency?.max, STATUS_TO_BROWSER_TARGET_MS),
    },
    { metric: 'API server watches of the dashboard, 1 tab', value: f.tabs.watchesOneTab },
    {
      metric: `API server watches of the dashboard, ${options.dashboardTabs} tabs`,
      value: f.tabs.watchesAllTabs,
      target: `= 1 tab (${f.tabs.dashboardWatches}: one per kind)`,
      pass:
        f.tabs.watchesAllTabs === f.tabs.watchesOneTab && f.tabs.watchesOneTab === f.tabs.dashboardWatches,
    },
    { metric: 'Dashboard bundle (JS, CSS, HTML)', value: r.bundleBytes / 1024, unit: 'KiB' },
  ];
  return {
    scenario: 'dashboard',
    title: `Dashboard (${r.objects} DockerVolumes, headless Chromium)`,
    parameters: {
      objects: r.objects,
      tabs: options.dashboardTabs,
      latencySamples: options.dashboardLatencySamples,
      nodes: options.nodes,
    },
    rows,
    data: { ...f, streams: f.tabs.streams },
    notes: [
      'First render: from navigation start (performance.now() in the page) until a MutationObserver, installed ' +
        'before the page ran, saw the page drawn (the fleet grid: a row per host; the Objects page: its summary ' +
        `counting every object and its table drawn, at most ${ROW_LIMIT} rows with those not Ready first); each in ` +
        'a fresh browser context, so its own SharedWorker opened its own stream and got the whole state. Measured ' +
        "once the dashboard's caches hold every object (a person opens a dashboard that runs); the time to fill them " +
        'is its own row.',
      'Status → browser: a new DockerVolume per sample, created only after the previous one showed; the start is ' +
        "when this process's own watch saw the controller's Ready=True, the end when the open Objects page (every " +
        'object counted, the new one among the rows drawn) showed the row Ready. The dashboard recomputes at most ' +
        'every 100 ms (its default throttle).',
      'Watches: apiserver_longrunning_requests{verb="WATCH"} (the most of 6 reads 0.5 s apart) before the dashboard started, with its first tab, and ' +
        `with ${options.dashboardTabs} tabs in that browser context; the dashboard runs in the benchmark's process.`,
      "Browser memory: Chromium's JSHeapUsedSize/JSHeapTotalSize for the Objects page (page.metrics()) and the " +
        "summed PSS (smaps_rollup) of the browser's process tree, two contexts with a page each open.",
    ],
    startedAt: new Date(r.started).toISOString(),
    durationSeconds: (Date.now() - r.started) / 1000,
  };
}
