// One event stream per browser, shared by every tab (a SharedWorker): a
// browser allows six HTTP/1.1 connections per host, and a tab's open stream
// holds one, so twenty tabs with a stream each would leave the seventh unable
// to load. The worker keeps the rows (a Store) so a new tab gets them at once,
// and forwards every message to every tab.

/// <reference lib="webworker" />
import type { StreamMessage } from '../views/types.js';
import { Store } from './store.js';

/** What the worker tells a tab besides the stream's own messages. */
export type WorkerMessage = StreamMessage | { type: 'live'; live: 'live' | 'reconnecting' };

const scope = self as unknown as SharedWorkerGlobalScope;
const ports = new Set<MessagePort>();
const store = new Store();
let live: 'live' | 'reconnecting' = 'reconnecting';

function broadcast(message: WorkerMessage): void {
  for (const port of ports) port.postMessage(message);
}

const stream = new EventSource('/api/stream');
stream.onopen = () => {
  live = 'live';
  broadcast({ type: 'live', live });
};
stream.onerror = () => {
  live = 'reconnecting';
  broadcast({ type: 'live', live });
};
stream.onmessage = (e: MessageEvent<string>) => {
  const message = JSON.parse(e.data) as StreamMessage;
  store.apply(message);
  broadcast(message);
};

scope.onconnect = (e: MessageEvent) => {
  const port = e.ports[0];
  if (!port) return;
  ports.add(port);
  port.postMessage({ type: 'live', live } satisfies WorkerMessage);
  if (store.state) port.postMessage({ type: 'state', state: store.state } satisfies WorkerMessage);
  // A tab that closes says so; the browser gives no other sign on a port.
  port.onmessage = (m: MessageEvent<string>) => {
    if (m.data === 'bye') ports.delete(port);
  };
  port.start();
};
