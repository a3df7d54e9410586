// Docker-side helpers for the environment-fault scenarios: out-of-band
// changes a person (or another tool) makes directly on a node, event noise,
// and reading back what a `since` replay would return.

import type Dockerode from 'dockerode';
import type { Registry } from 'prom-client';
import { parseEventChunk, type DockerEvent } from '../../../src/docker/event-stream.js';
import { parseSamples } from '../../support/prometheus.js';

/** `docker rm -f` that tolerates "already gone"; volumes are kept (no `-v`), like a user's rm. */
export async function forceRemoveContainer(api: Dockerode, name: string): Promise<void> {
  await api
    .getContainer(name)
    .remove({ force: true })
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
}

/** `docker stop -t 0`: the workload's `sleep` ignores SIGTERM as PID 1, so stop at once. */
export async function stopContainer(api: Dockerode, name: string): Promise<void> {
  await api
    .getContainer(name)
    .stop({ t: 0 })
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 304) throw err; // already stopped
    });
}

/**
 * Unlabelled volumes created and removed `rounds` times: two events each,
 * cheap, and nothing Dockyard owns, so they only push older events out of the
 * daemon's 256-event replay buffer.
 */
export async function volumeEventNoise(api: Dockerode, rounds: number, prefix: string): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const name = `${prefix}-${i}`;
    await api.createVolume({ Name: name });
    await api.getVolume(name).remove();
  }
}

/** Every event the daemon reports between two times (seconds), i.e. what a `since` replay returns. */
export async function eventsBetween(
  api: Dockerode,
  sinceSeconds: number,
  untilSeconds: number,
): Promise<DockerEvent[]> {
  const stream = (await api.getEvents({ since: sinceSeconds, until: untilSeconds })) as NodeJS.ReadableStream;
  const events: DockerEvent[] = [];
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer | string) => {
      const parsed = parseEventChunk(buffer + chunk.toString());
      buffer = parsed.rest;
      events.push(...parsed.events);
    });
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', reject);
  });
  return events;
}

/** Sum of a counter's samples in a registry whose labels include `labels`. */
export async function counterValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return parseSamples(await registry.metrics())
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
