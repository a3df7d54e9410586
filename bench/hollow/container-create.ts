import { HOST_CONFIG_DEFAULTS } from './container-json.js';
import { notFound } from './http.js';
import { newId, rfc3339Nano } from './ids.js';
import type { HollowContainer, HollowImage, HostState } from './state.js';
import { ensureVolume, volumeSource } from './volumes.js';

// POST /containers/create, the pure-ish part: the body plus the image's config
// become the container Docker would hold (Config merged with the image's Env,
// Cmd and Labels; HostConfig over 20.10's defaults; mounts and networks
// resolved). Named volumes a mount refers to are created on the way, with the
// `volume create` event the daemon emits even when the volume exists.

type Body = Record<string, unknown>;

/** Env from the body first, then the image's variables the body does not set. */
function mergeEnv(body: string[] | undefined, image: string[] | undefined): string[] {
  const own = body ?? [];
  const keys = new Set(own.map((e) => e.split('=')[0]));
  return [...own, ...(image ?? []).filter((e) => !keys.has(e.split('=')[0]))];
}

function configOf(id: string, body: Body, image: HollowImage): HollowContainer['config'] {
  const entrypoint = (body.Entrypoint as string[] | null | undefined) ?? image.config.Entrypoint ?? null;
  // An Entrypoint from the body drops the image's Cmd, as the daemon does.
  const cmd = (body.Cmd as string[] | undefined) ?? (body.Entrypoint ? null : (image.config.Cmd ?? null));
  const volumes = { ...(image.config.Volumes ?? {}), ...((body.Volumes as Record<string, object>) ?? {}) };
  const config: HollowContainer['config'] = {
    Hostname: (body.Hostname as string) || id.slice(0, 12),
    Domainname: (body.Domainname as string) ?? '',
    User: (body.User as string) ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: body.Tty === true,
    OpenStdin: body.OpenStdin === true,
    StdinOnce: false,
    Env: mergeEnv(body.Env as string[] | undefined, image.config.Env),
    Cmd: cmd,
    Image: body.Image as string,
    Volumes: Object.keys(volumes).length > 0 ? volumes : null,
    WorkingDir: (body.WorkingDir as string) ?? image.config.WorkingDir ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: { ...(image.config.Labels ?? {}), ...((body.Labels as Record<string, string>) ?? {}) },
  };
  // Optional keys appear only when given, as in the daemon's JSON (omitempty).
  for (const k of ['ExposedPorts', 'Healthcheck', 'StopSignal', 'StopTimeout'])
    if (body[k] !== undefined) config[k] = body[k];
  return config;
}

/** Binds ("name:/path[:ro]", "/host:/path") and Mounts, as the daemon lists them in Mounts. */
function mountsOf(
  state: HostState,
  host: Body,
  config: HollowContainer['config'],
): HollowContainer['mounts'] {
  const mounts: HollowContainer['mounts'] = [];
  for (const bind of (host.Binds as string[] | null) ?? []) {
    const [source = '', destination = '', mode = ''] = bind.split(':');
    const rw = !mode.split(',').includes('ro');
    if (source.startsWith('/'))
      mounts.push({ type: 'bind', name: '', source, destination, rw, anonymous: false });
    else
      mounts.push({
        type: 'volume',
        name: source,
        source: volumeSource(source),
        destination,
        rw,
        anonymous: false,
      });
  }
  for (const m of (host.Mounts as Array<Record<string, unknown>> | null) ?? []) {
    const destination = String(m.Target ?? '');
    const rw = m.ReadOnly !== true;
    const type = m.Type === 'bind' || m.Type === 'tmpfs' ? m.Type : 'volume';
    const name = type === 'volume' ? String(m.Source || newId()) : '';
    const source = type === 'volume' ? volumeSource(name) : type === 'bind' ? String(m.Source ?? '') : '';
    mounts.push({ type, name, source, destination, rw, anonymous: type === 'volume' && !m.Source });
  }
  // Image VOLUME lines not covered by a mount become anonymous volumes.
  for (const destination of Object.keys(config.Volumes ?? {}))
    if (!mounts.some((m) => m.destination === destination)) {
      const name = newId();
      mounts.push({
        type: 'volume',
        name,
        source: volumeSource(name),
        destination,
        rw: true,
        anonymous: true,
      });
    }
  for (const m of mounts) if (m.type === 'volume') ensureVolume(state, m.name, { emitIfExists: true });
  return mounts;
}

/** The create-time network: NetworkMode (default means bridge) with its EndpointsConfig entry. */
function networksOf(state: HostState, host: Body, body: Body): HollowContainer['networks'] {
  const mode = (host.NetworkMode as string) || 'default';
  const networks: HollowContainer['networks'] = new Map();
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return networks;
  const name = mode === 'default' ? 'bridge' : mode;
  const n = state.findNetwork(name);
  if (!n) throw notFound(`network ${name} not found`);
  const endpoints = ((body.NetworkingConfig as Body | undefined)?.EndpointsConfig ?? {}) as Record<
    string,
    Body
  >;
  const ep = endpoints[name] ?? {};
  const aliases = Array.isArray(ep.Aliases) && ep.Aliases.length > 0 ? ep.Aliases.map(String) : null;
  const ipam = (ep.IPAMConfig as { IPv4Address?: string } | undefined) ?? null;
  networks.set(n.name, { networkId: n.id, endpointId: '', aliases, ipamConfig: ipam, ip: '', mac: '' });
  return networks;
}

export function createContainerFrom(state: HostState, name: string, body: Body): HollowContainer {
  const ref = String(body.Image ?? '');
  const image = state.findImage(ref);
  if (!image) throw notFound(`No such image: ${ref}`);
  const id = newId();
  const host = { ...HOST_CONFIG_DEFAULTS, ...((body.HostConfig as Body | undefined) ?? {}) };
  const config = configOf(id, body, image);
  const networks = networksOf(state, host, body);
  const c: HollowContainer = {
    id,
    // Docker names an unnamed container with two random words; an ID prefix will do here.
    name: name || `hollow_${id.slice(0, 8)}`,
    created: rfc3339Nano(),
    image: ref,
    imageId: image.id,
    config,
    hostConfig: host,
    networks,
    mounts: mountsOf(state, host, config),
    state: { status: 'created', exitCode: 0, pid: 0 },
    restartCount: 0,
  };
  state.containers.set(id, c);
  return c;
}
