// Docker events that a reconcile in flight has already seen.
//
// A Docker event for an object whose reconcile is running would mark its key
// dirty, so the work queue runs it once more when it ends. Most such events
// are the reconcile's own doing: the container kind creates and starts a
// container and then looks at it again (settleAfterActing); Docker's create
// and start events arrive during that reconcile, and the extra run would only
// find what the last look found. So events that arrive while the object's
// reconcile is in flight are held, and when it ends they wake the object
// again only if no look on their host, taken into account by the outcome,
// began after they arrived. A look that began after an event arrived was
// answered after Docker sent the event, so it saw its effect.
//
// Events that arrive while the object is not in flight wake it at once, as
// before. A reconcile that throws on a host commits no look there, so its
// held events wake it. Kinds that report no looks change nothing.

/** Per host: when the latest held event arrived, and when the latest committed look began. */
interface HostMarks {
  heldAt?: number;
  lookedFrom?: number;
}

export interface EventCoverageOptions {
  /** Wakes the object again (the controller's trigger). */
  wake: (key: string) => void;
  /** Monotonic milliseconds. */
  clock?: () => number;
}

export class EventCoverage {
  private readonly inFlight = new Map<string, Map<string, HostMarks>>();
  private readonly clock: () => number;

  constructor(private readonly opts: EventCoverageOptions) {
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** The object's reconcile starts (the work queue never runs one key twice at once). */
  begin(key: string): void {
    this.inFlight.set(key, new Map());
  }

  /**
   * A Docker event for the object on `host`: held while its reconcile is in
   * flight (true), otherwise the caller wakes it (false).
   */
  hold(key: string, host: string): boolean {
    const hosts = this.inFlight.get(key);
    if (!hosts) return false;
    marksOf(hosts, host).heldAt = this.clock();
    return true;
  }

  /** When a look on `host` began, read before the look's first call (see `commit`). */
  now(): number {
    return this.clock();
  }

  /** The reconcile's outcome on `host` rests on a look that began at `from`. */
  commit(key: string, host: string, from: number): void {
    const hosts = this.inFlight.get(key);
    if (!hosts) return;
    const marks = marksOf(hosts, host);
    marks.lookedFrom = Math.max(marks.lookedFrom ?? from, from);
  }

  /** The reconcile ended: wakes the object when a held event is newer than every look on its host. */
  end(key: string): void {
    const hosts = this.inFlight.get(key);
    this.inFlight.delete(key);
    if (!hosts) return;
    for (const marks of hosts.values()) {
      if (marks.heldAt === undefined) continue;
      if (marks.lookedFrom === undefined || marks.lookedFrom <= marks.heldAt) return this.opts.wake(key);
    }
  }
}

function marksOf(hosts: Map<string, HostMarks>, host: string): HostMarks {
  let marks = hosts.get(host);
  if (!marks) hosts.set(host, (marks = {}));
  return marks;
}
