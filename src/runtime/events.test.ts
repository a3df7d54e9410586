import {
  ApiException,
  HttpMethod,
  RequestContext,
  type ConfigurationOptions,
  type EventsV1Event,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FakeEventRecorder, KubeEventRecorder, truncateNote, withRelated, type EventsApi } from './events.js';
import { EventWrites } from './event-writes.js';
import { captureLogger, deferred } from './test-support.js';

const container: KubernetesObject = {
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'Container',
  metadata: { name: 'web', namespace: 'team-a', uid: 'uid-1', resourceVersion: '9' },
};

function contentTypeOf(options: ConfigurationOptions | undefined): string | undefined {
  const ctx = new RequestContext('https://example.invalid/x', HttpMethod.PATCH);
  for (const m of (options?.middleware ?? []) as { pre(c: RequestContext): unknown }[]) m.pre(ctx);
  return ctx.getHeaders()['Content-Type'];
}

type Call =
  | { op: 'create'; namespace: string; body: EventsV1Event; fieldManager: string | undefined }
  | { op: 'patch'; name: string; namespace: string; body: unknown; contentType: string | undefined };

function fakeApi(behaviour: { create?: () => Promise<void>; patch?: () => Promise<void> } = {}) {
  const calls: Call[] = [];
  const api: EventsApi = {
    createNamespacedEvent: async (p) => {
      calls.push({ op: 'create', namespace: p.namespace, body: p.body, fieldManager: p.fieldManager });
      await behaviour.create?.();
      return p.body;
    },
    patchNamespacedEvent: async (p, options) => {
      calls.push({
        op: 'patch',
        name: p.name,
        namespace: p.namespace,
        body: p.body as unknown,
        contentType: contentTypeOf(options),
      });
      await behaviour.patch?.();
      return { eventTime: new Date() } as EventsV1Event;
    },
  };
  return { api, calls };
}

function recorder(api: EventsApi, clock: { t: number }) {
  const { logger, lines } = captureLogger();
  const rec = new KubeEventRecorder({
    api,
    controller: 'container',
    instance: 'dockyard-0',
    logger,
    windowMs: 60_000,
    now: () => clock.t,
  });
  return { rec, lines };
}

describe('KubeEventRecorder', () => {
  it('creates an events.k8s.io/v1 Event describing the object and the reporter', async () => {
    const { api, calls } = fakeApi();
    const { rec } = recorder(api, { t: Date.UTC(2025, 0, 1) });
    rec.event(container, 'Warning', 'PullFailed', 'Pull', 'pull access denied');
    await rec.flush();
    expect(calls).toHaveLength(1);
    const call = calls[0];
    if (call?.op !== 'create') throw new Error('expected a create');
    expect(call.namespace).toBe('team-a');
    expect(call.fieldManager).toBe('dockyard');
    expect(call.body).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { namespace: 'team-a' },
      type: 'Warning',
      reason: 'PullFailed',
      action: 'Pull',
      note: 'pull access denied',
      reportingController: 'dockyard.io/container',
      reportingInstance: 'dockyard-0',
      regarding: {
        apiVersion: 'dockyard.io/v1alpha1',
        kind: 'Container',
        name: 'web',
        namespace: 'team-a',
        uid: 'uid-1',
      },
    });
    expect(call.body.metadata?.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(call.body.eventTime.toISOString()).toBe('2025-01-01T00:00:00.000000Z');
  });

  it('names the related object through withRelated, and keeps one Event per related object', async () => {
    const { api, calls } = fakeApi();
    const { rec } = recorder(api, { t: Date.UTC(2025, 0, 1) });
    const host = (name: string) => ({
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'DockerHost',
      metadata: { name, uid: `uid-${name}` },
    });
    withRelated(rec, host('edge-1')).event(container, 'Normal', 'DriftRepaired', 'Start', 'started again');
    withRelated(rec, host('edge-2')).event(container, 'Normal', 'DriftRepaired', 'Start', 'started again');
    rec.event(container, 'Normal', 'DriftRepaired', 'Start', 'started again');
    await rec.flush();
    const creates = calls.flatMap((c) => (c.op === 'create' ? [c.body] : []));
    expect(creates.map((b) => b.related?.name)).toEqual(['edge-1', 'edge-2', undefined]);
    expect(creates[0]?.related).toEqual({
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'DockerHost',
      name: 'edge-1',
      uid: 'uid-edge-1',
    });
  });

  it('turns repeats into series.count merge patches of the same Event', async () => {
    const { api, calls } = fakeApi();
    const clock = { t: 1_000 };
    const { rec } = recorder(api, clock);
    rec.event(container, 'Warning', 'PullFailed', 'Pull', 'denied');
    await rec.flush();
    clock.t = 2_000;
    rec.event(container, 'Warning', 'PullFailed', 'Pull', 'denied');
    await rec.flush();
    clock.t = 3_000;
    rec.event(container, 'Warning', 'PullFailed', 'Pull', 'denied');
    await rec.flush();
    const created = calls[0]?.op === 'create' ? calls[0].body.metadata?.name : undefined;
    expect(calls.slice(1)).toEqual([
      {
        op: 'patch',
        name: created,
        namespace: 'team-a',
        body: { series: { count: 2, lastObservedTime: new Date(2_000) } },
        contentType: 'application/merge-patch+json',
      },
      expect.objectContaining({
        op: 'patch',
        body: { series: { count: 3, lastObservedTime: new Date(3_000) } },
      }),
    ]);
  });

  it.each([
    { name: 'different reason', second: { reason: 'Other', note: 'denied' } },
    { name: 'different note', second: { reason: 'PullFailed', note: 'other text' } },
  ])('creates a separate Event for a $name', async ({ second }) => {
    const { api, calls } = fakeApi();
    const { rec } = recorder(api, { t: 0 });
    rec.event(container, 'Warning', 'PullFailed', 'Pull', 'denied');
    rec.event(container, 'Warning', second.reason, 'Pull', second.note);
    await rec.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'create']);
  });

  it('coalesces a burst during a slow create into one patch', async () => {
    const slow = deferred();
    const { api, calls } = fakeApi({ create: () => slow.promise });
    const { rec } = recorder(api, { t: 0 });
    for (let i = 0; i < 5; i++) rec.event(container, 'Normal', 'Started', 'Start', 'started');
    slow.resolve();
    await rec.flush();
    expect(calls.map((c) => (c.op === 'patch' ? `patch:${JSON.stringify(c.body)}` : c.op))).toEqual([
      'create',
      'patch:{"series":{"count":5,"lastObservedTime":"1970-01-01T00:00:00.000000Z"}}',
    ]);
  });

  it('writes nothing once writes are stopped (lease lost), not even the pending series patch', async () => {
    const slow = deferred();
    const { api, calls } = fakeApi({ create: () => slow.promise });
    const stop = new AbortController();
    const rec = new KubeEventRecorder({ api, controller: 'container', writesStop: stop.signal });
    for (let i = 0; i < 3; i++) rec.event(container, 'Normal', 'Started', 'Start', 'started');
    await new Promise((resolve) => setImmediate(resolve)); // the write starts when its slot is given
    expect(calls).toHaveLength(1);
    stop.abort(); // while the create is in flight
    rec.event(container, 'Warning', 'Failed', 'Start', 'after the loss');
    slow.resolve();
    await rec.flush();
    expect(calls.map((c) => c.op)).toEqual(['create']);
  });

  it('starts a new Event when the aggregated one is gone (404 on patch)', async () => {
    let patchFails = true;
    const { api, calls } = fakeApi({
      patch: async () => {
        if (patchFails) {
          patchFails = false;
          throw new ApiException(404, 'not found', {}, {});
        }
      },
    });
    const { rec } = recorder(api, { t: 0 });
    rec.event(container, 'Normal', 'Started', 'Start', 'x');
    await rec.flush();
    rec.event(container, 'Normal', 'Started', 'Start', 'x');
    await rec.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'patch', 'create']);
  });

  it('never throws and logs failed writes; the next occurrence tries a fresh create', async () => {
    let fail = true;
    const { api, calls } = fakeApi({
      create: async () => {
        if (fail) throw new ApiException(403, 'forbidden', {}, {});
      },
    });
    const { rec, lines } = recorder(api, { t: 0 });
    expect(() => rec.event(container, 'Normal', 'Started', 'Start', 'x')).not.toThrow();
    await rec.flush();
    expect(lines.some((l) => l.msg === 'could not write event' && l.level === 40)).toBe(true);
    fail = false;
    rec.event(container, 'Normal', 'Started', 'Start', 'x');
    await rec.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'create']);
  });

  it('survives an API client that throws synchronously and objects without metadata', async () => {
    const api: EventsApi = {
      createNamespacedEvent: () => {
        throw new Error('sync boom');
      },
      patchNamespacedEvent: () => {
        throw new Error('sync boom');
      },
    };
    const { rec } = recorder(api, { t: 0 });
    expect(() => rec.event({}, 'Normal', 'R', 'A', 'n')).not.toThrow();
    await rec.flush();
  });

  it('files events about cluster-scoped objects in the default namespace', async () => {
    const { api, calls } = fakeApi();
    const { rec } = recorder(api, { t: 0 });
    rec.event(
      { apiVersion: 'dockyard.io/v1alpha1', kind: 'DockerHost', metadata: { name: 'h1', uid: 'u' } },
      'Normal',
      'Connected',
      'Connect',
      'ok',
    );
    await rec.flush();
    expect(calls[0]).toMatchObject({ op: 'create', namespace: 'default' });
  });
});

describe('truncateNote', () => {
  it.each([
    { note: 'short', want: 'short' },
    { note: 'x'.repeat(1024), want: 'x'.repeat(1024) },
    { note: 'x'.repeat(2000), want: `${'x'.repeat(1021)}...` },
  ])('$note.length chars', ({ note, want }) => {
    expect(truncateNote(note)).toBe(want);
  });

  it('never splits beyond 1 kB with multi-byte characters', () => {
    expect(Buffer.byteLength(truncateNote('é'.repeat(1000)))).toBeLessThanOrEqual(1024);
  });
});

describe('FakeEventRecorder', () => {
  it('keeps events as readable strings', () => {
    const rec = new FakeEventRecorder();
    rec.event(container, 'Normal', 'Created', 'Create', 'created container abc');
    expect(rec.events).toEqual(['Normal Created Create web: created container abc']);
  });
});

describe('KubeEventRecorder with shared, bounded writes', () => {
  const objectNamed = (name: string): KubernetesObject => ({
    ...container,
    metadata: { ...container.metadata, name, uid: `uid-${name}` },
  });

  it('keeps at most maxInFlight writes going over all recorders, and stamps each Event with when it happened', async () => {
    const gate = deferred<void>();
    let inFlight = 0;
    let peak = 0;
    const { api, calls } = fakeApi({
      create: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await gate.promise;
        inFlight--;
      },
    });
    const writes = new EventWrites({ maxInFlight: 2 });
    const clock = { t: Date.UTC(2025, 0, 1) };
    const recorders = ['container', 'image'].map(
      (controller) => new KubeEventRecorder({ api, controller, writes, now: () => clock.t }),
    );
    for (let i = 0; i < 6; i++)
      recorders[i % 2]?.event(objectNamed(`c${i}`), 'Normal', 'Created', 'Create', 'ok');
    const recordedAt = clock.t;
    clock.t += 60_000;
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(2);
    expect(writes.queued).toBe(4);
    gate.resolve();
    await Promise.all(recorders.map((r) => r.flush()));
    expect(calls).toHaveLength(6);
    expect(peak).toBe(2);
    for (const call of calls) {
      if (call.op !== 'create') throw new Error('expected creates only');
      expect(new Date(String(call.body.eventTime)).getTime()).toBe(recordedAt);
    }
  });

  it('drops what does not fit in the queue, counts it, and starts a fresh Event for the next occurrence', async () => {
    const gate = deferred<void>();
    const { api, calls } = fakeApi({ create: () => gate.promise });
    let dropped = 0;
    const writes = new EventWrites({ maxInFlight: 1, maxQueued: 1, onDropped: () => dropped++ });
    const rec = new KubeEventRecorder({ api, controller: 'container', writes });
    rec.event(objectNamed('a'), 'Normal', 'Created', 'Create', 'ok'); // in flight
    rec.event(objectNamed('b'), 'Normal', 'Created', 'Create', 'ok'); // queued
    rec.event(objectNamed('c'), 'Normal', 'Created', 'Create', 'ok'); // dropped
    await new Promise((resolve) => setImmediate(resolve));
    expect(dropped).toBe(1);
    gate.resolve();
    await rec.flush();
    expect(calls.map((c) => (c.op === 'create' ? c.body.regarding?.name : c.op))).toEqual(['a', 'b']);
    // The dropped one is not remembered as pending: it is created when it happens again.
    rec.event(objectNamed('c'), 'Normal', 'Created', 'Create', 'ok');
    await rec.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'create', 'create']);
  });
});
