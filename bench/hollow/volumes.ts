import type { Handler } from './context.js';
import { conflict, labelsMatch, notFound, parseFilters, readJson } from './http.js';
import { newId } from './ids.js';
import type { HollowVolume, HostState } from './state.js';

export const volumeSource = (name: string): string => `/var/lib/docker/volumes/${name}/_data`;

/** Volume times have whole seconds, unlike every other time the daemon reports. */
const secondsNow = () => `${new Date().toISOString().slice(0, 19)}Z`;

/**
 * Creates the volume unless it exists. The daemon emits `volume create` in
 * both cases (a create of an existing name, and a container create that
 * mounts an existing named volume), so the hollow host does too.
 */
export function ensureVolume(
  state: HostState,
  name: string,
  opts: {
    emitIfExists: boolean;
    labels?: Record<string, string> | null;
    options?: Record<string, string> | null;
  },
): HollowVolume {
  let v = state.volumes.get(name);
  if (!v) {
    v = {
      name,
      driver: 'local',
      labels: opts.labels ?? null,
      options: opts.options ?? null,
      createdAt: secondsNow(),
    };
    state.volumes.set(name, v);
  } else if (!opts.emitIfExists) return v;
  state.events.emit('volume', 'create', name, { driver: v.driver });
  return v;
}

export function volumeJson(v: HollowVolume): Record<string, unknown> {
  return {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: volumeSource(v.name),
    Name: v.name,
    Options: v.options,
    Scope: 'local',
  };
}

function volumeOr404(state: HostState, name: string): HollowVolume {
  const v = state.volumes.get(name);
  if (!v) throw notFound(`get ${name}: no such volume`);
  return v;
}

export const createVolume: Handler = async ({ state, req }) => {
  const body = await readJson(req);
  const name = (body.Name as string) || newId();
  const labels = body.Labels as Record<string, string> | undefined;
  const options = body.DriverOpts as Record<string, string> | undefined;
  const v = ensureVolume(state, name, {
    emitIfExists: true,
    labels: labels && Object.keys(labels).length > 0 ? labels : null,
    options: options && Object.keys(options).length > 0 ? options : null,
  });
  return { status: 201, json: volumeJson(v) };
};

export const listVolumes: Handler = ({ state, query }) => {
  const filters = parseFilters(query);
  const names = filters.get('name');
  const dangling = filters.get('dangling')?.[0];
  const list = [...state.volumes.values()].filter(
    (v) =>
      labelsMatch(v.labels ?? {}, filters.get('label')) &&
      (!names || names.some((n) => v.name.includes(n))) &&
      (dangling === undefined ||
        (state.volumeUsers(v.name).length === 0) === (dangling === 'true' || dangling === '1')),
  );
  return { status: 200, json: { Volumes: list.map(volumeJson), Warnings: null } };
};

export const inspectVolume: Handler = ({ state, params }) => ({
  status: 200,
  json: volumeJson(volumeOr404(state, params[0] as string)),
});

export const removeVolume: Handler = ({ state, params }) => {
  const name = params[0] as string;
  const v = volumeOr404(state, name);
  const users = state.volumeUsers(name);
  if (users.length > 0)
    throw conflict(`remove ${name}: volume is in use - [${users.map((c) => c.id).join(', ')}]`);
  state.volumes.delete(name);
  state.events.emit('volume', 'destroy', name, { driver: v.driver });
  return { status: 204 };
};
