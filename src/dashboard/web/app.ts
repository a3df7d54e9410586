// The dashboard page: the local server's event stream (state first, then
// patches and change ticks) through a worker shared by the browser's tabs, a
// hash router, and lit-html rendering. No polling: every update arrives on the
// stream, and an object page fetches its object when the stream says
// something changed.

import { html, render } from 'lit-html';
import type { ObjectDetail, StreamMessage } from '../views/types.js';
import type { WorkerMessage } from './stream-worker.js';
import { containersPage, fleetPage, objectPage, objectsPage } from './pages.js';
import { Store } from './store.js';

const store = new Store();
let live: 'connecting' | 'live' | 'reconnecting' = 'connecting';
let filter = '';
let rendered = false;

interface Route {
  page: 'fleet' | 'containers' | 'objects' | 'object';
  key?: string;
}

function route(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  if (hash.startsWith('object/'))
    return { page: 'object', key: decodeURIComponent(hash.slice('object/'.length)) };
  if (hash === 'containers' || hash === 'objects') return { page: hash };
  return { page: 'fleet' };
}

/** An object page fetches its object again on each change the stream announces (one fetch in flight). */
let detailFetch: { key: string; again: boolean } | undefined;

async function refreshDetail(): Promise<void> {
  const r = route();
  if (r.page !== 'object' || !r.key) return;
  if (detailFetch?.key === r.key) {
    detailFetch.again = true;
    return;
  }
  detailFetch = { key: r.key, again: false };
  try {
    const res = await fetch(`/api/object?key=${encodeURIComponent(r.key)}`);
    if (route().key === r.key) store.detail = res.ok ? ((await res.json()) as ObjectDetail) : null;
  } catch {
    // The stream's reconnect brings a new tick.
  }
  const again = detailFetch.again;
  detailFetch = undefined;
  draw();
  if (again) void refreshDetail();
}

function onMessage(message: WorkerMessage): void {
  if (message.type === 'live') live = message.live;
  else store.apply(message);
  if (message.type === 'tick' || message.type === 'state') void refreshDetail();
  draw();
}

/**
 * One stream per browser through a SharedWorker (see stream-worker.ts); a
 * browser without SharedWorker opens its own stream in this tab.
 */
function connect(): void {
  if (typeof SharedWorker === 'function') {
    const worker = new SharedWorker('/assets/stream-worker.js', { type: 'module', name: 'dockyard-stream' });
    worker.port.onmessage = (e: MessageEvent<WorkerMessage>) => onMessage(e.data);
    worker.port.start();
    window.addEventListener('pagehide', () => worker.port.postMessage('bye'));
    return;
  }
  const stream = new EventSource('/api/stream');
  stream.onopen = () => onMessage({ type: 'live', live: 'live' });
  stream.onerror = () => onMessage({ type: 'live', live: 'reconnecting' });
  stream.onmessage = (e: MessageEvent<string>) => onMessage(JSON.parse(e.data) as StreamMessage);
}

const THEME_KEY = 'dockyard-dashboard-theme';

function setTheme(theme: string): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem(THEME_KEY, theme);
  draw();
}

function nav(current: Route['page']) {
  const link = (page: Route['page'], href: string, label: string) =>
    html`<a href=${href} aria-current=${current === page ? 'page' : 'false'}>${label}</a>`;
  const theme = document.documentElement.dataset.theme ?? 'auto';
  return html`<header>
    <span class="brand">Dockyard</span>
    <nav aria-label="Views">
      ${link('fleet', '#/', 'Fleet')} ${link('containers', '#/containers', 'Containers')}
      ${link('objects', '#/objects', 'Objects')}
    </nav>
    <label class="filter"
      >Filter
      <input
        type="search"
        .value=${filter}
        @input=${(e: Event) => {
          filter = (e.target as HTMLInputElement).value;
          draw();
        }}
    /></label>
    <label
      >Theme
      <select @change=${(e: Event) => setTheme((e.target as HTMLSelectElement).value)}>
        ${['auto', 'light', 'dark'].map((t) => html`<option value=${t} ?selected=${t === theme}>${t}</option>`)}
      </select>
    </label>
    <span class="live ${live}" role="status" data-testid="live">${live}</span>
  </header>`;
}

function draw(): void {
  const r = route();
  const state = store.state;
  const body = !state
    ? html`<p role="status">Loading…</p>`
    : r.page === 'containers'
      ? containersPage(state, filter)
      : r.page === 'objects'
        ? objectsPage(state, filter)
        : r.page === 'object'
          ? objectPage(store.detail, r.key ?? '')
          : fleetPage(state);
  const app = document.getElementById('app');
  if (!app) return;
  // The page's static "Loading…" is not lit-html's to replace: clear it once.
  if (!rendered) app.textContent = '';
  rendered = true;
  render(
    html`${nav(r.page)}
      <main>${body}</main>`,
    app,
  );
  // For the browser tests' live-update measurement: when the last update was drawn.
  document.body.dataset.renderedAt = String(performance.now());
}

window.addEventListener('hashchange', () => {
  store.detail = undefined;
  void refreshDetail();
  draw();
});

document.documentElement.dataset.theme = localStorage.getItem(THEME_KEY) ?? 'auto';
connect();
void refreshDetail();
draw();
