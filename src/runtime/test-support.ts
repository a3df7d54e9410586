// Helpers shared by this folder's unit tests (not exported from the package index).

import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import type { EventHandler, EventSource } from './informer.js';
import type { LeaderElectionRecord, LeaseClient, ObservedLease } from './lease-client.js';

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** A pino logger that keeps every line, parsed, in `lines`. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

/** An event source driven by the test. */
export class FakeSource<T = KubernetesObject> implements EventSource<T> {
  readonly handlers: EventHandler<T>[] = [];
  synced = false;

  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  add(obj: T): void {
    for (const h of this.handlers) h.onAdd?.(obj);
  }

  update(oldObj: T, newObj: T): void {
    for (const h of this.handlers) h.onUpdate?.(oldObj, newObj);
  }

  delete(obj: T): void {
    for (const h of this.handlers) h.onDelete?.(obj);
  }
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An in-memory Lease with resourceVersion checks, shared by several electors. */
export class FakeLeaseStore {
  lease: ObservedLease | undefined;
  private rv = 0;
  writes: LeaderElectionRecord[] = [];

  client(name: string, opts: { failing?: () => boolean } = {}): LeaseClient {
    const check = (): void => {
      if (opts.failing?.()) throw new Error(`${name}: connection refused`);
    };
    return {
      describe: () => 'kube-system/dockyard',
      get: async () => {
        check();
        return this.lease && structuredClone(this.lease);
      },
      create: async (record) => {
        check();
        if (this.lease) throw new ApiException(409, 'AlreadyExists', {}, {});
        return this.write(record);
      },
      update: async (record, resourceVersion) => {
        check();
        if (!this.lease || this.lease.resourceVersion !== resourceVersion)
          throw new ApiException(409, 'Conflict', {}, {});
        return this.write(record);
      },
    };
  }

  private write(record: LeaderElectionRecord): ObservedLease {
    this.writes.push(record);
    this.lease = { record: structuredClone(record), resourceVersion: String(++this.rv) };
    return structuredClone(this.lease);
  }
}
