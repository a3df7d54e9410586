// The test reconciler for gadgets: level-based like a real one (reads the
// cache, writes status.observedGeneration/value through the runtime's
// patchStatus), and it records every reconcile so tests can check the
// controller's guarantees: when each ran, for which key, and how many ran at
// once overall and per key.

import { sleep } from '../../src/runtime/backoff.js';
import type { ReconcileContext, Reconciler, Request } from '../../src/runtime/controller.js';
import { requestKey } from '../../src/runtime/object-key.js';
import { refFor } from '../../src/runtime/object-ref.js';
import { patchStatus, type StatusPatchApi } from '../../src/runtime/status-patch.js';
import { GADGETS, type Gadget, type GadgetStatus } from './test-crd.js';

export const TEST_FIELD_MANAGER = 'dockyard-test';

export interface ReconcileSpan {
  key: string;
  start: number;
  end: number;
  ok: boolean;
}

/** What the reconciles did, as seen from inside the reconciler. */
export class ReconcileRecorder {
  readonly spans: ReconcileSpan[] = [];
  /** Keys whose object a reconcile found gone (NotFound in the cache). */
  readonly deletionsObserved = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;
  maxInFlightPerKey = 0;
  private readonly inFlightByKey = new Map<string, number>();

  /** Marks a reconcile of `key` as started; call the returned function when it ends. */
  begin(key: string): (ok: boolean) => void {
    const start = performance.now();
    const perKey = (this.inFlightByKey.get(key) ?? 0) + 1;
    this.inFlightByKey.set(key, perKey);
    this.maxInFlightPerKey = Math.max(this.maxInFlightPerKey, perKey);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return (ok) => {
      this.inFlight--;
      this.inFlightByKey.set(key, (this.inFlightByKey.get(key) ?? 1) - 1);
      this.spans.push({ key, start, end: performance.now(), ok });
    };
  }

  count(key: string): number {
    return this.spans.filter((s) => s.key === key).length;
  }

  /** Pairs of reconciles of the same key whose time spans overlap (must be none). */
  overlappingSameKey(): [ReconcileSpan, ReconcileSpan][] {
    const byKey = new Map<string, ReconcileSpan[]>();
    for (const span of this.spans) byKey.set(span.key, [...(byKey.get(span.key) ?? []), span]);
    const overlaps: [ReconcileSpan, ReconcileSpan][] = [];
    for (const spans of byKey.values()) {
      const sorted = [...spans].sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1];
        const next = sorted[i];
        if (prev && next && next.start < prev.end) overlaps.push([prev, next]);
      }
    }
    return overlaps;
  }
}

export interface GadgetReconcilerOptions {
  cache: { get(key: string): Gadget | undefined };
  api: StatusPatchApi;
  /** Stamped as status.reconciledBy. */
  identity?: string;
  /** Simulated work per reconcile, so reconciles overlap as real ones (Docker calls) do. */
  workMs?: () => number;
  /** Runs between reading the object and writing its status: for injected conflicts. */
  beforeStatus?: (ctx: ReconcileContext, gadget: Gadget) => Promise<void>;
  /** Called after each successful reconcile. */
  onReconciled?: (key: string, gadget: Gadget | undefined) => void;
}

export class GadgetReconciler implements Reconciler {
  readonly recorder = new ReconcileRecorder();

  constructor(private readonly options: GadgetReconcilerOptions) {}

  async reconcile(ctx: ReconcileContext, req: Request): Promise<void> {
    const key = requestKey(req);
    const end = this.recorder.begin(key);
    let ok = false;
    try {
      const gadget = this.options.cache.get(key);
      if (!gadget) {
        this.recorder.deletionsObserved.add(key);
      } else {
        await this.options.beforeStatus?.(ctx, gadget);
        const work = this.options.workMs?.() ?? 0;
        if (work > 0) await sleep(work, ctx.signal);
        const status: GadgetStatus = {
          ...gadget.status,
          observedGeneration: gadget.metadata.generation,
          value: gadget.spec.value,
          ...(this.options.identity ? { reconciledBy: this.options.identity } : {}),
        };
        await patchStatus(this.options.api, {
          ref: refFor(GADGETS, gadget),
          current: gadget.status,
          desired: status,
          fieldManager: TEST_FIELD_MANAGER,
        });
      }
      ok = true;
      this.options.onReconciled?.(key, gadget);
    } finally {
      end(ok);
    }
  }
}
