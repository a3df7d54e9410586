import type { Handler, RequestContext } from './context.js';
import { inspectJson, listJson } from './container-json.js';
import {
  badRequest,
  conflict,
  labelsMatch,
  NotModified,
  notFound,
  parseFilters,
  queryBool,
  readJson,
} from './http.js';
import {
  emitContainer,
  joinNetwork,
  killContainer,
  leaveNetwork,
  startContainer,
  stopContainer,
} from './lifecycle.js';
import { createContainerFrom } from './container-create.js';
import type { HollowContainer, HostState } from './state.js';

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function containerOr404(state: HostState, ref: string): HollowContainer {
  const c = state.findContainer(ref);
  if (!c) throw notFound(`No such container: ${ref}`);
  return c;
}

function nameTaken(name: string, holder: HollowContainer): string {
  return `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`;
}

export const createContainer: Handler = async ({ state, req, query }) => {
  const body = await readJson(req);
  const name = query.get('name') ?? '';
  if (name && !VALID_NAME.test(name))
    throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const taken = name ? state.findContainer(`/${name.replace(/^\//, '')}`) : undefined;
  if (taken && taken.name === name.replace(/^\//, ''))
    throw conflict(nameTaken(name.replace(/^\//, ''), taken));
  const c = createContainerFrom(state, name.replace(/^\//, ''), body);
  emitContainer(state, c, 'create');
  return { status: 201, json: { Id: c.id, Warnings: [] } };
};

/** Docker's container list filters that Dockyard uses: label, name, id, status, ancestor, network. */
function listMatcher(state: HostState, filters: Map<string, string[]>): (c: HollowContainer) => boolean {
  const some = (key: string, test: (v: string) => boolean) => {
    const wanted = filters.get(key);
    return !wanted || wanted.length === 0 || wanted.some(test);
  };
  return (c) =>
    labelsMatch(c.config.Labels, filters.get('label')) &&
    // The name filter is a regular expression over the name with its slash.
    some('name', (n) => new RegExp(n).test(`/${c.name}`)) &&
    some('id', (id) => c.id.startsWith(id)) &&
    some('status', (s) => s === c.state.status) &&
    some('ancestor', (a) => state.findImage(a)?.id === c.imageId || a === c.image) &&
    some('network', (n) => [...c.networks].some(([name, ep]) => name === n || ep.networkId.startsWith(n)));
}

export const listContainers: Handler = ({ state, query }) => {
  const all = queryBool(query, 'all');
  const match = listMatcher(state, parseFilters(query));
  // Newest first, like the daemon.
  const list = [...state.containers.values()]
    .filter((c) => (all || c.state.status === 'running') && match(c))
    .reverse()
    .map((c) => listJson(state, c));
  return { status: 200, json: list };
};

export const inspectContainer: Handler = ({ state, params }) => ({
  status: 200,
  json: inspectJson(state, containerOr404(state, params[0] as string)),
});

export const start: Handler = ({ state, params }) => {
  const c = containerOr404(state, params[0] as string);
  if (c.state.status === 'running') throw new NotModified();
  startContainer(state, c);
  return { status: 204 };
};

function graceOf(c: HollowContainer, query: URLSearchParams): number {
  const t = query.get('t');
  if (t !== null && t !== '') return Number(t);
  return typeof c.config.StopTimeout === 'number' ? c.config.StopTimeout : 10;
}

export const stop: Handler = async ({ state, params, query, behaviour }) => {
  const c = containerOr404(state, params[0] as string);
  if (c.state.status !== 'running') throw new NotModified();
  await stopContainer(state, c, graceOf(c, query), behaviour.stop);
  return { status: 204 };
};

const SIGNALS: Record<string, number> = {
  KILL: 9,
  SIGKILL: 9,
  TERM: 15,
  SIGTERM: 15,
  HUP: 1,
  SIGHUP: 1,
  INT: 2,
  SIGINT: 2,
};

export const kill: Handler = ({ state, params, query }) => {
  const ref = params[0] as string;
  const c = containerOr404(state, ref);
  if (c.state.status !== 'running')
    throw conflict(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
  const raw = query.get('signal') ?? 'KILL';
  const signal = SIGNALS[raw.toUpperCase()] ?? Number(raw);
  if (!Number.isFinite(signal)) throw badRequest(`Invalid signal: ${raw}`);
  killContainer(state, c, signal);
  return { status: 204 };
};

export const restart: Handler = async ({ state, params, query, behaviour }) => {
  const c = containerOr404(state, params[0] as string);
  if (c.state.status === 'running') await stopContainer(state, c, graceOf(c, query), behaviour.stop);
  startContainer(state, c);
  emitContainer(state, c, 'restart');
  return { status: 204 };
};

export const remove: Handler = ({ state, params, query }) => {
  const c = containerOr404(state, params[0] as string);
  if (c.state.status === 'running') {
    if (!queryBool(query, 'force'))
      throw conflict(
        `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
      );
    killContainer(state, c, 9);
  }
  state.containers.delete(c.id);
  // Anonymous volumes (an image's VOLUME lines) go with `v`; named ones never do.
  if (queryBool(query, 'v'))
    for (const m of c.mounts)
      if (m.type === 'volume' && m.anonymous && state.volumeUsers(m.name).length === 0) {
        state.volumes.delete(m.name);
        state.events.emit('volume', 'destroy', m.name, { driver: 'local' });
      }
  emitContainer(state, c, 'destroy');
  return { status: 204 };
};

/** The HostConfig fields POST /containers/{id}/update changes. */
const UPDATABLE = [
  'RestartPolicy',
  'Memory',
  'MemorySwap',
  'MemoryReservation',
  'NanoCpus',
  'CpuShares',
  'CpuPeriod',
  'CpuQuota',
  'CpusetCpus',
  'CpusetMems',
  'PidsLimit',
  'BlkioWeight',
  'KernelMemory',
];

export const update: Handler = async ({ state, params, req }) => {
  const c = containerOr404(state, params[0] as string);
  const body = await readJson(req);
  for (const k of UPDATABLE) if (k in body) c.hostConfig[k] = body[k];
  emitContainer(state, c, 'update');
  return { status: 200, json: { Warnings: null } };
};

export const rename: Handler = ({ state, params, query }) => {
  const c = containerOr404(state, params[0] as string);
  const name = (query.get('name') ?? '').replace(/^\//, '');
  if (!VALID_NAME.test(name))
    throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const holder = [...state.containers.values()].find((x) => x.name === name);
  if (holder) throw conflict(`Error when allocating new name: ${nameTaken(name, holder)}`);
  const oldName = `/${c.name}`;
  c.name = name;
  emitContainer(state, c, 'rename', { oldName });
  return { status: 204 };
};

/** A hollow process writes nothing: the logs are empty (the multiplexed stream of no frames). */
export const logs: Handler = ({ state, params }) => {
  containerOr404(state, params[0] as string);
  return { status: 200, text: '' };
};

/** POST /containers/{id}/wait: answers when the container is no longer running. */
export const wait: Handler = async ({ state, params, res }) => {
  const c = containerOr404(state, params[0] as string);
  if (c.state.status === 'running') {
    await new Promise<void>((resolve) => {
      const unsubscribe = state.events.subscribe((e) => {
        if (e.Type === 'container' && e.Actor.ID === c.id && (e.Action === 'die' || e.Action === 'destroy'))
          done();
      });
      const done = () => {
        unsubscribe();
        resolve();
      };
      res.on('close', done);
    });
  }
  return { status: 200, json: { StatusCode: c.state.exitCode, Error: null } };
};

/** Network attach and detach of a container, shared with the network routes. */
export function attach(
  ctx: RequestContext,
  c: HollowContainer,
  networkId: string,
  endpoint: Record<string, unknown>,
): void {
  const { state } = ctx;
  const n = state.networks.get(networkId);
  if (!n) return;
  const ipam = (endpoint.IPAMConfig as { IPv4Address?: string; IPv6Address?: string } | undefined) ?? null;
  const aliases =
    Array.isArray(endpoint.Aliases) && endpoint.Aliases.length > 0 ? endpoint.Aliases.map(String) : null;
  const ep = { networkId, endpointId: '', aliases, ipamConfig: ipam, ip: '', mac: '' };
  c.networks.set(n.name, ep);
  if (c.state.status === 'running') joinNetwork(state, c, ep);
}

export function detach(ctx: RequestContext, c: HollowContainer, networkName: string): boolean {
  const ep = c.networks.get(networkName);
  if (!ep) return false;
  if (c.state.status === 'running') leaveNetwork(ctx.state, c, ep);
  c.networks.delete(networkName);
  return true;
}
