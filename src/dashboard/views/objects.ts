// Every Dockyard object in one list, and one object's page. Pure.

import type { CoreV1Event } from '@kubernetes/client-node';
import { conditionCell, objectKey, timeText, type DockyardObject } from './cells.js';
import type { EventCell, ObjectDetail, ObjectHostCell, ObjectRow, RolloutCell } from './types.js';

/** One row per object of every kind. */
export function objectRows(byKind: ReadonlyMap<string, readonly DockyardObject[]>): ObjectRow[] {
  const rows: ObjectRow[] = [];
  for (const [kind, objects] of byKind) {
    for (const o of objects) {
      rows.push({
        key: objectKey(kind, o),
        kind,
        ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
        name: o.metadata?.name ?? '',
        ready: conditionCell(o.status, 'Ready'),
        ...(o.status?.phase ? { phase: o.status.phase } : {}),
        ...(o.status?.hostsReady ? { hostsReady: o.status.hostsReady } : {}),
      });
    }
  }
  return rows.sort((a, b) => a.key.localeCompare(b.key));
}

/** A value on one line: scalars as they are, the rest as compact JSON, cut at 200 characters. */
export function oneLine(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** Fields of a per-host entry the page shows besides name, phase and message. */
const HOST_DETAIL_FIELDS = [
  'containerName',
  'state',
  'health',
  'restartCount',
  'exitCode',
  'imageId',
  'repoDigest',
  'id',
];

interface Progress {
  percent: number;
  currentBytes: number;
  totalBytes: number;
  layers?: Array<{ id: string; status: string; currentBytes?: number; totalBytes?: number }>;
}

function hostCell(entry: Record<string, unknown>): ObjectHostCell {
  const progress = entry.progress as Progress | undefined;
  const extra = HOST_DETAIL_FIELDS.filter((f) => entry[f] !== undefined).map((f): [string, string] => [
    f,
    oneLine(entry[f]),
  ]);
  return {
    name: String(entry.name ?? ''),
    phase: String(entry.phase ?? ''),
    ...(typeof entry.message === 'string' ? { message: entry.message } : {}),
    ...(typeof entry.lastUpdateTime === 'string' ? { lastUpdateTime: entry.lastUpdateTime } : {}),
    ...(progress && entry.phase === 'Pulling' ? { pull: progress } : {}),
    extra,
  };
}

/** The object's Events, newest first; the host is the Event's related DockerHost. */
export function eventCells(events: readonly CoreV1Event[], uid: string | undefined): EventCell[] {
  const time = (e: CoreV1Event) =>
    timeText(e.series?.lastObservedTime) ?? timeText(e.lastTimestamp) ?? timeText(e.eventTime) ?? '';
  return events
    .filter((e) => uid !== undefined && e.involvedObject.uid === uid)
    .map((e) => ({
      time: time(e),
      type: e.type ?? 'Normal',
      reason: e.reason ?? '',
      note: e.message ?? '',
      count: e.series?.count ?? e.count ?? 1,
      ...(e.related?.kind === 'DockerHost' && e.related.name ? { host: e.related.name } : {}),
    }))
    .sort((a, b) => b.time.localeCompare(a.time));
}

interface ServiceStatus {
  phase?: string;
  revision?: number;
  currentRevision?: string;
  updateRevision?: string;
  stableRevision?: string;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
}

/** A DockerService's rollout: its counts, revisions and replicas (the DockerContainers it owns). */
function rolloutCell(service: DockyardObject, replicas: readonly DockyardObject[]): RolloutCell {
  const s = (service.status ?? {}) as ServiceStatus;
  const ready = conditionCell(service.status, 'Ready');
  return {
    ...(s.phase ? { phase: s.phase } : {}),
    ...(s.revision !== undefined ? { revision: s.revision } : {}),
    ...(s.currentRevision ? { currentRevision: s.currentRevision } : {}),
    ...(s.updateRevision ? { updateRevision: s.updateRevision } : {}),
    ...(s.stableRevision ? { stableRevision: s.stableRevision } : {}),
    ...(s.replicas !== undefined ? { desired: s.replicas } : {}),
    ...(s.readyReplicas !== undefined ? { ready: s.readyReplicas } : {}),
    ...(s.updatedReplicas !== undefined ? { updated: s.updatedReplicas } : {}),
    ...(s.availableReplicas !== undefined ? { available: s.availableReplicas } : {}),
    ...(ready.message ? { message: ready.message } : {}),
    replicas: replicas
      .filter((r) => r.metadata?.ownerReferences?.some((o) => o.uid === service.metadata?.uid))
      .map((r) => ({
        name: r.metadata?.name ?? '',
        ...(typeof r.spec?.hostName === 'string' ? { host: r.spec.hostName } : {}),
        ...(r.metadata?.labels?.['dockyard.io/revision']
          ? { revision: r.metadata.labels['dockyard.io/revision'] }
          : {}),
        ...(r.metadata?.annotations?.['dockyard.io/slot']
          ? { slot: r.metadata.annotations['dockyard.io/slot'] }
          : {}),
        ready: conditionCell(r.status, 'Ready'),
      }))
      .sort((a, b) => Number(a.slot ?? 0) - Number(b.slot ?? 0)),
  };
}

/** One object's page. `containers` are read for a DockerService's replicas. */
export function objectDetail(opts: {
  kind: string;
  obj: DockyardObject;
  events: readonly CoreV1Event[];
  containers: readonly DockyardObject[];
}): ObjectDetail {
  const { kind, obj } = opts;
  const conditions = (obj.status?.conditions ?? []).map((c) => ({
    type: c.type,
    ...conditionCell(obj.status, c.type),
  }));
  return {
    key: objectKey(kind, obj),
    kind,
    ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
    name: obj.metadata?.name ?? '',
    spec: Object.entries(obj.spec ?? {}).map(([k, v]): [string, string] => [k, oneLine(v)]),
    conditions,
    hosts: (obj.status?.hosts ?? []).map((h) => hostCell(h as unknown as Record<string, unknown>)),
    events: eventCells(opts.events, obj.metadata?.uid),
    ...(kind === 'DockerService' ? { rollout: rolloutCell(obj, opts.containers) } : {}),
  };
}
