// The page's copy of the rows: the state the stream starts with, then its
// patches applied by key. Pure apart from its own fields.

import type { DashboardState, ObjectDetail, StreamMessage, ViewName } from '../views/types.js';

export class Store {
  state: DashboardState | undefined;
  /** The object page's object, as /api/object last answered (null: not there). */
  detail: ObjectDetail | null | undefined;
  /** When the last message arrived (performance.now()), for the live-update measurement. */
  lastUpdate = 0;

  apply(message: StreamMessage): void {
    this.lastUpdate = performance.now();
    if (message.type === 'state') this.state = message.state;
    else if (message.type === 'patch' && this.state)
      this.patch(message.view, message.upsert as Array<{ key: string }>, message.remove, message.generatedAt);
  }

  private patch(view: ViewName, upsert: Array<{ key: string }>, remove: string[], generatedAt: string): void {
    if (!this.state) return;
    const rows = this.state[view] as Array<{ key: string }>;
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const key of remove) byKey.delete(key);
    for (const row of upsert) byKey.set(row.key, row);
    const next = [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
    this.state = { ...this.state, [view]: next, generatedAt };
  }
}
