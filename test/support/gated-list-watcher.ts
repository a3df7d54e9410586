// Wraps a real list/watch transport so a test can hold the next watch back,
// as a network partition that begins right as a watch ends would. The
// informer then sits at its last resourceVersion while the test changes and
// compacts the cluster; releasing the gate sends the real, now stale, watch
// request to the real API server.

import type { ListResult, ListWatcher, WatchEvent, WatchHandle } from '../../src/runtime/informer.js';

export class GatedListWatcher<T> implements ListWatcher<T> {
  /** resourceVersion of every watch asked for, in order. */
  readonly watchedFrom: string[] = [];
  /** Watches waiting at the closed gate right now. */
  held = 0;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(private readonly inner: ListWatcher<T>) {}

  list(): Promise<ListResult<T>> {
    return this.inner.list();
  }

  async watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    this.watchedFrom.push(resourceVersion);
    if (this.gate) {
      this.held++;
      await this.gate;
      this.held--;
    }
    return this.inner.watch(resourceVersion, onEvent, onDone);
  }

  /** Holds every watch started from now on until open(). */
  close(): void {
    this.gate ??= new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }
}
