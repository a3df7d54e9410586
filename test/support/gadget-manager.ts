// An in-process Manager running the gadget controller over one namespace,
// with the real list/watch transport, captured logs and (optionally) the
// metrics and probe servers on ephemeral loopback ports.

import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Controller } from '../../src/runtime/controller.js';
import { enqueueForObject } from '../../src/runtime/enqueue.js';
import type { Informer, InformerOptions, ListWatcher } from '../../src/runtime/informer.js';
import { Manager } from '../../src/runtime/manager.js';
import { GadgetReconciler, type GadgetReconcilerOptions } from './gadget-reconciler.js';
import { captureLogs, type LogLine } from './log-capture.js';
import { GADGETS, gadgetListWatcher, type Gadget } from './test-crd.js';

export const CONTROLLER_NAME = 'gadget';

export interface GadgetManagerOptions {
  namespace: string;
  maxConcurrentReconciles?: number;
  /** Server-side watch timeout (the runtime's default is 25 s). */
  watchTimeoutSeconds?: number;
  /** Items per list page (the runtime's default is 500). */
  listPageSize?: number;
  informer?: Pick<InformerOptions<Gadget>, 'watchdogMs' | 'listTimeoutMs' | 'backoff' | 'resyncPeriodMs'>;
  /** Wraps the real transport, e.g. to hold watches back. */
  wrapListWatcher?: (lw: ListWatcher<Gadget>) => ListWatcher<Gadget>;
  reconciler?: Omit<GadgetReconcilerOptions, 'cache' | 'api'>;
  /** Serve /metrics and the probes on 127.0.0.1:0. Default off. */
  serve?: boolean;
}

export interface GadgetManager {
  manager: Manager;
  informer: Informer<Gadget>;
  controller: Controller;
  reconciler: GadgetReconciler;
  logs: LogLine[];
  metricsUrl(): string;
  probeUrl(path: string): string;
}

/** Builds (does not start) a manager with the gadget controller. */
export function gadgetManager(kc: KubeConfig, options: GadgetManagerOptions): GadgetManager {
  const { logger, lines } = captureLogs('debug');
  const manager = new Manager({
    logger,
    metricsBindAddress: options.serve ? '127.0.0.1:0' : '0',
    healthProbeBindAddress: options.serve ? '127.0.0.1:0' : '0',
    gracefulShutdownTimeoutMs: 10_000,
  });
  const realTransport = gadgetListWatcher(kc, options.namespace, {
    ...(options.watchTimeoutSeconds !== undefined ? { timeoutSeconds: options.watchTimeoutSeconds } : {}),
    ...(options.listPageSize !== undefined ? { pageSize: options.listPageSize } : {}),
  });
  const informer = manager.createInformer<Gadget>({
    resource: GADGETS.resource,
    listWatcher: options.wrapListWatcher ? options.wrapListWatcher(realTransport) : realTransport,
    ...options.informer,
  });
  const reconciler = new GadgetReconciler({
    cache: informer,
    api: kc.makeApiClient(CustomObjectsApi),
    ...options.reconciler,
  });
  const controller = manager
    .createController({
      name: CONTROLLER_NAME,
      reconciler,
      maxConcurrentReconciles: options.maxConcurrentReconciles ?? 1,
    })
    .watch(informer, enqueueForObject());
  const url = (address: { port: number } | undefined, path: string): string => {
    if (!address) throw new Error('the manager serves nothing: started with serve: true?');
    return `http://127.0.0.1:${address.port}${path}`;
  };
  return {
    manager,
    informer,
    controller,
    reconciler,
    logs: lines,
    metricsUrl: () => url(manager.metricsAddress(), '/metrics'),
    probeUrl: (path) => url(manager.healthProbeAddress(), path),
  };
}
