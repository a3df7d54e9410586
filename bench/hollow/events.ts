import type { IncomingMessage, ServerResponse } from 'node:http';
import { labelsMatch, openStream, parseFilters, badRequest } from './http.js';
import { nowNano } from './ids.js';

export type EventType = 'container' | 'image' | 'network' | 'volume';

export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: bigint;
}

/** Engine 20.10 replays at most its last 256 events to a `since` request (daemon/events/events.go). */
export const EVENTS_LIMIT = 256;

type Listener = (e: EngineEvent) => void;

/**
 * One host's event log: a ring of the last 256 events for `since` replays and
 * the live subscribers. Pure bookkeeping; the HTTP side is serveEvents.
 */
export class EventLog {
  private readonly ring: EngineEvent[] = [];
  private readonly listeners = new Set<Listener>();

  emit(Type: EventType, Action: string, ID: string, Attributes: Record<string, string>): void {
    const timeNano = nowNano();
    const e: EngineEvent = {
      Type,
      Action,
      Actor: { ID, Attributes },
      scope: 'local',
      time: Number(timeNano / 1_000_000_000n),
      timeNano,
    };
    this.ring.push(e);
    if (this.ring.length > EVENTS_LIMIT) this.ring.shift();
    for (const l of this.listeners) l(e);
  }

  since(fromNano: bigint | undefined, untilNano: bigint | undefined): EngineEvent[] {
    if (fromNano === undefined) return [];
    return this.ring.filter(
      (e) => e.timeNano >= fromNano && (untilNano === undefined || e.timeNano <= untilNano),
    );
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

/**
 * The JSON Docker writes for an event: container and image events also carry
 * the legacy `status`, `id` and `from` fields (from = the image attribute).
 * timeNano is written as a bare number beyond 2^53, as Go does.
 */
export function eventJson(e: EngineEvent): string {
  const legacy =
    e.Type === 'container' || e.Type === 'image'
      ? `"status":${JSON.stringify(e.Action)},"id":${JSON.stringify(e.Actor.ID)},${
          e.Actor.Attributes.image !== undefined ? `"from":${JSON.stringify(e.Actor.Attributes.image)},` : ''
        }`
      : '';
  const rest = JSON.stringify({
    Type: e.Type,
    Action: e.Action,
    Actor: e.Actor,
    scope: e.scope,
    time: e.time,
  });
  return `{${legacy}${rest.slice(1, -1)},"timeNano":${e.timeNano}}\n`;
}

/** Docker's since/until: Unix seconds with an optional fraction (`1700000000.123456789`), or RFC 3339. */
export function parseTime(value: string | null): bigint | undefined {
  if (value === null || value === '') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (m) return BigInt(m[1] as string) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`failed to parse value ${value} as a timestamp`);
  return BigInt(ms) * 1_000_000n;
}

/** The event filters Dockyard and people use: type, event, container, image, network, volume, label. */
export function eventMatcher(filters: Map<string, string[]>): (e: EngineEvent) => boolean {
  const any = (key: string, values: string[]) => {
    const wanted = filters.get(key);
    return !wanted || wanted.length === 0 || wanted.some((w) => values.includes(w));
  };
  return (e) => {
    const attrs = e.Actor.Attributes;
    const id = e.Actor.ID;
    if (!any('type', [e.Type])) return false;
    if (!any('event', [e.Action, e.Action.split(':')[0] ?? e.Action])) return false;
    if (
      filters.has('container') &&
      !(e.Type === 'container' && any('container', [id, id.slice(0, 12), attrs.name ?? '']))
    )
      return false;
    if (filters.has('image') && !any('image', [attrs.image ?? '', e.Type === 'image' ? id : '']))
      return false;
    if (filters.has('network') && !(e.Type === 'network' && any('network', [id, attrs.name ?? ''])))
      return false;
    if (filters.has('volume') && !(e.Type === 'volume' && any('volume', [id]))) return false;
    return labelsMatch(attrs, filters.get('label'));
  };
}

/**
 * GET /events: replays what `since` asks for, then streams live events until
 * `until` (or forever without it), like the daemon. A past `until` answers the
 * replay and closes.
 */
export function serveEvents(
  log: EventLog,
  req: IncomingMessage,
  res: ServerResponse,
  q: URLSearchParams,
  apiVersion: string,
): void {
  const since = parseTime(q.get('since'));
  const until = parseTime(q.get('until'));
  const match = eventMatcher(parseFilters(q));
  openStream(res, apiVersion);
  for (const e of log.since(since, until)) if (match(e)) res.write(eventJson(e));
  const now = nowNano();
  if (until !== undefined && until <= now) {
    res.end();
    return;
  }
  const unsubscribe = log.subscribe((e) => {
    if (match(e)) res.write(eventJson(e));
  });
  const timer =
    until !== undefined ? setTimeout(() => res.end(), Number((until - now) / 1_000_000n)).unref() : undefined;
  const close = () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
  res.on('close', close);
  req.on('close', close);
}
