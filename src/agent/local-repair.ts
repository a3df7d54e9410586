// Keeps the controller's last desired state on the local daemon while the
// tunnel is down. Disconnected is normal at the edge: nothing is stopped
// because the controller is away, and what it last wanted running is brought
// back when it goes missing or stops. While connected the controller owns the
// host and this does nothing.
//
//   what wakes a pass (disconnected only)           why
//   ---------------------------------------------   ------------------------------------------
//   the disconnection itself                        drift while the tunnel was dropping
//   a destroy event of a labelled container         it is gone: nothing more will follow
//   a die / stop event (EVENT_SETTLE_MS later)      Docker's restart policy or a removal may
//                                                   follow; one `docker stop` is one pass
//   every intervalMs                                a lost event stream; the backoff ending
//
// A pass is level-based like a reconcile: it lists every labelled container,
// asks repairPlan (desired-state.ts) what to do and does it. Passes never
// overlap; a wake-up during one runs one more after it. A container repaired
// again and again (one that dies right after its start) waits out a doubling
// backoff between repairs instead of being restarted at event speed; a repair
// whose first call failed did nothing and does not count (a pass that saw a
// container between `rm -f`'s kill and its removal tries a start that fails,
// and the destroy's pass must not then wait out a backoff).
// Each repair is logged with what woke its pass, so the event path can be
// told from the backstop (the fault suite checks it).

import type Dockerode from 'dockerode';
import {
  DOCKYARD_LABELS,
  repairPlan,
  type DesiredState,
  type ObservedContainer,
  type RepairAction,
} from './desired-state.js';
import { SILENT_LOG, type AgentLog } from './tunnel-http.js';

export interface LocalRepairOptions {
  /** The local daemon. */
  docker: Dockerode;
  desired: DesiredState;
  log?: AgentLog;
  /** The backstop pass interval while disconnected. Default 10 s. */
  intervalMs?: number;
  now?: () => number;
}

const DEFAULT_INTERVAL_MS = 10_000;
const EVENT_SETTLE_MS = 250;
const BACKOFF_BASE_MS = 2_000;
const BACKOFF_MAX_MS = 300_000;
/** A container left alone this long after its last repair starts its backoff afresh. */
const BACKOFF_RESET_MS = 60_000;

/**
 * Pure: when each container may be repaired again. The first repair is
 * immediate; each one within BACKOFF_RESET_MS of the last doubles the wait.
 */
export class RepairBackoff {
  private entries = new Map<string, { at: number; count: number }>();

  /** When `name` may be repaired next (0: now). */
  dueAt(name: string): number {
    const e = this.entries.get(name);
    return e ? e.at + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (e.count - 1)) : 0;
  }

  due(name: string, now: number): boolean {
    return now >= this.dueAt(name);
  }

  repaired(name: string, now: number): void {
    this.entries.set(name, { at: now, count: (this.entries.get(name)?.count ?? 0) + 1 });
  }

  /** `name` needed nothing in a pass at `now`. */
  fine(name: string, now: number): void {
    const e = this.entries.get(name);
    if (e && now - e.at >= BACKOFF_RESET_MS) this.entries.delete(name);
  }
}

type Handler<K extends RepairAction['kind']> = (
  docker: Dockerode,
  action: Extract<RepairAction, { kind: K }>,
) => Promise<string | void>;

function dockerMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (typeof json?.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** Each action by name (the ID of a re-created container is new); each tolerates "already so". */
const HANDLERS: { [K in RepairAction['kind']]: Handler<K> } = {
  async create(docker, a) {
    // The recorded query and body as they were sent, as container-client.ts creates.
    const options = { _query: a.query, _body: a.body } as unknown as Dockerode.ContainerCreateOptions;
    return (await docker.createContainer(options)).id;
  },
  async disconnect(docker, a) {
    try {
      await docker.getNetwork(a.network).disconnect({ Container: a.name, Force: false });
    } catch (err) {
      if (!/is not connected/i.test(dockerMessage(err))) throw err;
    }
  },
  async connect(docker, a) {
    try {
      await docker.getNetwork(a.network).connect({ Container: a.name, EndpointConfig: a.endpointConfig });
    } catch (err) {
      if (!/already exists in network|already connected/i.test(dockerMessage(err))) throw err;
    }
  },
  async start(docker, a) {
    try {
      await docker.getContainer(a.name).start();
    } catch (err) {
      if (statusOf(err) !== 304) throw err;
    }
  },
};

function nameOf(c: Dockerode.ContainerInfo): string {
  // Names holds link aliases too (/other/alias); the container's own has one slash.
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  return names.find((n) => !n.includes('/')) ?? names[0] ?? '';
}

/** Every labelled container; the exited ones inspected for what repairPlan weighs. */
async function observe(docker: Dockerode): Promise<ObservedContainer[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [DOCKYARD_LABELS.uid] } });
  return Promise.all(
    list.map(async (c): Promise<ObservedContainer> => {
      const o = { id: c.Id, name: nameOf(c), labels: c.Labels ?? {}, state: c.State ?? '' };
      if (o.state !== 'exited') return o;
      try {
        const info = await docker.getContainer(c.Id).inspect();
        const restartPolicy = info.HostConfig?.RestartPolicy?.Name ?? '';
        return { ...o, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled, restartPolicy };
      } catch {
        // Gone since the list: what it was does not matter, the next pass sees it missing.
        return o;
      }
    }),
  );
}

/** What woke a pass (the table above); `backoff` is a deferred repair falling due. */
export type RepairWake = 'disconnection' | 'event' | 'interval' | 'backoff';

/**
 * Pure: the actions of the complete JSON lines in `text` (Docker's event
 * stream) and the incomplete tail, which waits for the next chunk.
 */
export function eventActions(text: string): { actions: string[]; rest: string } {
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  const actions = lines.flatMap((line) => {
    try {
      const event = JSON.parse(line) as { Action?: unknown; status?: unknown };
      const action = event.Action ?? event.status;
      return typeof action === 'string' ? [action] : [];
    } catch {
      return []; // a garbled line still wakes a settled pass (heard below)
    }
  });
  return { actions, rest };
}

/** A stream dockerode hands back; destroy() closes the HTTP request under it. */
type EventStream = NodeJS.ReadableStream & { destroy?: () => void };

export class LocalRepair {
  private readonly log: AgentLog;
  private readonly now: () => number;
  private readonly backoff = new RepairBackoff();
  /** Undefined until told: the agent calls setConnected(false) when it starts without a tunnel. */
  private connected: boolean | undefined;
  /** Bumped on every change of connection, so work begun for an older one is dropped. */
  private generation = 0;
  private interval: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private events: EventStream | undefined;
  private subscribing = false;
  private running: Promise<void> | undefined;
  private again = false;
  /** What asked for a pass since the last one began. */
  private wokenBy = new Set<RepairWake>();
  private repaired = 0;

  constructor(private readonly opts: LocalRepairOptions) {
    this.log = opts.log ?? SILENT_LOG;
    this.now = opts.now ?? Date.now;
  }

  /** Repair actions that succeeded since this was made. */
  repairs(): number {
    return this.repaired;
  }

  setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.generation++;
    this.stopWatching();
    if (connected) return;
    this.interval = setInterval(() => this.tick(), this.opts.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.interval.unref();
    void this.subscribe();
    this.trigger('disconnection');
  }

  /** Resolves once no pass runs or waits to run. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops watching and waits for a pass in flight (which stops acting). */
  async close(): Promise<void> {
    this.setConnected(true);
    await this.idle();
  }

  private stopWatching(): void {
    clearInterval(this.interval);
    clearTimeout(this.settle);
    clearTimeout(this.retry);
    this.interval = this.settle = this.retry = undefined;
    const stream = this.events;
    this.events = undefined;
    stream?.destroy?.();
  }

  private tick(): void {
    if (!this.events && !this.subscribing) void this.subscribe();
    this.trigger('interval');
  }

  /** Docker events filtered to the ones that mean drift; any chunk wakes a pass (the pass looks at everything). */
  private async subscribe(): Promise<void> {
    const generation = this.generation;
    this.subscribing = true;
    let stream: EventStream;
    try {
      stream = await this.opts.docker.getEvents({
        filters: { type: ['container'], label: [DOCKYARD_LABELS.uid], event: ['die', 'stop', 'destroy'] },
      });
    } catch (err) {
      this.log.warn(
        { err: dockerMessage(err) },
        'local repair: no Docker event stream; passes run on the interval',
      );
      return;
    } finally {
      this.subscribing = false;
    }
    if (generation !== this.generation) {
      stream.destroy?.();
      return;
    }
    this.events = stream;
    let partial = '';
    stream.on('data', (chunk: Buffer | string) => {
      const { actions, rest } = eventActions(partial + chunk.toString());
      partial = rest;
      this.heard(actions);
    });
    // The interval subscribes again.
    const ended = () => {
      if (this.events === stream) this.events = undefined;
    };
    stream.on('end', ended);
    stream.on('close', ended);
    stream.on('error', ended);
  }

  /** A destroy wakes a pass now; anything else a moment later (see the table at the top). */
  private heard(actions: string[]): void {
    if (this.connected !== false) return;
    // Noted now: a backstop pass that starts before the settle ends was woken by this too.
    this.wokenBy.add('event');
    if (actions.includes('destroy')) {
      clearTimeout(this.settle);
      this.settle = undefined;
      this.trigger('event');
      return;
    }
    if (this.settle) return;
    this.settle = setTimeout(() => {
      this.settle = undefined;
      this.trigger('event');
    }, EVENT_SETTLE_MS);
    this.settle.unref();
  }

  private trigger(reason: RepairWake): void {
    if (this.connected !== false) return;
    this.wokenBy.add(reason);
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const woken = [...this.wokenBy];
      this.wokenBy.clear();
      try {
        await this.pass(this.generation, woken);
      } catch (err) {
        this.log.warn({ err: dockerMessage(err) }, 'local repair pass failed');
      }
    } while (this.again && this.connected === false);
  }

  private async pass(generation: number, woken: RepairWake[]): Promise<void> {
    const { docker, desired } = this.opts;
    const observed = await observe(docker);
    desired.learn(observed);
    const plan = repairPlan(desired.containers(), observed);
    const now = this.now();
    const byName = new Map<string, RepairAction[]>();
    for (const a of plan) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
    for (const d of desired.containers()) if (!byName.has(d.name)) this.backoff.fine(d.name, now);
    let deferredUntil = Infinity;
    for (const [name, actions] of byName) {
      if (generation !== this.generation) break;
      if (!this.backoff.due(name, now)) {
        deferredUntil = Math.min(deferredUntil, this.backoff.dueAt(name));
        continue;
      }
      if (await this.repair({ name, actions, generation, woken })) this.backoff.repaired(name, now);
    }
    await desired.save();
    if (deferredUntil < Infinity) this.retryAt(deferredUntil - now);
  }

  /** A pass when a deferred repair falls due, rather than at the next interval. */
  private retryAt(delayMs: number): void {
    if (this.retry || this.connected !== false) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.trigger('backoff');
    }, delayMs);
    this.retry.unref();
  }

  /**
   * One container's actions in order; a failure skips the rest of them (they
   * build on it), not other containers'. Whether any call went through.
   */
  private async repair(work: {
    name: string;
    actions: RepairAction[];
    generation: number;
    woken: RepairWake[];
  }): Promise<boolean> {
    const { name, actions, generation, woken } = work;
    let acted = false;
    for (const action of actions) {
      // The controller is back: the host is its again.
      if (generation !== this.generation) return acted;
      try {
        const run = HANDLERS[action.kind] as Handler<RepairAction['kind']>;
        const id = await run(this.opts.docker, action);
        if (action.kind === 'create' && id) this.opts.desired.bind(name, id);
        this.repaired++;
        acted = true;
        this.log.info({ container: name, action: action.kind, woken }, 'local repair');
      } catch (err) {
        this.log.warn(
          { container: name, action: action.kind, err: dockerMessage(err) },
          'local repair failed',
        );
        return acted;
      }
    }
    return acted;
  }
}
