// Kubernetes Events (events.k8s.io/v1) for what a controller did or saw, as
// `kubectl describe` and `kubectl events` show them. Recording never throws
// and never blocks a reconcile: writes happen in the background, a few at a
// time (event-writes.ts), and failures are logged. Repeats are aggregated
// into `series.count` (event-aggregator.ts).

import { hostname } from 'node:os';
import {
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type EventsV1Api,
  type EventsV1Event,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { EventReason, Reason } from '../crds/reasons.js';
import { isNotFound } from './api-errors.js';
import { EventAggregator, eventKey, type EventCommand } from './event-aggregator.js';
import { EventWrites } from './event-writes.js';

export type EventType = 'Normal' | 'Warning';

/** Another object an Event concerns (events.k8s.io/v1 `related`), e.g. the DockerHost a repair happened on. */
export interface RelatedObject {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
}

export interface EventRecorder {
  /**
   * Records that `action` on `regarding` happened for `reason`, e.g.
   * (container, 'Warning', 'PullFailed', 'Pull', 'pull access denied for app:1.2').
   */
  event(
    regarding: KubernetesObject,
    type: EventType,
    reason: Reason | EventReason,
    action: string,
    note: string,
    options?: { related?: RelatedObject },
  ): void;
}

/**
 * `recorder` with every Event also naming `related` (unless the caller names
 * another): what a per-host step records, so a view of one host (the
 * dashboard's fleet grid) can count the repairs and refusals that happened on
 * it without parsing notes.
 */
export function withRelated(recorder: EventRecorder, related: KubernetesObject): EventRecorder {
  const ref: RelatedObject = {
    apiVersion: related.apiVersion,
    kind: related.kind,
    name: related.metadata?.name,
    ...(related.metadata?.namespace ? { namespace: related.metadata.namespace } : {}),
    ...(related.metadata?.uid ? { uid: related.metadata.uid } : {}),
  };
  return {
    event: (regarding, type, reason, action, note, options) =>
      recorder.event(regarding, type, reason, action, note, { related: ref, ...options }),
  };
}

export type EventsApi = Pick<EventsV1Api, 'createNamespacedEvent' | 'patchNamespacedEvent'>;

export interface KubeEventRecorderOptions {
  api: EventsApi;
  /** Controller name; events report `dockyard.io/<controller>`. */
  controller: string;
  /** This replica (pod name); default the host name. */
  instance?: string;
  logger?: Logger;
  fieldManager?: string;
  windowMs?: number;
  now?: () => number;
  /** Once aborted (the lease was lost), no Event is written any more, not even a pending series update. */
  writesStop?: AbortSignal;
  /** Bounds the writes in flight and queued; shared by a manager's recorders. Default: this recorder's own. */
  writes?: EventWrites;
}

/** The API server rejects notes over 1 kB. */
const MAX_NOTE_BYTES = 1024;

export function truncateNote(note: string): string {
  if (Buffer.byteLength(note) <= MAX_NOTE_BYTES) return note;
  let cut = note.slice(0, MAX_NOTE_BYTES - 3);
  while (Buffer.byteLength(cut) > MAX_NOTE_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly api: EventsApi;
  private readonly reportingController: string;
  private readonly reportingInstance: string;
  private readonly log: Logger;
  private readonly fieldManager: string;
  private readonly aggregator: EventAggregator;
  private readonly now: () => number;
  private readonly writesStop: AbortSignal | undefined;
  private readonly writes: EventWrites;
  private readonly pending = new Set<Promise<void>>();
  private sequence = 0;

  constructor(options: KubeEventRecorderOptions) {
    this.api = options.api;
    this.reportingController = `dockyard.io/${options.controller}`;
    this.reportingInstance = (options.instance ?? hostname()).slice(0, 128);
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ eventRecorder: options.controller });
    this.fieldManager = options.fieldManager ?? 'dockyard';
    this.aggregator = new EventAggregator(options.windowMs);
    this.now = options.now ?? Date.now;
    this.writesStop = options.writesStop;
    this.writes = options.writes ?? new EventWrites();
  }

  event(
    regarding: KubernetesObject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
    options: { related?: RelatedObject } = {},
  ): void {
    try {
      const truncated = truncateNote(note);
      const uid =
        regarding.metadata?.uid ??
        `${regarding.kind}/${regarding.metadata?.namespace}/${regarding.metadata?.name}`;
      const related = options.related;
      const key = eventKey({
        uid,
        reason,
        note: truncated,
        ...(related ? { related: `${related.kind}/${related.name}` } : {}),
      });
      const occurredAt = this.now();
      const command = this.aggregator.record(key, occurredAt);
      // Built when its turn comes, with the time it happened.
      this.run(key, command, () =>
        this.build({
          regarding,
          type,
          reason,
          action,
          note: truncated,
          occurredAt,
          ...(related ? { related } : {}),
        }),
      );
    } catch (err) {
      this.log.warn({ err, reason }, 'could not record event');
    }
  }

  /** Waits for every write started so far (for shutdown and tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private run(key: string, command: EventCommand, build: () => EventsV1Event): void {
    if (command.kind === 'none') return;
    const written = this.writes.submit(() => this.write(key, command, build));
    if (!written) {
      // Dropped (too many waiting): the next occurrence starts a fresh Event.
      this.aggregator.failed(key);
      this.log.debug({ key }, 'event dropped: too many event writes waiting');
      return;
    }
    const task = written
      .catch((err: unknown) => {
        this.aggregator.failed(key);
        this.log.warn({ err }, 'could not write event');
      })
      .finally(() => this.pending.delete(task));
    this.pending.add(task);
  }

  /** Creates the Event, then patches its series while occurrences were counted meanwhile. */
  private async write(key: string, command: EventCommand, build: () => EventsV1Event): Promise<void> {
    let next: EventCommand = command;
    while (next.kind !== 'none') {
      if (this.writesStop?.aborted) return;
      if (next.kind === 'create') {
        const body = build();
        const namespace = body.metadata?.namespace ?? 'default';
        await this.api.createNamespacedEvent({ namespace, body, fieldManager: this.fieldManager });
        next = this.aggregator.created(key, body.metadata?.name ?? '', namespace);
      } else {
        try {
          await this.api.patchNamespacedEvent(
            {
              name: next.name,
              namespace: next.namespace,
              body: {
                series: { count: next.count, lastObservedTime: new V1MicroTime(next.lastObservedTime) },
              },
              fieldManager: this.fieldManager,
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          next = this.aggregator.patched(key);
        } catch (err) {
          // The Event expired (TTL, default 1 h) or was deleted: start a new one.
          if (!isNotFound(err)) throw err;
          this.aggregator.failed(key);
          next = this.aggregator.record(key, this.now());
        }
      }
    }
  }

  private build(e: {
    regarding: KubernetesObject;
    type: EventType;
    reason: string;
    action: string;
    note: string;
    occurredAt: number;
    related?: RelatedObject;
  }): EventsV1Event {
    const { regarding, type, reason, action, note, related, occurredAt: now } = e;
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace || 'default';
    // Like client-go: <object name>.<hex timestamp>, plus a sequence so two events in one ms differ.
    const name = `${meta.name ?? 'unknown'}.${(BigInt(now) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16)}`;
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: new V1MicroTime(now),
      type,
      reason,
      action,
      note,
      reportingController: this.reportingController,
      reportingInstance: this.reportingInstance,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      ...(related ? { related } : {}),
    };
  }
}

/** Keeps events in memory, for controller unit tests (like client-go's FakeRecorder). */
export class FakeEventRecorder implements EventRecorder {
  readonly events: string[] = [];

  event(regarding: KubernetesObject, type: EventType, reason: string, action: string, note: string): void {
    this.events.push(`${type} ${reason} ${action} ${regarding.metadata?.name ?? ''}: ${note}`);
  }
}
