// A Dockyard-shaped process for the leader election tests, run as a child
// process: the real Manager, LeaderElector and KubeLeaseClient, the gadget
// controller (stamping status.reconciledBy with this process's identity and
// logging "reconciled" per reconcile), and the CLI's own process lifecycle
// (signals, exit codes). Configured through the environment:
//   DOCKYARD_TEST_KUBECONFIG, DOCKYARD_TEST_NAMESPACE (gadgets and Lease),
//   DOCKYARD_TEST_LEASE, DOCKYARD_TEST_IDENTITY,
//   DOCKYARD_TEST_LEASE_MS / _RENEW_MS / _RETRY_MS (short, so takeovers are quick),
//   DOCKYARD_TEST_SLOW_URL (optional): reconciling a gadget named `slow-*`
//   first GETs this URL without passing the reconcile's signal, like a Docker
//   call that does not take one, and only then writes its status.

import { CoordinationV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { runManager } from '../../src/cli/lifecycle.js';
import { enqueueForObject } from '../../src/runtime/enqueue.js';
import { KubeLeaseClient } from '../../src/runtime/lease-client.js';
import { createLogger } from '../../src/runtime/logging.js';
import { Manager } from '../../src/runtime/manager.js';
import { GadgetReconciler } from './gadget-reconciler.js';
import { GADGETS, gadgetListWatcher, type Gadget } from './test-crd.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`test-manager: ${name} is not set`);
  return value;
}

function milliseconds(name: string): number {
  const value = Number(required(name));
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`test-manager: ${name} must be a positive number`);
  return value;
}

const namespace = required('DOCKYARD_TEST_NAMESPACE');
const identity = required('DOCKYARD_TEST_IDENTITY');
const logger = createLogger({ level: 'info', pretty: false }).child({ replica: identity });
const kc = new KubeConfig();
kc.loadFromFile(required('DOCKYARD_TEST_KUBECONFIG'));

const manager = new Manager({
  logger,
  metricsBindAddress: '0',
  healthProbeBindAddress: '0',
  gracefulShutdownTimeoutMs: 10_000,
  leaderElection: {
    client: new KubeLeaseClient(
      kc.makeApiClient(CoordinationV1Api),
      namespace,
      required('DOCKYARD_TEST_LEASE'),
    ),
    identity,
    leaseDurationMs: milliseconds('DOCKYARD_TEST_LEASE_MS'),
    renewDeadlineMs: milliseconds('DOCKYARD_TEST_RENEW_MS'),
    retryPeriodMs: milliseconds('DOCKYARD_TEST_RETRY_MS'),
  },
});
const informer = manager.createInformer<Gadget>({
  resource: GADGETS.resource,
  listWatcher: gadgetListWatcher(kc, namespace),
});
const slowUrl = process.env.DOCKYARD_TEST_SLOW_URL;
const reconciler = new GadgetReconciler({
  cache: informer,
  api: kc.makeApiClient(CustomObjectsApi),
  identity,
  onReconciled: (key) => logger.info({ key }, 'reconciled'),
  ...(slowUrl
    ? {
        beforeStatus: async (_ctx, gadget) => {
          if (!gadget.metadata.name?.startsWith('slow-')) return;
          logger.info({ name: gadget.metadata.name }, 'slow call started');
          await fetch(`${slowUrl}/${gadget.metadata.name}`);
          logger.info({ name: gadget.metadata.name }, 'slow call returned');
        },
      }
    : {}),
});
manager
  .createController({ name: 'gadget', reconciler, maxConcurrentReconciles: 2 })
  .watch(informer, enqueueForObject());

process.exit(await runManager(manager, { logger }));
