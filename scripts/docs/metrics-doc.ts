// docs/metrics.md from the metrics Dockyard registers: the controller-runtime
// and client-go workqueue names (src/runtime/metrics.ts) and Dockyard's own
// dockyard_* ones. The metrics are registered into a fresh registry exactly
// as the process does, then listed with their type, labels and help.
import { Registry } from 'prom-client';
import { DOCKERHOST_CONTROLLER } from '../../src/controllers/dockerhost/dockerhost-controller.js';
import { controllerName, inApiOrder, MANAGED_KINDS } from '../../src/controllers/kinds.js';
import { createBuildMetrics } from '../../src/controllers/dockerbuild/build-metrics.js';
import { createImageMetrics } from '../../src/controllers/dockerimage/image-metrics.js';
import { createImagePolicyMetrics } from '../../src/controllers/image-policy/image-policy-metrics.js';
import { DOCKERSERVICE_CONTROLLER, serviceMetrics } from '../../src/controllers/dockerservice/register.js';
import { createStreamResyncMetrics } from '../../src/docker/stream-resync.js';
import { createAgentMetrics } from '../../src/controllers/dockerhost/agent/agent-metrics.js';
import { createDockerMetrics } from '../../src/docker/docker-metrics.js';
import { managedMetrics } from '../../src/managed/managed-metrics.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { createShardMetrics } from '../../src/runtime/shard-coordinator.js';
import { cell, code, table } from './markdown.js';

export interface MetricInfo {
  name: string;
  type: string;
  help: string;
  labels: string[];
}

/** Every metric the controller process registers, besides prom-client's Node.js process metrics. */
export function collectMetrics(): MetricInfo[] {
  const registry = new Registry();
  createMetrics({ registry, defaultMetrics: false });
  createDockerMetrics(registry);
  managedMetrics(registry);
  createImageMetrics(registry);
  createBuildMetrics(registry);
  createImagePolicyMetrics(registry);
  createStreamResyncMetrics(registry);
  createAgentMetrics(registry, () => []);
  serviceMetrics(registry);
  createShardMetrics(registry, () => 0);
  return registry
    .getMetricsAsArray()
    .map((m) => ({
      name: m.name,
      type: String(m.type),
      help: m.help,
      labels: [...((m as { labelNames?: readonly string[] }).labelNames ?? [])],
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What the label values are, where the help text does not say. */
const LABEL_VALUES: Record<string, string> = {
  controller: `the controller: ${[DOCKERHOST_CONTROLLER, ...inApiOrder(MANAGED_KINDS).map(controllerName), DOCKERSERVICE_CONTROLLER].map(code).join(', ')}`,
  result:
    '`success`, `error`, `requeue` or `requeue_after` for reconciles; `started`, `complete`, `rolled_back` ' +
    'or `failed` for DockerService rollouts; `admitted` or the refusal reason for image policy decisions; ' +
    '`valid` or `invalid` for signature verifications',
  namespace: 'the DockerService’s namespace',
  service: 'the DockerService’s name',
  name: 'the work queue (named after its controller)',
  resource: 'the informer’s resource, e.g. `dockercontainers.dockyard.io`',
  host: 'the DockerHost name',
  kind: 'the Dockyard kind, e.g. `DockerContainer`',
  phase: 'the summary phase (`status.phase`), e.g. `Ready`, `Pulling`, `CrashLoopBackOff`',
  operation:
    'method and path of the Docker Engine API request, IDs and names replaced: e.g. `GET /containers/{id}/json`',
  outcome:
    '`ok`/`error` for Docker requests; `success` or the failure reason for image pulls, builds and pushes',
  rule: 'the DockerHost imagePolicy rule that decided (empty when no rule matched)',
  reason: 'event stream resyncs: `reconnected` (same stream) or `restarted` (new stream)',
};

const GROUPS: Array<{ title: string; prefix: string; intro: string }> = [
  {
    title: 'Controllers (controller-runtime names)',
    prefix: 'controller_runtime_',
    intro:
      'Named and labelled like controller-runtime’s, so dashboards and alerts written for Go operators work ' +
      'unchanged. Every series exists at zero from the start.',
  },
  {
    title: 'Work queues (client-go names)',
    prefix: 'workqueue_',
    intro: 'One queue per controller; durations in seconds, buckets from 10 ns to 1000 s as in client-go.',
  },
  {
    title: 'Dockyard',
    prefix: 'dockyard_',
    intro:
      'Dockyard’s own metrics: Docker hosts and requests, managed objects, drift, image pulls, builds and pushes, image policy ' +
      'decisions and signature verifications, informers, service rollouts.',
  },
];

function metricTable(metrics: MetricInfo[]): string {
  return table(
    ['Metric', 'Type', 'Labels', 'Meaning'],
    metrics.map((m) => [code(m.name), m.type, m.labels.map(code).join(', '), cell(m.help)]),
  );
}

export function renderMetricsDoc(metrics: readonly MetricInfo[]): string {
  const grouped = GROUPS.map((g) => ({ ...g, metrics: metrics.filter((m) => m.name.startsWith(g.prefix)) }));
  const other = metrics.filter((m) => !GROUPS.some((g) => m.name.startsWith(g.prefix)));
  if (other.length > 0) grouped.push({ title: 'Other', prefix: '', intro: '', metrics: other });
  const labels = [...new Set(metrics.flatMap((m) => m.labels))].sort();
  const unknown = labels.filter((l) => !(l in LABEL_VALUES));
  if (unknown.length > 0)
    throw new Error(`describe the label(s) ${unknown.join(', ')} in scripts/docs/metrics-doc.ts`);
  return [
    '# Metrics',
    '<!-- Generated from the registered metrics by scripts/generate-docs.ts; do not edit. -->',
    '`dockyard controller` serves Prometheus metrics on `/metrics` at `--metrics-bind-address` (default ' +
      '`:8080`; `0` turns it off). Besides the metrics below it exports prom-client’s Node.js process ' +
      'metrics (`process_*`, `nodejs_*`: CPU, memory, file descriptors, event loop lag, GC).',
    ...grouped.flatMap((g) => [`## ${g.title}`, ...(g.intro ? [g.intro] : []), metricTable(g.metrics)]),
    '## Labels',
    table(
      ['Label', 'Values'],
      labels.map((l) => [code(l), LABEL_VALUES[l] ?? '']),
    ),
    '## Useful queries',
    [
      '```promql',
      '# Reconcile error rate per controller',
      'sum by (controller) (rate(controller_runtime_reconcile_errors_total[5m]))',
      '# 99th percentile reconcile time per controller',
      'histogram_quantile(0.99, sum by (controller, le) (rate(controller_runtime_reconcile_time_seconds_bucket[5m])))',
      '# Docker hosts that stopped answering',
      'dockyard_host_up == 0',
      '# Objects not Ready, by kind and phase',
      'sum by (kind, phase) (dockyard_managed_objects{phase!="Ready"})',
      '# Drift Dockyard repaired in the last hour',
      'sum by (kind) (increase(dockyard_drift_repairs_total[1h]))',
      '# Failed image pulls by reason',
      'sum by (outcome) (rate(dockyard_image_pull_duration_seconds_count{outcome!="success"}[15m]))',
      '# DockerService rollouts that rolled back or failed in the last day',
      'sum by (result) (increase(dockyard_service_rollouts_total{result=~"rolled_back|failed"}[1d]))',
      '```',
    ].join('\n'),
  ].join('\n\n');
}
