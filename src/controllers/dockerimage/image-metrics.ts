import { Counter, Histogram, type Registry } from 'prom-client';

/** Outcome label: `success` or the failure reason (a small fixed set). */
export type PullOutcomeLabel = 'success' | 'NotFound' | 'Unauthorized' | 'RegistryUnreachable' | 'PullError';

export interface ImageMetrics {
  pulled(host: string, outcome: PullOutcomeLabel, seconds: number, bytes: number): void;
  /** A mirroring push (spec.push) ended. */
  pushed(host: string, outcome: string, seconds: number): void;
}

export function createImageMetrics(registry: Registry): ImageMetrics {
  const registers = [registry];
  const duration = new Histogram({
    name: 'dockyard_image_pull_duration_seconds',
    help: 'Image pull duration by host and outcome (success or the failure reason)',
    labelNames: ['host', 'outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers,
  });
  const bytes = new Counter({
    name: 'dockyard_image_pull_bytes_total',
    help: 'Bytes downloaded by image pulls, by host (layers already present are not counted)',
    labelNames: ['host'] as const,
    registers,
  });
  const pushes = new Histogram({
    name: 'dockyard_image_mirror_push_duration_seconds',
    help: 'DockerImage pushes (and signing) of a pulled image to its spec.push destinations, by host and outcome',
    labelNames: ['host', 'outcome'] as const,
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers,
  });
  return {
    pulled: (host, outcome, seconds, n) => {
      duration.observe({ host, outcome }, seconds);
      if (n > 0) bytes.inc({ host }, n);
    },
    pushed: (host, outcome, seconds) => pushes.observe({ host, outcome }, seconds),
  };
}

export const noopImageMetrics: ImageMetrics = { pulled: () => {}, pushed: () => {} };
