// What the controller last asked of this host's Dockyard containers, as read
// from the Engine API requests the tunnel carries, so that the agent can keep
// it while the controller is away (local-repair.ts). Pure but for save/load.
//
// Only containers whose create body carries Dockyard's owner labels (uid,
// kind DockerContainer and a spec hash) are recorded, keyed by Docker name.
// Later requests name a container by full ID, unique ID prefix or name, as
// Docker resolves them; one naming no recorded container is ignored.
//
//   request (any /vX.Y prefix)              effect on the record
//   -------------------------------------   ---------------------------------------------------
//   POST /containers/create?name=N          record N afresh: query, body, run `created`
//     answer 201 {Id} / 409 "…container X"  N's ID (409: the container the controller adopts)
//   POST /containers/{c}/start | restart    run `running`
//   POST /containers/{c}/stop              run `stopped`
//   POST /containers/{c}/kill              run `stopped` (only for a terminating signal)
//   POST /containers/{c}/update            merged into the body's HostConfig
//   POST /containers/{c}/rename?name=M     the record moves to M; a running one turns `stopped`
//   POST /networks/{n}/connect|disconnect  the last change per network, replayed after a create
//   DELETE /containers/{c}                 forgotten
//
// Intent is recorded when the request passes, not when Docker answers: a
// start or stop that failed is still what the controller wants (it retries).
//
// The controller renames only inside a recreate (replace.ts): the old
// container is stopped, set aside, and removed once its successor runs, or
// put back and started again. A renamed record is therefore held down until
// a start names it, so the agent never runs an aside container next to its
// successor.

import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Dockyard's owner labels; mirrors OWNER_LABELS in src/crds/kit.ts (the agent may not import crds). */
export const DOCKYARD_LABELS = {
  uid: 'dockyard.io/uid',
  namespace: 'dockyard.io/namespace',
  name: 'dockyard.io/name',
  kind: 'dockyard.io/kind',
  specHash: 'dockyard.io/spec-hash',
} as const;

/** `created`: made but never started by the controller (or its start still to come). */
export type RunState = 'created' | 'running' | 'stopped';

/** A JSON object as Docker takes it. */
export type JsonObject = Record<string, unknown>;

/** The last network change the controller made to a container after creating it. */
export type NetworkOp =
  { op: 'connect'; network: string; endpointConfig: JsonObject } | { op: 'disconnect'; network: string };

export interface DesiredContainer {
  /** Docker name, without the leading slash. */
  name: string;
  /** Docker's full ID, once an answer or an observation told it. */
  id?: string;
  uid: string;
  specHash: string;
  /** `namespace/name` of the DockerContainer, for logs. */
  owner: string;
  /** The create request as the controller sent it (the body holds env values: never log it). */
  create: { query: Record<string, string>; body: JsonObject };
  /** At most one per network, in the order they were last made. */
  networks: NetworkOp[];
  run: RunState;
}

/** What the tunnel passes for each POST or DELETE; `body` only when it is at most 1 MiB. */
export interface TunnelRequest {
  method: string;
  path: string;
  headers?: Record<string, string | string[] | number | undefined>;
  body?: Buffer;
}

/** The daemon's answer to a TunnelRequest. */
export interface TunnelResponse {
  status: number;
  body?: Buffer;
}

export type RecordedChange = 'create' | 'id' | 'run' | 'update' | 'rename' | 'network' | 'forget';

/** What one request changed, for the hook's log line. */
export interface Recorded {
  change: RecordedChange;
  name: string;
}

/** A Dockyard container as a repair pass sees it on the daemon. */
export interface ObservedContainer {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  labels: Record<string, string>;
  /** Docker's state: created, running, paused, restarting, removing, exited or dead. */
  state: string;
  /** Known for an exited container (inspected). */
  exitCode?: number;
  oomKilled?: boolean;
  /** HostConfig.RestartPolicy.Name; the recorded one when unknown. */
  restartPolicy?: string;
}

export type RepairAction =
  | { kind: 'create'; name: string; query: Record<string, string>; body: JsonObject }
  | { kind: 'disconnect'; name: string; network: string }
  | { kind: 'connect'; name: string; network: string; endpointConfig: JsonObject }
  | { kind: 'start'; name: string };

/** One Engine API call the recorder understands, parsed from a TunnelRequest. */
type EngineCall =
  | { op: 'create'; query: Record<string, string>; body: JsonObject }
  | { op: 'run'; ref: string; run: 'running' | 'stopped' }
  | { op: 'update'; ref: string; body: JsonObject }
  | { op: 'rename'; ref: string; to: string }
  | { op: 'network'; ref: string; change: NetworkOp }
  | { op: 'remove'; ref: string };

const STATE_FILE = 'desired-state.json';
const FORMAT_VERSION = 1;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(body: Buffer | undefined): JsonObject | undefined {
  if (!body || body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Path segments without the optional API version prefix, or undefined when not decodable. */
function segmentsOf(pathname: string): string[] | undefined {
  try {
    return pathname
      .replace(/^\/v\d+(\.\d+)?(?=\/)/, '')
      .split('/')
      .filter(Boolean)
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** Signals that end a container's main process (a kill with another one is a message to it). */
const TERMINATING = /^(SIG)?(KILL|TERM|INT|QUIT)$|^(9|15|2|3)$/i;

function containerCall(
  ref: string,
  action: string,
  url: URL,
  body: Buffer | undefined,
): EngineCall | undefined {
  switch (action) {
    case 'start':
    case 'restart':
      return { op: 'run', ref, run: 'running' };
    case 'stop':
      return { op: 'run', ref, run: 'stopped' };
    case 'kill': {
      const signal = url.searchParams.get('signal');
      return !signal || TERMINATING.test(signal) ? { op: 'run', ref, run: 'stopped' } : undefined;
    }
    case 'update': {
      const json = parseJson(body);
      return json ? { op: 'update', ref, body: json } : undefined;
    }
    case 'rename': {
      const to = url.searchParams.get('name');
      return to ? { op: 'rename', ref, to: to.replace(/^\//, '') } : undefined;
    }
    default:
      return undefined;
  }
}

function networkCall(network: string, action: string, body: Buffer | undefined): EngineCall | undefined {
  const json = parseJson(body);
  const ref = json?.Container;
  if (typeof ref !== 'string' || !ref) return undefined;
  if (action === 'disconnect') return { op: 'network', ref, change: { op: 'disconnect', network } };
  if (action !== 'connect') return undefined;
  const endpointConfig = isObject(json?.EndpointConfig) ? json.EndpointConfig : {};
  return { op: 'network', ref, change: { op: 'connect', network, endpointConfig } };
}

/** Pure: the call a request makes, if it is one the recorder follows. */
function parseEngineCall(req: TunnelRequest): EngineCall | undefined {
  const url = new URL(req.path, 'http://docker');
  const seg = segmentsOf(url.pathname);
  if (!seg) return undefined;
  const method = req.method.toUpperCase();
  if (method === 'DELETE')
    return seg.length === 2 && seg[0] === 'containers' ? { op: 'remove', ref: seg[1]! } : undefined;
  if (method !== 'POST' || seg.length < 2) return undefined;
  if (seg.length === 2 && seg[0] === 'containers' && seg[1] === 'create') {
    const body = parseJson(req.body);
    return body && req.body ? { op: 'create', query: Object.fromEntries(url.searchParams), body } : undefined;
  }
  if (seg.length !== 3) return undefined;
  if (seg[0] === 'containers') return containerCall(seg[1]!, seg[2]!, url, req.body);
  if (seg[0] === 'networks') return networkCall(seg[1]!, seg[2]!, req.body);
  return undefined;
}

function labelsOf(body: JsonObject): Record<string, string> {
  const labels = body.Labels;
  if (!isObject(labels)) return {};
  return Object.fromEntries(
    Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/**
 * A record for a create the agent should keep, or undefined. Besides the uid,
 * it needs kind DockerContainer and a spec hash: the files-image build
 * (files-image.ts) makes a short-lived container with the owner labels but no
 * spec hash, and it must never be restored.
 */
function recordOf(call: Extract<EngineCall, { op: 'create' }>): DesiredContainer | undefined {
  const labels = labelsOf(call.body);
  const name = call.query.name?.replace(/^\//, '');
  const uid = labels[DOCKYARD_LABELS.uid];
  const specHash = labels[DOCKYARD_LABELS.specHash];
  if (!name || !uid || !specHash || labels[DOCKYARD_LABELS.kind] !== 'DockerContainer') return undefined;
  const owner = `${labels[DOCKYARD_LABELS.namespace] ?? ''}/${labels[DOCKYARD_LABELS.name] ?? ''}`;
  return {
    name,
    uid,
    specHash,
    owner,
    create: { query: call.query, body: call.body },
    networks: [],
    run: 'created',
  };
}

/** The ID Docker names in a 409 answer to a create: the container the controller then adopts. */
function conflictingId(body: Buffer | undefined): string | undefined {
  const message = parseJson(body)?.message;
  return typeof message === 'string'
    ? /in use by container "?([0-9a-f]{12,64})"?/.exec(message)?.[1]
    : undefined;
}

/**
 * Networks a create attaches: its EndpointsConfig, or else its NetworkMode,
 * or else the default bridge. A later connect to one of them replaced its
 * endpoint (the controller disconnects first), so a replay disconnects first.
 */
export function attachedAtCreate(body: JsonObject): Set<string> {
  const networking = isObject(body.NetworkingConfig) ? body.NetworkingConfig : {};
  const endpoints = isObject(networking.EndpointsConfig) ? Object.keys(networking.EndpointsConfig) : [];
  if (endpoints.length > 0) return new Set(endpoints);
  const host = isObject(body.HostConfig) ? body.HostConfig : {};
  const mode = typeof host.NetworkMode === 'string' ? host.NetworkMode : '';
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return new Set();
  return new Set([mode && mode !== 'default' ? mode : 'bridge']);
}

function hostConfigOf(body: JsonObject): JsonObject {
  return isObject(body.HostConfig) ? body.HostConfig : {};
}

/** An update body merged into a create body's HostConfig (update takes HostConfig's own field names). */
function mergeUpdate(body: JsonObject, update: JsonObject): JsonObject {
  const host: JsonObject = { ...hostConfigOf(body), ...update };
  // update clears a reservation with -1; create says the same by leaving it out.
  if (typeof host.MemoryReservation === 'number' && host.MemoryReservation < 0) delete host.MemoryReservation;
  return { ...body, HostConfig: host };
}

/** The record's network changes with `change` made last (a disconnect from a network attached later is no change). */
function withNetworkChange(d: DesiredContainer, change: NetworkOp): NetworkOp[] {
  const others = d.networks.filter((n) => n.network !== change.network);
  const fromCreate = attachedAtCreate(d.create.body).has(change.network);
  return change.op === 'disconnect' && !fromCreate ? others : [...others, change];
}

export interface DesiredStateOptions {
  /** Where the state file lives (created 0700; the file is 0600, as create bodies hold env values). */
  stateDir: string;
}

/**
 * The recorder. Fed by the tunnel (record before forwarding, recordResponse
 * before relaying the answer) and by the agent's own creates (bind); save()
 * after each change so a restart while disconnected still knows it.
 */
export class DesiredState {
  readonly file: string;
  private records = new Map<string, DesiredContainer>();
  private revision = 0;
  private savedRevision = 0;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: DesiredStateOptions) {
    this.file = join(opts.stateDir, STATE_FILE);
  }

  /** Records the intent of one request; undefined when it changes nothing. */
  record(req: TunnelRequest): Recorded | undefined {
    const call = parseEngineCall(req);
    if (!call) return undefined;
    if (call.op === 'create') {
      const fresh = recordOf(call);
      if (!fresh) return undefined;
      this.records.set(fresh.name, fresh);
      return this.changed('create', fresh.name);
    }
    const d = this.resolve(call.ref);
    return d ? this.apply(d, call) : undefined;
  }

  /** Learns a created container's ID from Docker's answer to its create. */
  recordResponse(req: TunnelRequest, res: TunnelResponse): Recorded | undefined {
    const call = parseEngineCall(req);
    if (call?.op !== 'create') return undefined;
    // A create replaces the record afresh, so the record at its name without an ID is this create's.
    const d = this.records.get(call.query.name?.replace(/^\//, '') ?? '');
    if (!d || d.id !== undefined) return undefined;
    const id =
      res.status >= 200 && res.status < 300
        ? parseJson(res.body)?.Id
        : res.status === 409
          ? conflictingId(res.body)
          : undefined;
    if (typeof id !== 'string' || !id) return undefined;
    d.id = id;
    return this.changed('id', d.name);
  }

  /** The agent created `name` itself (a repair): later requests name it by this ID. */
  bind(name: string, id: string): void {
    const d = this.records.get(name);
    if (d && d.id !== id) {
      d.id = id;
      this.changed('id', name);
    }
  }

  /**
   * Takes IDs from what a repair pass saw: the container at a recorded name
   * with the recorded uid is the one the controller will address. True when
   * an ID changed.
   */
  learn(observed: readonly ObservedContainer[]): boolean {
    let learnt = false;
    for (const o of observed) {
      const d = this.records.get(o.name);
      if (!d || d.id === o.id || o.labels[DOCKYARD_LABELS.uid] !== d.uid) continue;
      d.id = o.id;
      this.changed('id', d.name);
      learnt = true;
    }
    return learnt;
  }

  /** Copies of every record, by name. */
  containers(): DesiredContainer[] {
    return [...this.records.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((d) => structuredClone(d));
  }

  get(name: string): DesiredContainer | undefined {
    const d = this.records.get(name);
    return d && structuredClone(d);
  }

  /** Writes the state file if anything changed since the last save: temp file, fsync, rename. */
  save(): Promise<void> {
    const next = this.saving.then(() => this.write());
    // One failed write must not stop the next from trying.
    this.saving = next.catch(() => {});
    return next;
  }

  /** Replaces what is held by the state file's content; no file means nothing recorded yet. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const containers = parseStateFile(text, this.file);
    this.records = new Map(containers.map((d) => [d.name, d]));
    this.revision = this.savedRevision = 0;
  }

  private async write(): Promise<void> {
    const revision = this.revision;
    if (revision === this.savedRevision) return;
    const text = JSON.stringify({ version: FORMAT_VERSION, containers: [...this.records.values()] });
    await mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    await rm(temp, { force: true });
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      // Survives a power cut between the rename and the next write (edge boxes lose power).
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.file);
    this.savedRevision = revision;
  }

  private changed(change: RecordedChange, name: string): Recorded {
    this.revision++;
    return { change, name };
  }

  /** As Docker resolves a reference: full ID, then name, then a unique ID prefix. */
  private resolve(ref: string): DesiredContainer | undefined {
    const all = [...this.records.values()];
    const exact = all.find((d) => d.id === ref);
    if (exact) return exact;
    const byName = this.records.get(ref.replace(/^\//, ''));
    if (byName) return byName;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const prefixed = all.filter((d) => d.id?.startsWith(ref));
    return prefixed.length === 1 ? prefixed[0] : undefined;
  }

  private apply(d: DesiredContainer, call: Exclude<EngineCall, { op: 'create' }>): Recorded {
    switch (call.op) {
      case 'run':
        d.run = call.run;
        return this.changed('run', d.name);
      case 'update':
        d.create.body = mergeUpdate(d.create.body, call.body);
        return this.changed('update', d.name);
      case 'rename':
        this.records.delete(d.name);
        d.name = call.to;
        // Held down until a start names it (see the file comment).
        if (d.run === 'running') d.run = 'stopped';
        this.records.set(d.name, d);
        return this.changed('rename', d.name);
      case 'network':
        d.networks = withNetworkChange(d, call.change);
        return this.changed('network', d.name);
      case 'remove':
        this.records.delete(d.name);
        return this.changed('forget', d.name);
    }
  }
}

const RUN_STATES = new Set<string>(['created', 'running', 'stopped']);

function isRecord(value: unknown): value is DesiredContainer {
  if (!isObject(value)) return false;
  const create = value.create;
  return (
    typeof value.name === 'string' &&
    typeof value.uid === 'string' &&
    typeof value.specHash === 'string' &&
    typeof value.owner === 'string' &&
    (value.id === undefined || typeof value.id === 'string') &&
    isObject(create) &&
    isObject(create.query) &&
    isObject(create.body) &&
    Array.isArray(value.networks) &&
    typeof value.run === 'string' &&
    RUN_STATES.has(value.run)
  );
}

/** The records a state file holds; throws, naming the file, when it is not one this version wrote. */
function parseStateFile(text: string, file: string): DesiredContainer[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(parsed) || parsed.version !== FORMAT_VERSION || !Array.isArray(parsed.containers))
    throw new Error(`${file}: not a desired-state file of version ${FORMAT_VERSION}`);
  const bad = parsed.containers.findIndex((c) => !isRecord(c));
  if (bad >= 0) throw new Error(`${file}: container entry ${bad} is malformed`);
  return parsed.containers as DesiredContainer[];
}

/** Exit codes of a main process ended by SIGTERM or SIGKILL: someone stopped it, it did not finish. */
const STOPPED_BY_SIGNAL = new Set([137, 143]);

function restartPolicyOf(d: DesiredContainer, o: ObservedContainer): string {
  if (o.restartPolicy !== undefined) return o.restartPolicy || 'no';
  const policy = hostConfigOf(d.create.body).RestartPolicy;
  const name = isObject(policy) ? policy.Name : undefined;
  return typeof name === 'string' && name ? name : 'no';
}

/**
 * Whether a present container the controller wants running needs a start.
 * As the controller reads it (situation.ts): one never started does; an
 * exited one under policy no / on-failure stays down unless a signal stopped
 * it (it finished, or failed, and Docker's policy decides); under always /
 * unless-stopped only a stop explains it. Restarting, paused, removing and
 * dead containers are Docker's or a person's business.
 */
function needsStart(d: DesiredContainer, o: ObservedContainer): boolean {
  if (o.state === 'created') return true;
  if (o.state !== 'exited') return false;
  const policy = restartPolicyOf(d, o);
  if (policy !== 'no' && policy !== 'on-failure') return true;
  return !o.oomKilled && o.exitCode !== undefined && STOPPED_BY_SIGNAL.has(o.exitCode);
}

/** Create under the record's current name, then its network changes in order, then start. */
function restore(d: DesiredContainer): RepairAction[] {
  const { name } = d;
  const atCreate = attachedAtCreate(d.create.body);
  const networks = d.networks.flatMap((n): RepairAction[] => {
    if (n.op === 'disconnect') return [{ kind: 'disconnect', name, network: n.network }];
    const connect: RepairAction = {
      kind: 'connect',
      name,
      network: n.network,
      endpointConfig: n.endpointConfig,
    };
    return atCreate.has(n.network) ? [{ kind: 'disconnect', name, network: n.network }, connect] : [connect];
  });
  return [
    { kind: 'create', name, query: { ...d.create.query, name }, body: d.create.body },
    ...networks,
    { kind: 'start', name },
  ];
}

/**
 * Pure: what to do so that every recorded container the controller last
 * wanted running runs. Only `running` records act: the agent never stops
 * anything, and a stopped or never-started container serves nothing offline
 * (the controller re-creates one that went missing when it is back). A
 * container at the name with another uid or spec hash is left alone: whether
 * to replace it is the controller's call, not the agent's.
 */
export function repairPlan(
  desired: readonly DesiredContainer[],
  observed: readonly ObservedContainer[],
): RepairAction[] {
  const byName = new Map(observed.map((o) => [o.name, o]));
  return desired.flatMap((d): RepairAction[] => {
    if (d.run !== 'running') return [];
    const o = byName.get(d.name);
    if (!o) return restore(d);
    const ours = o.labels[DOCKYARD_LABELS.uid] === d.uid && o.labels[DOCKYARD_LABELS.specHash] === d.specHash;
    return ours && needsStart(d, o) ? [{ kind: 'start', name: d.name }] : [];
  });
}
