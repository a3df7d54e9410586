import type Dockerode from 'dockerode';

/** The Docker object types whose events a managed kind can follow (ManagedKind.dockerEventType). */
export const DOCKER_OBJECT_TYPES = ['container', 'image', 'network', 'volume'] as const;
export type DockerObjectType = (typeof DOCKER_OBJECT_TYPES)[number];

/** The part of a Docker event Dockyard uses. */
export interface DockerEvent {
  type: string;
  action: string;
  id: string;
  attributes: Record<string, string>;
  /** Nanoseconds since the epoch; the resume point after a reconnect. */
  timeNano: bigint;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number | string;
}

/**
 * Splits the daemon's newline-delimited JSON into events; returns the
 * unfinished tail for the next chunk. Pure, so it is unit-tested with chunks
 * cut anywhere.
 */
export function parseEventChunk(buffer: string): { events: DockerEvent[]; rest: string } {
  const lines = buffer.split('\n');
  const rest = lines.pop() ?? '';
  const events: DockerEvent[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    let raw: RawEvent;
    try {
      raw = JSON.parse(trimmed) as RawEvent;
    } catch {
      continue; // a garbled line is skipped; the periodic relist is the safety net
    }
    events.push({
      type: raw.Type ?? 'unknown',
      action: raw.Action ?? raw.status ?? 'unknown',
      id: raw.Actor?.ID ?? raw.id ?? '',
      attributes: raw.Actor?.Attributes ?? {},
      timeNano: exactTimeNano(trimmed) ?? BigInt(raw.time ?? 0) * 1_000_000_000n,
    });
  }
  return { events, rest };
}

/**
 * timeNano exceeds 2^53, so JSON.parse would round it; read the digits from
 * the raw text instead so the resume point is exact.
 */
function exactTimeNano(line: string): bigint | undefined {
  const match = /"timeNano"\s*:\s*"?(\d+)/.exec(line);
  return match?.[1] !== undefined ? BigInt(match[1]) : undefined;
}

/**
 * Container actions that change nothing Dockyard observes: every healthcheck
 * probe is an exec (exec_create, exec_start, exec_die), so a container with a
 * one-second healthcheck would otherwise be reconciled every second for
 * nothing. The health verdict itself arrives as `health_status: …`. Dropped
 * on this side, not with the daemon's `event` filter: that filter is an
 * allow-list, and an action a newer Engine adds would be lost.
 */
const UNOBSERVED_CONTAINER_ACTIONS = new Set(['attach', 'detach', 'resize', 'top', 'export', 'archive-path']);

/** Whether an event can change what a reconcile observes (a probe's exec cannot). */
export function changesObservedState(event: Pick<DockerEvent, 'type' | 'action'>): boolean {
  if (event.type !== 'container') return true;
  return !event.action.startsWith('exec_') && !UNOBSERVED_CONTAINER_ACTIONS.has(event.action);
}

/** Docker's `since` accepts seconds with a nanosecond fraction. */
export function sinceParameter(timeNano: bigint): string {
  const seconds = timeNano / 1_000_000_000n;
  const nanos = (timeNano % 1_000_000_000n).toString().padStart(9, '0');
  return `${seconds}.${nanos}`;
}

/** Jittered exponential backoff: attempt 0 → ~initial, capped at max. */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

export interface EventStreamOptions {
  host: string;
  /** The streaming client (no idle timeout); read at every (re)connect so a rebuilt connection is used. */
  client: () => Dockerode | undefined;
  onEvent: (event: DockerEvent) => void;
  /** Called on connect and disconnect so the host's status and metrics can follow. */
  onConnectionChange?: (connected: boolean, error?: unknown) => void;
  onReconnect?: () => void;
  /** Resume point from an earlier stream of the same host (nanoseconds), so a restarted stream replays the gap. */
  sinceNano?: bigint;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Object types to follow (default: every type a Dockyard kind manages). */
  types?: readonly DockerObjectType[];
}

/**
 * A supervised Docker event stream for one host: reconnects with backoff and
 * replays from the last event seen (`since`). The daemon keeps only its last
 * 256 events, so a long outage can lose some: the owner must treat every
 * connect after the first as "the replay may be incomplete" (HostRuntime
 * resyncs the host's objects then); the periodic poll stays the last resort.
 */
export class DockerEventStream {
  private stopped = true;
  private lastTimeNano: bigint | undefined;
  private current: NodeJS.ReadableStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;

  constructor(private readonly opts: EventStreamOptions) {
    this.lastTimeNano = opts.sinceNano;
  }

  /** The time of the last event seen (nanoseconds), for a successor stream to resume from. */
  get resumePoint(): bigint | undefined {
    return this.lastTimeNano;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.destroyCurrent();
  }

  /** Drops the current stream (tests use it to simulate a cut); it reconnects by itself. */
  cut(): void {
    // Unlike stop(), the stream stays `current` so its close handler reports
    // the disconnect and schedules the reconnect.
    (this.current as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined)?.destroy?.();
  }

  get connected(): boolean {
    return this.current !== undefined;
  }

  private destroyCurrent(): void {
    const stream = this.current as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.current = undefined;
    stream?.destroy?.();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = this.opts.client();
    if (!client) return this.scheduleReconnect(new Error('no connection'));
    const filters = { type: [...(this.opts.types ?? DOCKER_OBJECT_TYPES)] };
    const since = this.lastTimeNano !== undefined ? sinceParameter(this.lastTimeNano + 1n) : undefined;
    // Docker accepts a fractional `since` (seconds.nanoseconds); the typings say number.
    const options: Dockerode.GetEventsOptions = { filters };
    if (since !== undefined) options.since = since as unknown as number;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await client.getEvents(options);
    } catch (err) {
      return this.scheduleReconnect(err);
    }
    if (this.stopped) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return;
    }
    this.current = stream;
    this.attempt = 0;
    this.opts.onConnectionChange?.(true);
    let buffer = '';
    stream.on('data', (chunk: Buffer | string) => {
      const parsed = parseEventChunk(buffer + chunk.toString());
      buffer = parsed.rest;
      for (const event of parsed.events) {
        if (this.lastTimeNano === undefined || event.timeNano > this.lastTimeNano)
          this.lastTimeNano = event.timeNano;
        if (!changesObservedState(event)) continue;
        try {
          this.opts.onEvent(event);
        } catch {
          // handlers only enqueue keys; a throwing handler must not kill the stream
        }
      }
    });
    const ended = (err?: unknown) => {
      if (this.current !== stream) return;
      this.current = undefined;
      this.opts.onConnectionChange?.(false, err);
      this.scheduleReconnect(err);
    };
    stream.on('end', () => ended());
    stream.on('close', () => ended());
    stream.on('error', (err: unknown) => ended(err));
  }

  private scheduleReconnect(err?: unknown): void {
    if (this.stopped) return;
    if (err !== undefined && this.attempt === 0) this.opts.onConnectionChange?.(false, err);
    const delay = backoffDelay(
      this.attempt++,
      this.opts.initialBackoffMs ?? 500,
      this.opts.maxBackoffMs ?? 30_000,
    );
    this.timer = setTimeout(() => {
      this.opts.onReconnect?.();
      void this.connect();
    }, delay);
  }
}
