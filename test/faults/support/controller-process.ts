// The real `dockyard controller` as a child process (src/main.ts through
// TestProcess), so SIGKILL and SIGTERM hit the very process that runs the
// controllers, with the flags a deployment would pass.

import type { ControlPlane } from '../../../src/localenv/control-plane.js';
import type { AgentEndpointSettings } from '../../../src/managed/controller-deps.js';
import { agentEndpointArgs } from '../../support/edge-agent.js';
import type { LogLine } from '../../support/log-capture.js';
import { TestProcess } from '../../support/test-process.js';

export interface ControllerProcessOptions {
  /** Shown in failure messages. */
  name?: string;
  syncPeriod?: string;
  maxConcurrentReconciles?: number;
  /** Default: maxConcurrentReconciles, so one host may take every worker (the lab has one or two hosts). */
  maxConcurrentReconcilesPerHost?: number;
  /** Leader election on this Lease (namespace/id). */
  leaderElection?: { namespace: string; id: string };
  /** Serve /metrics on an ephemeral port (see metricsUrl()). */
  metrics?: boolean;
  logLevel?: 'debug' | 'info' | 'warn';
  /** Serve edge agents (the flags a deployment with agents passes). */
  agentEndpoint?: AgentEndpointSettings;
}

/** Node + tsx compiling the controllers on a busy 2-core machine: generous. */
export const CONTROLLER_START_TIMEOUT_MS = 90_000;

let started = 0;

export function startControllerProcess(cp: ControlPlane, opts: ControllerProcessOptions = {}): TestProcess {
  const args = [
    'controller',
    `--metrics-bind-address=${opts.metrics ? '127.0.0.1:0' : '0'}`,
    '--health-probe-bind-address=0',
    '--log-format=json',
    `--log-level=${opts.logLevel ?? 'info'}`,
    `--sync-period=${opts.syncPeriod ?? '30s'}`,
    `--max-concurrent-reconciles=${opts.maxConcurrentReconciles ?? 4}`,
    `--max-concurrent-reconciles-per-host=${opts.maxConcurrentReconcilesPerHost ?? opts.maxConcurrentReconciles ?? 4}`,
  ];
  if (opts.leaderElection) {
    args.push(
      '--leader-elect',
      `--leader-election-namespace=${opts.leaderElection.namespace}`,
      `--leader-election-id=${opts.leaderElection.id}`,
    );
  }
  if (opts.agentEndpoint) args.push(...agentEndpointArgs(opts.agentEndpoint));
  started++;
  return new TestProcess(opts.name ?? `dockyard controller #${started}`, 'src/main.ts', args, {
    KUBECONFIG: cp.kubeconfigPath,
    KUBERNETES_SERVICE_HOST: undefined,
  });
}

/** The controllers' workers have started (after cache sync, and after winning the lease if electing). */
export const workersStarted = (l: LogLine): boolean => l.msg === 'Starting workers';

export const leaseAcquired = (l: LogLine): boolean => l.msg === 'successfully acquired lease';

/** pino level numbers: 50 error, 60 fatal. */
export const isErrorLevel = (l: LogLine): boolean => l.level >= 50;

/** The /metrics URL the process logged ("serving metrics"). */
export async function metricsUrl(proc: TestProcess): Promise<string> {
  const { line } = await proc.waitForLog(
    (l) => l.msg === 'serving metrics',
    CONTROLLER_START_TIMEOUT_MS,
    'serve metrics',
  );
  const address = (line as LogLine & { address?: unknown }).address;
  const port =
    typeof address === 'object' && address !== null && 'port' in address
      ? Number((address as { port: unknown }).port)
      : Number(String(address).split(':').pop());
  if (!Number.isInteger(port) || port <= 0)
    throw new Error(`cannot read the metrics port from ${JSON.stringify(address)}`);
  return `http://127.0.0.1:${port}/metrics`;
}
