// Dockyard's controller runtime: the public surface used by src/controllers and the CLI.

export * from './api-errors.js';
export * from './backoff.js';
export * from './conditions.js';
export * from './controller.js';
export * from './enqueue.js';
export * from './event-aggregator.js';
export * from './events.js';
export * from './finalizers.js';
export * from './health.js';
export * from './informer.js';
export * from './json-merge.js';
export * from './kube-list-watcher.js';
export * from './leader-election.js';
export * from './lease-client.js';
export * from './logging.js';
export * from './manager.js';
export * from './metrics.js';
export * from './object-key.js';
export * from './object-ref.js';
export * from './rate-limiter.js';
export * from './status-patch.js';
export * from './store.js';
export * from './workqueue.js';
