// Docker events that a reconcile has already seen.
//
// A Docker event for an object whose reconcile is running marks its key
// dirty, so the work queue runs it once more when it ends; one arriving just
// after wakes it again. Most such events are the reconcile's own doing: the
// container kind creates and starts a container, then looks at it again
// (settleAfterActing), and the extra run would only find what that look
// found. So:
// - events that arrive while the object's reconcile is in flight are held;
//   when it ends, they wake the object again unless a look on their host,
//   which the outcome rests on, covers them: the look began after the event
//   arrived (it was answered after Docker sent the event), or the event is
//   one of the reconcile's own Docker calls (create, start of that ID) that
//   returned before the look began;
// - an own call's event that has not arrived by then is expected for a
//   while (as the ReplicaSet controller's expectations): when it comes, it
//   wakes nothing, once.
// Every other event wakes the object at once, as before. A reconcile that
// throws on a host commits nothing there. Kinds that report no looks change
// nothing.

/** How long an own call's event is expected after the reconcile that made the call. */
export const EXPECT_OWN_EVENT_MS = 30_000;
/** Held events per object and host beyond which the object is simply woken again. */
const MAX_HELD = 64;

export interface DockerEventRef {
  /** The Docker object's ID, as the event carries it. */
  id: string;
  action: string;
}

/** An own Docker call that returned at `at`. */
interface OwnCall extends DockerEventRef {
  at: number;
}

/** Per host, during one reconcile. */
interface HostMarks {
  held: Array<DockerEventRef & { at: number }>;
  calls: OwnCall[];
  lookedFrom?: number;
  /** More events than MAX_HELD: too many to judge, the object is woken again. */
  overflow?: boolean;
}

/** What one reconcile reports on one host, committed together once its outcome is in. */
export interface HostLooks {
  looks: number[];
  calls: OwnCall[];
}

export interface EventCoverageOptions {
  /** Wakes the object again (the controller's trigger). */
  wake: (key: string) => void;
  /** Monotonic milliseconds. */
  clock?: () => number;
}

export class EventCoverage {
  private readonly inFlight = new Map<string, Map<string, HostMarks>>();
  /** host, ID and action → when the expectation lapses; insertion order is expiry order. */
  private readonly expected = new Map<string, number>();
  private readonly clock: () => number;

  constructor(private readonly opts: EventCoverageOptions) {
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** The object's reconcile starts (the work queue never runs one key twice at once). */
  begin(key: string): void {
    this.inFlight.set(key, new Map());
  }

  /**
   * A Docker event for the object on `host`. True: held for the reconcile in
   * flight, or an expected own call's event (dropped); false: the caller wakes it.
   */
  hold(key: string, host: string, event: DockerEventRef): boolean {
    const hosts = this.inFlight.get(key);
    if (!hosts) return this.consumeExpected(host, event);
    const marks = marksOf(hosts, host);
    if (marks.held.length < MAX_HELD)
      marks.held.push({ id: event.id, action: event.action, at: this.clock() });
    else marks.overflow = true;
    return true;
  }

  /** A fresh record for one reconcile on one host, with the clock it reads. */
  recorder(): { looks: HostLooks; now: () => number } {
    return { looks: { looks: [], calls: [] }, now: this.clock };
  }

  /** The reconcile's outcome on `host` is in: what it looked at and did there counts. */
  commit(key: string, host: string, looks: HostLooks): void {
    const hosts = this.inFlight.get(key);
    if (!hosts) return;
    const marks = marksOf(hosts, host);
    marks.calls.push(...looks.calls);
    for (const from of looks.looks) marks.lookedFrom = Math.max(marks.lookedFrom ?? from, from);
  }

  /** The reconcile ended: wakes the object when a held event is not covered; expects the rest. */
  end(key: string): void {
    const hosts = this.inFlight.get(key);
    this.inFlight.delete(key);
    if (!hosts) return;
    let uncovered = false;
    for (const [host, marks] of hosts) {
      const lookedFrom = marks.lookedFrom;
      if (marks.overflow) uncovered = true;
      const covered = lookedFrom === undefined ? [] : marks.calls.filter((c) => c.at < lookedFrom);
      for (const event of marks.held) {
        const own = covered.findIndex((c) => c.id === event.id && c.action === event.action);
        if (own >= 0) covered.splice(own, 1);
        else if (lookedFrom === undefined || event.at >= lookedFrom) uncovered = true;
      }
      for (const call of covered) this.expect(host, call);
    }
    if (uncovered) this.opts.wake(key);
  }

  /** Own calls whose events are still expected (for metrics and tests). */
  get expecting(): number {
    this.dropLapsed();
    return this.expected.size;
  }

  private consumeExpected(host: string, event: DockerEventRef): boolean {
    const key = expectKey(host, event);
    const until = this.expected.get(key);
    if (until === undefined) return false;
    this.expected.delete(key);
    return until > this.clock();
  }

  private expect(host: string, call: DockerEventRef): void {
    this.dropLapsed();
    const key = expectKey(host, call);
    // Re-inserted, so insertion order stays expiry order.
    this.expected.delete(key);
    this.expected.set(key, this.clock() + EXPECT_OWN_EVENT_MS);
  }

  private dropLapsed(): void {
    const now = this.clock();
    for (const [key, until] of this.expected) {
      if (until > now) break;
      this.expected.delete(key);
    }
  }
}

function expectKey(host: string, event: DockerEventRef): string {
  return `${host}\u0000${event.id}\u0000${event.action}`;
}

function marksOf(hosts: Map<string, HostMarks>, host: string): HostMarks {
  let marks = hosts.get(host);
  if (!marks) hosts.set(host, (marks = { held: [], calls: [] }));
  return marks;
}
