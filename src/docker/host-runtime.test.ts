import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostConnection } from './connection-pool.js';
import { noopDockerMetrics } from './docker-metrics.js';
import { HostRuntime } from './host-runtime.js';
import type { ResyncReason } from './stream-resync.js';

/**
 * HostRuntime's resync decision, driven through real DockerEventStreams whose
 * daemon side is a PassThrough per getEvents call (the stream plumbing, not
 * Docker, is under test here; the fault suite covers real daemons).
 */
function harness() {
  const runtime = new HostRuntime({ metrics: noopDockerMetrics, logger: pino({ level: 'silent' }) });
  const streams: PassThrough[] = [];
  const docker = {
    getEvents: () => {
      const s = new PassThrough();
      streams.push(s);
      return Promise.resolve(s);
    },
  } as unknown as Dockerode;
  vi.spyOn(runtime.pool, 'get').mockReturnValue({ stream: docker } as unknown as HostConnection);
  const resyncs: Array<[string, ResyncReason]> = [];
  runtime.onHostResync((host, reason) => resyncs.push([host, reason]));
  const connects = async (n: number) => vi.waitFor(() => expect(streams).toHaveLength(n), { timeout: 5_000 });
  return { runtime, streams, resyncs, connects };
}

let running: HostRuntime | undefined;
afterEach(() => running?.stop());

describe('HostRuntime resync after an event stream gap', () => {
  it('does not resync on the first connect of a host', async () => {
    const h = harness();
    running = h.runtime;
    h.runtime.ensureEventStream('n1');
    await h.connects(1);
    expect(h.resyncs).toEqual([]);
  });

  it('resyncs when the same stream reconnects after a drop', async () => {
    const h = harness();
    running = h.runtime;
    h.runtime.ensureEventStream('n1');
    await h.connects(1);
    h.streams[0]?.end();
    await h.connects(2);
    await vi.waitFor(() => expect(h.resyncs).toEqual([['n1', 'reconnected']]));
  });

  it('reconnects and resyncs after a cut (the fault-injection hook)', async () => {
    const h = harness();
    running = h.runtime;
    h.runtime.ensureEventStream('n1');
    await h.connects(1);
    h.runtime.cutEventStream('n1');
    await h.connects(2);
    await vi.waitFor(() => expect(h.resyncs).toEqual([['n1', 'reconnected']]));
    expect(h.runtime.hasEventStream('n1')).toBe(true);
  });

  it('resyncs when a new stream replaces a stopped or blocked one', async () => {
    const h = harness();
    running = h.runtime;
    h.runtime.ensureEventStream('n1');
    await h.connects(1);
    h.runtime.stopEventStream('n1'); // host NotReady or paused
    h.runtime.ensureEventStream('n1');
    await h.connects(2);
    await vi.waitFor(() => expect(h.resyncs).toEqual([['n1', 'restarted']]));

    h.runtime.blockEventStream('n1', true);
    h.runtime.ensureEventStream('n1'); // held off while blocked
    h.runtime.blockEventStream('n1', false);
    expect(h.streams).toHaveLength(2);
    h.runtime.ensureEventStream('n1');
    await h.connects(3);
    await vi.waitFor(() => expect(h.resyncs.map(([, r]) => r)).toEqual(['restarted', 'restarted']));
  });

  it('keeps hosts apart and forgets a removed host', async () => {
    const h = harness();
    running = h.runtime;
    h.runtime.ensureEventStream('n1');
    h.runtime.ensureEventStream('n2');
    await h.connects(2);
    h.runtime.forget('n1'); // DockerHost deleted: a later one of that name starts afresh
    h.runtime.ensureEventStream('n1');
    await h.connects(3);
    h.runtime.stopEventStream('n2');
    h.runtime.ensureEventStream('n2');
    await h.connects(4);
    await vi.waitFor(() => expect(h.resyncs).toEqual([['n2', 'restarted']]));
  });
});

describe('HostRuntime.connect', () => {
  it('restarts the event stream when the endpoint or credentials change, and only then', () => {
    const runtime = new HostRuntime({ metrics: noopDockerMetrics, logger: pino({ level: 'silent' }) });
    running = runtime;
    const first = runtime.connect('n1', 'tcp://127.0.0.1:9', undefined);
    runtime.ensureEventStream('n1');
    const stream = runtime.eventStream('n1');
    expect(stream).toBeDefined();

    // Same endpoint, same credentials: the same connection and stream.
    expect(runtime.connect('n1', 'tcp://127.0.0.1:9', undefined)).toBe(first);
    expect(runtime.eventStream('n1')).toBe(stream);

    // Another daemon: the old stream stops; the next ensure opens a new one.
    const moved = runtime.connect('n1', 'tcp://127.0.0.1:10', undefined);
    expect(moved).not.toBe(first);
    expect(runtime.hasEventStream('n1')).toBe(false);
    runtime.ensureEventStream('n1');
    expect(runtime.eventStream('n1')).not.toBe(stream);

    // New TLS material for the same endpoint counts as a change too.
    const streamBefore = runtime.eventStream('n1');
    runtime.connect('n1', 'tcp://127.0.0.1:10', { ca: 'CA', cert: 'CERT', key: 'KEY' });
    expect(runtime.hasEventStream('n1')).toBe(false);
    expect(streamBefore).toBeDefined();
  });
});

describe('HostRuntime event stream filter', () => {
  it.each([
    ['no listener: every managed type', [], ['container', 'image', 'network', 'volume']],
    ['the union of what listeners asked for', [['volume'], ['network'], ['volume']], ['network', 'volume']],
    [
      'every type once a listener names none',
      [['volume'], undefined],
      ['container', 'image', 'network', 'volume'],
    ],
  ] as const)('follows %s', async (_name, listeners, expected) => {
    const runtime = new HostRuntime({ metrics: noopDockerMetrics, logger: pino({ level: 'silent' }) });
    running = runtime;
    const filters: unknown[] = [];
    const docker = {
      getEvents: (options: Dockerode.GetEventsOptions) => {
        filters.push(options.filters);
        return Promise.resolve(new PassThrough());
      },
    } as unknown as Dockerode;
    vi.spyOn(runtime.pool, 'get').mockReturnValue({ stream: docker } as unknown as HostConnection);
    for (const types of listeners) runtime.onDockerEvent(() => {}, types ? { types } : {});
    runtime.ensureEventStream('n1');
    await vi.waitFor(() => expect(filters).toHaveLength(1), { timeout: 5_000 });
    expect(filters[0]).toEqual({ type: expected });
  });
});
