// The pages, as lit-html templates over the store's rows. Semantic tables
// (caption, th scope), links for every navigation (keyboard reachable), and
// text beside every colour so no state is told by colour alone.

import { html, nothing, type TemplateResult } from 'lit-html';
import type {
  Access,
  ConditionCell,
  ContainerRow,
  DashboardState,
  HostRow,
  ObjectDetail,
  ObjectHostCell,
  ObjectRow,
  RolloutCell,
} from '../views/types.js';
import { age, bytes, clock } from './format.js';

/** A table's column headers; a column marked 'num' is right-aligned. */
function columnHeads(columns: Array<string | [string, 'num']>): TemplateResult {
  return html`<thead>
    <tr>
      ${columns.map((c) =>
        typeof c === 'string'
          ? html`<th scope="col">${c}</th>`
          : html`<th scope="col" class="num">${c[0]}</th>`,
      )}
    </tr>
  </thead>`;
}

const objectHref = (key: string) => `#/object/${encodeURIComponent(key)}`;

/**
 * Rows a table draws at most: a browser takes seconds to lay out 5,000 rows
 * (the bench's dashboard scenario measured 2.5 s), and nobody reads them;
 * the filter narrows the rest.
 */
export const ROW_LIMIT = 500;

/** The rows to draw: all of them, or the first ROW_LIMIT with those needing attention first. */
export function capRows<T>(rows: readonly T[], needsAttention: (row: T) => boolean): T[] {
  if (rows.length <= ROW_LIMIT) return [...rows];
  return [...rows.filter(needsAttention), ...rows.filter((r) => !needsAttention(r))].slice(0, ROW_LIMIT);
}

function rowLimitNotice(shown: number, total: number): TemplateResult | typeof nothing {
  if (shown >= total) return nothing;
  return html`<p class="notice" role="status" data-testid="row-limit">
    Showing ${shown} of ${total} rows, those needing attention first: use the filter to narrow.
  </p>`;
}

function forbidden(access: Access, id: string, what: string): TemplateResult | typeof nothing {
  const grant = access.resources[id];
  if (grant?.scope === 'forbidden')
    return html`<p class="notice" role="status">Your Kubernetes permissions do not let you list ${what}.</p>`;
  if (grant?.scope === 'namespaces')
    return html`<p class="notice" role="status">
      ${what} in ${grant.namespaces?.join(', ')} only (you may not list them in every namespace).
    </p>`;
  return nothing;
}

function readyBadge(c: ConditionCell): TemplateResult {
  const cls = c.status === 'True' ? 'ok' : c.status === 'False' ? 'bad' : 'unknown';
  const text = c.status === 'True' ? 'Ready' : (c.reason ?? (c.status === 'False' ? 'Not ready' : 'Unknown'));
  return html`<span class="badge ${cls}" title=${c.message ?? ''}>${text}</span>`;
}

function connectionCell(h: HostRow): TemplateResult {
  if (h.connection === 'connected') return html`<span class="badge ok">Connected</span>`;
  if (h.connection === 'pending') return html`<span class="badge unknown">Pending</span>`;
  return html`<span class="badge bad" title=${h.ready.message ?? ''}
      >${h.ready.reason ?? 'Disconnected'}</span
    >
    <span class="stale" data-unknown-since=${h.unknownSince ?? ''}
      >unknown since ${clock(h.unknownSince)}</span
    >`;
}

export function fleetPage(state: DashboardState): TemplateResult {
  const hosts = state.hosts;
  const connected = hosts.filter((h) => h.connection === 'connected').length;
  return html`<section aria-labelledby="fleet-title">
    <h1 id="fleet-title">Fleet</h1>
    ${forbidden(state.access, 'dockerhosts.dockyard.io', 'DockerHosts')}
    <p class="summary" data-testid="fleet-summary">
      ${hosts.length} hosts, ${connected} connected, ${hosts.length - connected} not connected
    </p>
    <table class="grid" data-testid="fleet">
      <caption class="visually-hidden">
        One row per DockerHost
      </caption>
      ${columnHeads(['Host', 'Connection', 'Mode', 'Engine', 'Policy', ['Containers (running / all)', 'num'], ['Dockyard objects (ready / placed)', 'num'], ['Drift repairs (1 h)', 'num'], ['Policy refusals', 'num'], 'Last seen'])}
      <tbody>
        ${hosts.map(
          (h) =>
            html`<tr data-host=${h.name} data-connection=${h.connection}>
              <th scope="row">
                <a href=${objectHref(`DockerHost/${h.name}`)}>${h.name}</a>${
                  h.unschedulable ? html` <span class="badge unknown">cordoned</span>` : nothing
                }
              </th>
              <td>${connectionCell(h)}</td>
              <td>${h.mode ?? ''}</td>
              <td>${h.engineVersion ?? ''}</td>
              <td>${h.policy}</td>
              <td class="num" data-col="containers">
                ${h.containers ? `${h.containers.running} / ${h.containers.total}` : ''}
              </td>
              <td class="num" data-col="placed">
                ${h.placed.ready} /
                ${h.placed.total}${h.placed.unknown > 0 ? ` (${h.placed.unknown} unknown)` : ''}
              </td>
              <td class="num" data-col="repairs">${h.driftRepairs}</td>
              <td class="num" data-col="refusals">${h.policyRefusals}</td>
              <td>
                ${
                  h.lastSeen
                    ? html`<time datetime=${h.lastSeen} title=${h.lastSeen}>${age(h.lastSeen)} ago</time>`
                    : ''
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function healthCell(c: ContainerRow): TemplateResult {
  const cls = { ok: 'ok', failing: 'bad', pending: 'unknown', unknown: 'unknown' }[c.healthy];
  return html`<span class="badge ${cls}">${c.healthy === 'failing' ? 'Failing' : c.healthy}</span>
    <span class="health-text">${c.healthText}</span>${
      c.unknownSince ? html` <span class="stale">unknown since ${clock(c.unknownSince)}</span>` : nothing
    }`;
}

export function containersPage(state: DashboardState, filter: string): TemplateResult {
  const f = filter.toLowerCase();
  const rows = state.containers.filter((c) => !f || c.key.toLowerCase().includes(f) || c.image.includes(f));
  const shown = capRows(rows, (c) => c.healthy === 'failing');
  return html`<section aria-labelledby="containers-title">
    <h1 id="containers-title">Containers</h1>
    ${forbidden(state.access, 'dockercontainers.dockyard.io', 'DockerContainers')}
    <p class="summary">
      ${state.containers.length} containers, ${state.containers.filter((c) => c.healthy === 'failing').length}
      failing
    </p>
    ${rowLimitNotice(shown.length, rows.length)}
    <table class="grid" data-testid="containers">
      <caption class="visually-hidden">
        One row per container and host
      </caption>
      ${columnHeads(['Namespace', 'DockerContainer', 'Host', 'Owner', 'Image', 'State', 'Health', ['Restarts', 'num']])}
      <tbody>
        ${shown.map(
          (c) =>
            html`<tr data-container=${c.key} data-health=${c.healthy}>
              <td>${c.namespace}</td>
              <th scope="row">
                <a href=${objectHref(`DockerContainer/${c.namespace}/${c.name}`)}>${c.name}</a>
              </th>
              <td>${c.host}</td>
              <td>${c.owner ? `${c.owner.kind} ${c.owner.name}` : ''}</td>
              <td>${c.image}</td>
              <td>${c.state ?? c.phase}</td>
              <td>${healthCell(c)}</td>
              <td class="num">${c.restarts ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

export function objectsPage(state: DashboardState, filter: string): TemplateResult {
  const f = filter.toLowerCase();
  const rows: ObjectRow[] = state.objects.filter((o) => !f || o.key.toLowerCase().includes(f));
  const shown = capRows(rows, (o) => o.ready.status !== 'True');
  return html`<section aria-labelledby="objects-title">
    <h1 id="objects-title">Objects</h1>
    <p class="summary" data-testid="objects-summary">
      ${state.objects.length} objects, ${state.objects.filter((o) => o.ready.status !== 'True').length} not
      ready
    </p>
    ${rowLimitNotice(shown.length, rows.length)}
    <table class="grid" data-testid="objects">
      <caption class="visually-hidden">
        Every Dockyard object you may list
      </caption>
      ${columnHeads(['Kind', 'Namespace', 'Name', 'Ready', 'Phase', 'Hosts ready'])}
      <tbody>
        ${shown.map(
          (o) =>
            html`<tr data-object=${o.key}>
              <td>${o.kind}</td>
              <td>${o.namespace ?? ''}</td>
              <th scope="row"><a href=${objectHref(o.key)}>${o.name}</a></th>
              <td>${readyBadge(o.ready)}</td>
              <td>${o.phase ?? ''}</td>
              <td>${o.hostsReady ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function pullCell(h: ObjectHostCell): TemplateResult | typeof nothing {
  if (!h.pull) return nothing;
  const p = h.pull;
  return html`<div class="pull" data-testid="pull-progress">
    <label
      >Pull ${p.percent} % (${bytes(p.currentBytes)} of ${bytes(p.totalBytes)})
      <progress max="100" value=${p.percent}></progress
    ></label>
    ${
      p.layers?.length
        ? html`<ul class="layers">
            ${p.layers.map(
              (l) =>
                html`<li data-layer=${l.id}>
                  <code>${l.id}</code> ${l.status}
                  ${l.totalBytes ? html`<progress max=${l.totalBytes} value=${l.currentBytes ?? 0}></progress>` : nothing}
                </li>`,
            )}
          </ul>`
        : nothing
    }
  </div>`;
}

function rolloutSection(r: RolloutCell): TemplateResult {
  return html`<section aria-labelledby="rollout-title" data-testid="rollout">
    <h2 id="rollout-title">Rollout</h2>
    <p>
      ${r.phase ?? ''} · revision ${r.revision ?? ''} · ${r.updated ?? 0} updated, ${r.available ?? 0}
      available of ${r.desired ?? 0}
    </p>
    <p class="muted">
      current ${r.currentRevision ?? '–'}, update ${r.updateRevision ?? '–'}, stable
      ${r.stableRevision ?? '–'}
    </p>
    ${r.message ? html`<p>${r.message}</p>` : nothing}
    <table class="grid">
      <caption class="visually-hidden">
        Replicas
      </caption>
      ${columnHeads(['Slot', 'Replica', 'Host', 'Revision', 'Ready'])}
      <tbody>
        ${r.replicas.map(
          (x) =>
            html`<tr>
              <td>${x.slot ?? ''}</td>
              <th scope="row">${x.name}</th>
              <td>${x.host ?? ''}</td>
              <td><code>${x.revision ?? ''}</code></td>
              <td>${readyBadge(x.ready)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function conditionsSection(detail: ObjectDetail): TemplateResult {
  return html`<section aria-labelledby="conditions-title">
    <h2 id="conditions-title">Conditions</h2>
    <table class="grid">
      ${columnHeads(['Type', 'Status', 'Reason', 'Message', 'Since'])}
      <tbody>
        ${detail.conditions.map(
          (c) =>
            html`<tr data-condition=${c.type}>
              <th scope="row">${c.type}</th>
              <td>${c.status}</td>
              <td>${c.reason ?? ''}</td>
              <td>${c.message ?? ''}</td>
              <td>${clock(c.since)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

export function objectPage(detail: ObjectDetail | null | undefined, key: string): TemplateResult {
  if (detail === undefined) return html`<p role="status">Loading ${key}…</p>`;
  if (detail === null)
    return html`<p role="status">${key} is not there (deleted, or you may not list it).</p>`;
  return html`<article data-testid="object" data-object=${detail.key}>
    <h1>${detail.kind} ${detail.namespace ? `${detail.namespace}/` : ''}${detail.name}</h1>
    ${conditionsSection(detail)} ${detail.rollout ? rolloutSection(detail.rollout) : nothing}
    <section aria-labelledby="hosts-title">
      <h2 id="hosts-title">Per host</h2>
      <table class="grid" data-testid="object-hosts">
        ${columnHeads(['Host', 'Phase', 'Message', 'Details', 'Updated'])}
        <tbody>
          ${detail.hosts.map(
            (h) =>
              html`<tr data-host=${h.name}>
                <th scope="row">${h.name}</th>
                <td>${h.phase}</td>
                <td>${h.message ?? ''}${pullCell(h)}</td>
                <td>${h.extra.map(([k, v]) => html`<div><span class="muted">${k}</span> ${v}</div>`)}</td>
                <td>${clock(h.lastUpdateTime)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section aria-labelledby="spec-title">
      <h2 id="spec-title">Spec</h2>
      <dl class="spec">
        ${detail.spec.map(
          ([k, v]) =>
            html`<dt>${k}</dt>
              <dd><code>${v}</code></dd>`,
        )}
      </dl>
    </section>
    <section aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <ol class="timeline" data-testid="events">
        ${detail.events.map(
          (e) =>
            html`<li data-reason=${e.reason} class=${e.type === 'Warning' ? 'warning' : ''}>
              <time datetime=${e.time}>${clock(e.time)}</time> <strong>${e.reason}</strong>${
                e.count > 1 ? ` ×${e.count}` : ''
              }${e.host ? html` <span class="muted">on ${e.host}</span>` : nothing}:
              ${e.note}
            </li>`,
        )}
      </ol>
    </section>
  </article>`;
}
