import { Histogram, type Registry } from 'prom-client';

/** Outcome label: `success` or the failure reason (a small fixed set). */
export type BuildOutcomeLabel = 'success' | string;

export interface BuildMetrics {
  built(host: string, outcome: BuildOutcomeLabel, seconds: number): void;
  pushed(host: string, outcome: BuildOutcomeLabel, seconds: number): void;
}

const BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export function createBuildMetrics(registry: Registry): BuildMetrics {
  const histogram = (name: string, help: string) =>
    new Histogram({
      name,
      help,
      labelNames: ['host', 'outcome'] as const,
      buckets: BUCKETS,
      registers: [registry],
    });
  const builds = histogram(
    'dockyard_image_build_duration_seconds',
    'DockerBuild builds by host and outcome (success or the failure reason)',
  );
  const pushes = histogram(
    'dockyard_image_push_duration_seconds',
    'DockerBuild pushes (and signing) of a built image to its destinations, by host and outcome',
  );
  return {
    built: (host, outcome, seconds) => builds.observe({ host, outcome }, seconds),
    pushed: (host, outcome, seconds) => pushes.observe({ host, outcome }, seconds),
  };
}

export const noopBuildMetrics: BuildMetrics = { built: () => {}, pushed: () => {} };
