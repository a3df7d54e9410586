// The dashboard page: one EventSource to the local server (state first, then
// patches), a hash router, and lit-html rendering. No polling: every update
// arrives on the stream.

import { html, render } from 'lit-html';
import type { StreamMessage } from '../views/types.js';
import { containersPage, fleetPage, objectPage, objectsPage } from './pages.js';
import { Store } from './store.js';

const store = new Store();
let stream: EventSource | undefined;
let streamFor: string | undefined;
let live: 'connecting' | 'live' | 'reconnecting' = 'connecting';
let filter = '';

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

/** One stream per tab; it is reopened only when the object page's object changes. */
function connect(detailKey: string | undefined): void {
  if (stream && streamFor === detailKey) return;
  stream?.close();
  streamFor = detailKey;
  store.detail = undefined;
  stream = new EventSource(detailKey ? `/api/stream?detail=${encodeURIComponent(detailKey)}` : '/api/stream');
  stream.onopen = () => {
    live = 'live';
    draw();
  };
  stream.onerror = () => {
    live = 'reconnecting';
    draw();
  };
  stream.onmessage = (e: MessageEvent<string>) => {
    store.apply(JSON.parse(e.data) as StreamMessage);
    draw();
  };
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
  if (app)
    render(
      html`${nav(r.page)}
        <main>${body}</main>`,
      app,
    );
  // For the browser tests' live-update measurement: when the last update was drawn.
  document.body.dataset.renderedAt = String(performance.now());
}

window.addEventListener('hashchange', () => {
  const r = route();
  connect(r.page === 'object' ? r.key : undefined);
  draw();
});

document.documentElement.dataset.theme = localStorage.getItem(THEME_KEY) ?? 'auto';
const first = route();
connect(first.page === 'object' ? first.key : undefined);
draw();
