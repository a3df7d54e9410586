// What makes two `docker inspect` documents comparable although one object
// was made by docker compose and the other by Dockyard. Pure: a Side (from
// snapshot.ts) in, one flat document per container, network and volume out.
//
// Each rule is either a mask (an identity or a moment: ids, names, creation
// times, addresses the daemon picked) or a normalisation: two spellings the
// Engine treats as the same thing (listed in NORMALISATIONS, which the report
// and DIFFERENCES.md repeat). A rule never hides a difference in what runs.

import type { ComposeProject, ComposeServiceNetwork } from '../../../src/compose/project-types.js';
import {
  placeholder,
  type ContainerShot,
  type FileFact,
  type Identities,
  type Json,
  type Side,
} from './snapshot.js';

/** The rules below that rewrite one spelling into another, for the report. */
export const NORMALISATIONS: Array<{ what: string; why: string }> = [
  {
    what: 'Ids, short ids and names of the project’s containers, networks and volumes',
    why: 'Replaced, wherever they occur (paths, NetworkMode, hostnames, aliases), by what they stand for (`<container db>`, `<network default>`, `<volume data>`): compose names them `<project>-<service>-1` and `<project>_<key>`, Dockyard `<namespace>.<name>`.',
  },
  {
    what: 'A files image (Dockyard `files`) as the image it was built from',
    why: '`Config.Image` and `Image` of a container with configs or secrets name its per-container files image on the Dockyard side; its `dockyard.io/base-image` label names the image it adds the files to, which is what the compose side runs.',
  },
  {
    what: 'Labels `com.docker.compose.*` and `dockyard.io/*`',
    why: 'Each tool’s own bookkeeping (project, config hash, owner, spec hash); the user’s labels stay compared.',
  },
  {
    what: 'Config and secret files taken out of `Mounts`, compared as `Files`',
    why: 'compose bind-mounts `file:` sources and copies `content:`/`environment:` sources into the container; Dockyard writes them all into the files image. What the container sees is compared instead: each target’s content hash, size, mode, uid and gid, read back with `docker cp`.',
  },
  {
    what: '`HostConfig.Tmpfs` as `HostConfig.Mounts` of type tmpfs',
    why: 'compose sends the `tmpfs:` key as `HostConfig.Tmpfs` (`size=16m,mode=1777`), Dockyard every tmpfs as a tmpfs mount (`TmpfsOptions.SizeBytes`, `Mode`); the Engine mounts both the same way (noexec, nosuid, nodev plus the options; `rw`, `noexec`, `nosuid`, `nodev` among compose’s options are dropped as the defaults they are). Also added to the top-level `Mounts`, where the Engine lists only the second kind.',
  },
  {
    what: '`HostConfig.Binds` as `HostConfig.Mounts`',
    why: 'compose sends a named volume without options (and a bind without options) in the legacy `Binds` spelling (`vol:/path:rw`), Dockyard as a mount; `Mounts[].Mode` (`rw` for the first, `z` for the second) is dropped, its read-only bit is `RW`.',
  },
  {
    what: 'Capability names with or without `CAP_`',
    why: 'compose sends `CAP_NET_ADMIN`, Dockyard `NET_ADMIN`; the Engine accepts and applies both.',
  },
  {
    what: 'Orders that carry no meaning',
    why: '`Config.Env` (one value per name), network aliases, mounts (by target), ulimits (one per name), a network’s attached containers and `HostConfig.ExtraHosts` (unless a name repeats, when the first line wins) are sorted.',
  },
  {
    what: 'Restart policy `""` as `no`',
    why: 'compose sends an empty restart policy name for a service without `restart`, Dockyard `no`: the Engine’s default, the same policy.',
  },
  {
    what: '`Config.MacAddress` equal to a static MAC of the container’s endpoint',
    why: 'Dockyard sends the first network’s `mac_address` both on its endpoint and in `Config.MacAddress` (what Engines before API 1.44 read at create); compose only on the endpoint. The endpoint’s `MacAddress`, compared, is the address the container has.',
  },
  {
    what: 'A hostname equal to the node’s own name',
    why: 'With `network_mode: host` the container has the node’s hostname, and the two sides run on different nodes: `<node>`.',
  },
  {
    what: 'A container’s own name and short id among its network aliases',
    why: 'compose adds the container name as an alias and the Engine adds the short id on both sides; both are identities (a Docker container’s name resolves on its networks anyway).',
  },
  {
    what: 'Empty values',
    why: '`null`, `[]`, `{}` and `""` are the same as an absent field (compose sends empty lists where Dockyard sends nothing).',
  },
];

/** Masked (left out of the comparison): identities and moments. */
export const MASKED: string[] = [
  'container Id, Created, State.Pid, State.StartedAt, State.FinishedAt, State.Health.Log, State.Health.FailingStreak, ExecIDs (healthchecks running at the moment of inspect)',
  'container Config.AttachStdin, AttachStdout, AttachStderr: what the creating client meant to attach to (`docker create` and compose set them, `docker run -d` and Dockyard do not); the Engine does nothing with them for a container nobody attaches to',
  'container GraphDriver.Data (layer ids), NetworkSettings.SandboxID, SandboxKey, Networks.<net>.EndpointID, NetworkID',
  'container NetworkSettings.Networks.<net>.IPAddress, MacAddress unless set in the file (ipv4_address, mac_address); Gateway and IPPrefixLen unless the network has a subnet in the file',
  'container NetworkSettings.IPAddress, Gateway, MacAddress, EndpointID (the default bridge’s, picked by the daemon)',
  'network Id, Created; IPAM.Config unless the file sets ipam.config (a subnet the daemon picked)',
  'volume CreatedAt',
];

export type Kind = 'container' | 'network' | 'volume';

/** One normalised object: flat paths → canonical JSON of the value. */
export interface FlatObject {
  kind: Kind;
  key: string;
  values: Map<string, Leaf>;
}

/** What the rules need to know about the project (what the file sets itself). */
export interface NormaliseContext {
  project: ComposeProject;
  /** Config and secret targets of each service. */
  fileTargets: (service: string) => string[];
}

// ---------------------------------------------------------------- generic

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function isEmpty(v: unknown): boolean {
  return (
    v === null ||
    v === undefined ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (isObject(v) && Object.keys(v).length === 0)
  );
}

/** Empty values dropped at every depth, object keys sorted: the spelling two equal values share. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isObject(v)) return v;
  const out: Json = {};
  for (const k of Object.keys(v).sort()) {
    const c = canonical(v[k]);
    if (!isEmpty(c)) out[k] = c;
  }
  return out;
}

/** Every occurrence of an identity replaced, longest first, in values and object keys. */
export function substitute(v: unknown, subs: ReadonlyMap<string, string>): unknown {
  const pairs = [...subs].sort(([a], [b]) => b.length - a.length);
  const str = (s: string) => {
    let out = s;
    for (const [from, to] of pairs) if (out.includes(from)) out = out.split(from).join(to);
    return out;
  };
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') return str(x);
    if (Array.isArray(x)) return x.map(walk);
    if (!isObject(x)) return x;
    return Object.fromEntries(Object.entries(x).map(([k, val]) => [str(k), walk(val)]));
  };
  return walk(v);
}

/** A whole value that is a name replaced by what it stands for. */
const exact = (v: unknown, names: ReadonlyMap<string, string>): unknown =>
  typeof v === 'string' ? (names.get(v) ?? v) : v;

function del(doc: Json, path: string): void {
  const parts = path.split('.');
  let at: unknown = doc;
  for (const p of parts.slice(0, -1)) at = isObject(at) ? at[p] : undefined;
  if (isObject(at)) delete at[parts[parts.length - 1] as string];
}

const obj = (v: unknown): Json => (isObject(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const byString = (f: (x: Json) => string) => (a: unknown, b: unknown) => {
  const [x, y] = [f(obj(a)), f(obj(b))];
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Maps whose keys are data (label names, ports, paths): one leaf each, not a path per key. */
const LEAF_MAPS: Record<Kind, string[]> = {
  container: [
    'Config.Labels',
    'Config.ExposedPorts',
    'Config.Volumes',
    'HostConfig.PortBindings',
    'HostConfig.Sysctls',
    'HostConfig.LogConfig.Config',
    'HostConfig.Tmpfs',
    'HostConfig.StorageOpt',
    'NetworkSettings.Ports',
    'NetworkSettings.Networks.*.DriverOpts',
  ],
  network: ['Labels', 'Options', 'IPAM.Options', 'Containers'],
  volume: ['Labels', 'Options', 'Status'],
};

function isLeafMap(kind: Kind, path: string[]): boolean {
  return LEAF_MAPS[kind].some((pattern) => {
    const parts = pattern.split('.');
    return parts.length === path.length && parts.every((p, i) => p === '*' || p === path[i]);
  });
}

/** A leaf: its path, the path with data segments generalised (`<net>`, `<file>`), its canonical JSON. */
export interface Leaf {
  generic: string;
  value: string;
}

/** Path segments that are data (network names, file paths), generalised in the per-key table. */
const DATA_SEGMENTS: Array<{ parent: string[]; as: string }> = [
  { parent: ['NetworkSettings', 'Networks'], as: '<net>' },
  { parent: ['Files'], as: '<file>' },
];

function generic(path: string[]): string {
  return path
    .map((seg, i) => {
      const rule = DATA_SEGMENTS.find(
        (d) => d.parent.length === i && d.parent.every((p, j) => path[j] === p),
      );
      return rule ? rule.as : seg;
    })
    .join('.');
}

/** Flat paths → leaves; arrays and LEAF_MAPS are leaves, empty leaves are absent. */
export function flatten(kind: Kind, doc: Json): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  const walk = (v: unknown, path: string[]) => {
    if (isObject(v) && (path.length === 0 || !isLeafMap(kind, path))) {
      for (const [k, val] of Object.entries(v)) walk(val, [...path, k]);
      return;
    }
    const c = canonical(v);
    if (!isEmpty(c)) out.set(path.join('.'), { generic: generic(path), value: JSON.stringify(c) });
  };
  walk(doc, []);
  return out;
}

// ---------------------------------------------------------------- containers

const CONTAINER_MASKS = [
  'Id',
  'Created',
  'State.Pid',
  'State.StartedAt',
  'State.FinishedAt',
  'State.Health.Log',
  'State.Health.FailingStreak',
  'ExecIDs',
  'Config.AttachStdin',
  'Config.AttachStdout',
  'Config.AttachStderr',
  'GraphDriver.Data',
  'NetworkSettings.SandboxID',
  'NetworkSettings.SandboxKey',
  'NetworkSettings.EndpointID',
  'NetworkSettings.IPAddress',
  'NetworkSettings.Gateway',
  'NetworkSettings.MacAddress',
  'NetworkSettings.IPPrefixLen',
];

/** What the Engine puts on every tmpfs mount, either spelling: saying it changes nothing. */
const TMPFS_DEFAULTS = new Set(['rw', 'noexec', 'nosuid', 'nodev']);

const SIZES: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `size=16m,mode=1777,uid=0` → TmpfsOptions, and what it cannot express. */
function tmpfsOptions(options: string): Json {
  const out: Json = {};
  const rest: string[] = [];
  for (const opt of options.split(',').filter(Boolean)) {
    const [k, v = ''] = opt.split('=');
    const size = /^([0-9]+)([bkmg]?)$/i.exec(v);
    if (k === 'size' && size) out.SizeBytes = Number(size[1]) * (SIZES[(size[2] ?? '').toLowerCase()] ?? 1);
    else if (k === 'mode') out.Mode = parseInt(v, 8);
    else if (!TMPFS_DEFAULTS.has(opt)) rest.push(opt);
  }
  return rest.length > 0 ? { ...out, Options: rest } : out;
}

/** `src:dst[:opts]` → a mount as the Mounts API spells it. */
function bindAsMount(bind: string): Json {
  const [source = '', target = '', opts = ''] = bind.split(':');
  const options = opts.split(',').filter(Boolean);
  const volume = !source.startsWith('/');
  const propagation = options.find((o) => /^r?(shared|slave|private)$/.test(o));
  const relabel = options.find((o) => o === 'z' || o === 'Z');
  return {
    Type: volume ? 'volume' : 'bind',
    Source: source,
    Target: target,
    ...(options.includes('ro') ? { ReadOnly: true } : {}),
    ...(volume && options.includes('nocopy') ? { VolumeOptions: { NoCopy: true } } : {}),
    ...(!volume && propagation ? { BindOptions: { Propagation: propagation } } : {}),
    ...(relabel ? { Relabel: relabel } : {}),
  };
}

const withoutCapPrefix = (caps: unknown) =>
  list(caps)
    .map((c) => String(c).toUpperCase().replace(/^CAP_/, ''))
    .sort();

/** Addresses and MACs the file set itself, by network key; the rest the daemon picked. */
function staticAddresses(ctx: NormaliseContext, service: string, net: string): ComposeServiceNetwork {
  const networks = ctx.project.services?.[service]?.networks ?? {};
  return networks[net] ?? {};
}

function userSubnet(ctx: NormaliseContext, net: string): boolean {
  return (ctx.project.networks?.[net]?.ipam?.config ?? []).length > 0;
}

const networkKeyOf = (name: string) => /^<network (.*)>$/.exec(name)?.[1] ?? name;

/** The project's volume names in a mount: its source (a name), its name, its path on the node. */
function volumeNames(m: Json, volumes: ReadonlyMap<string, string>): Json {
  const out = { ...m };
  if (out.Type === 'volume') out.Source = exact(out.Source, volumes);
  if (out.Name !== undefined) {
    out.Name = exact(out.Name, volumes);
    out.Source = substitute(out.Source, volumes);
  }
  return out;
}

function normaliseMounts(doc: Json, files: Set<string>, volumes: ReadonlyMap<string, string>): void {
  const host = obj(doc.HostConfig);
  const tmpfs = Object.entries(obj(host.Tmpfs)).map(([target, options]) => ({
    Type: 'tmpfs',
    Target: target,
    TmpfsOptions: tmpfsOptions(String(options)),
  }));
  const mounts = [...list(host.Mounts), ...list(host.Binds).map((b) => bindAsMount(String(b))), ...tmpfs]
    .filter((m) => !files.has(String(obj(m).Target)))
    .map((m) => volumeNames(obj(m), volumes))
    .sort(byString((m) => String(m.Target)));
  host.Mounts = mounts;
  delete host.Binds;
  delete host.Tmpfs;
  const seen = list(doc.Mounts).filter((m) => !files.has(String(obj(m).Destination)));
  const listed = new Set(seen.map((m) => String(obj(m).Destination)));
  for (const t of tmpfs) {
    if (!listed.has(t.Target))
      seen.push({ Type: 'tmpfs', Source: '', Destination: t.Target, RW: true, Propagation: '' });
  }
  doc.Mounts = seen
    .map((m) => {
      const { Mode: _mode, ...rest } = volumeNames(obj(m), volumes);
      return rest;
    })
    .sort(byString((m) => String(m.Destination)));
}

function normaliseNetworks(doc: Json, service: string, ctx: NormaliseContext, ids: Identities): void {
  const self = placeholder('container', service);
  const settings = obj(doc.NetworkSettings);
  const host = obj(doc.HostConfig);
  host.NetworkMode = exact(host.NetworkMode, ids.networks);
  settings.Networks = Object.fromEntries(
    Object.entries(obj(settings.Networks)).map(([name, ep]) => [exact(name, ids.networks) as string, ep]),
  );
  for (const [name, raw] of Object.entries(obj(settings.Networks))) {
    const ep = obj(raw);
    const key = networkKeyOf(name);
    const fixed = staticAddresses(ctx, service, key);
    delete ep.EndpointID;
    delete ep.NetworkID;
    if (!fixed.ipv4_address) delete ep.IPAddress;
    if (!fixed.ipv6_address) delete ep.GlobalIPv6Address;
    if (!fixed.mac_address) delete ep.MacAddress;
    if (!userSubnet(ctx, key)) {
      delete ep.Gateway;
      delete ep.IPPrefixLen;
      delete ep.IPv6Gateway;
      delete ep.GlobalIPv6PrefixLen;
    }
    const aliases = list(ep.Aliases).map((a) => String(exact(a, ids.containers)));
    ep.Aliases = [...new Set(aliases)].filter((a) => a !== self).sort();
  }
}

function normaliseContainer(
  shot: ContainerShot,
  ids: Identities,
  ctx: NormaliseContext,
  nodeName: string,
): Json {
  const doc = substitute(shot.inspect, ids.ids) as Json;
  for (const path of CONTAINER_MASKS) del(doc, path);
  doc.Name = exact(String(doc.Name).replace(/^\//, ''), ids.containers);
  const config = obj(doc.Config);
  config.Labels = Object.fromEntries(
    Object.entries(obj(config.Labels)).filter(
      ([k]) => !k.startsWith('com.docker.compose.') && !k.startsWith('dockyard.io/'),
    ),
  );
  config.Env = list(config.Env).map(String).sort();
  const host = obj(doc.HostConfig);
  host.CapAdd = withoutCapPrefix(host.CapAdd);
  host.CapDrop = withoutCapPrefix(host.CapDrop);
  host.ExtraHosts = unorderedHosts(host.ExtraHosts);
  host.Ulimits = [...list(host.Ulimits)].sort(byString((u) => String(u.Name)));
  const restart = obj(host.RestartPolicy);
  if (restart.Name === '') restart.Name = 'no';
  if (config.Hostname === nodeName) config.Hostname = '<node>';
  normaliseMounts(doc, new Set(ctx.fileTargets(shot.key)), ids.volumes);
  normaliseNetworks(doc, shot.key, ctx, ids);
  const macs = Object.values(obj(obj(doc.NetworkSettings).Networks)).map((ep) => obj(ep).MacAddress);
  if (config.MacAddress !== undefined && macs.includes(config.MacAddress)) delete config.MacAddress;
  doc.Files = filesDoc(shot.files);
  return doc;
}

/** `host:ip` lines: their order matters only to a name given twice (the first wins in /etc/hosts). */
function unorderedHosts(hosts: unknown): unknown[] {
  const lines = list(hosts).map(String);
  const names = lines.map((l) => l.slice(0, l.lastIndexOf(':')));
  return new Set(names).size === names.length ? [...lines].sort() : lines;
}

function filesDoc(files: FileFact[] | string): Json | string {
  if (typeof files === 'string') return files;
  return Object.fromEntries(
    files.map((f) => [
      f.path,
      { content: `${f.size} bytes, sha256 ${f.sha256}`, mode: f.mode, uid: f.uid, gid: f.gid },
    ]),
  );
}

// ---------------------------------------------------------------- networks and volumes

function normaliseNetwork(key: string, inspect: Json, ids: Identities, ctx: NormaliseContext): Json {
  const doc = substitute(inspect, ids.ids) as Json;
  doc.Name = exact(doc.Name, ids.networks);
  delete doc.Id;
  delete doc.Created;
  doc.Labels = Object.fromEntries(
    Object.entries(obj(doc.Labels)).filter(
      ([k]) => !k.startsWith('com.docker.compose.') && !k.startsWith('dockyard.io/'),
    ),
  );
  doc.Containers = Object.keys(obj(doc.Containers)).sort();
  if (!userSubnet(ctx, key)) delete obj(doc.IPAM).Config;
  return doc;
}

function normaliseVolume(inspect: Json, ids: Identities): Json {
  const doc: Json = {
    ...inspect,
    Name: exact(inspect.Name, ids.volumes),
    Mountpoint: substitute(inspect.Mountpoint, ids.volumes),
  };
  delete doc.CreatedAt;
  doc.Labels = Object.fromEntries(
    Object.entries(obj(doc.Labels)).filter(
      ([k]) => !k.startsWith('com.docker.compose.') && !k.startsWith('dockyard.io/'),
    ),
  );
  return doc;
}

/** Every object of one side, normalised and flattened, keyed `kind:key`. */
export function normaliseSide(side: Side, ctx: NormaliseContext): Map<string, FlatObject> {
  const out = new Map<string, FlatObject>();
  const add = (kind: Kind, key: string, doc: Json) =>
    out.set(`${kind}:${key}`, { kind, key, values: flatten(kind, doc) });
  for (const c of side.containers)
    add('container', c.key, normaliseContainer(c, side.identities, ctx, side.nodeName));
  for (const n of side.networks)
    add('network', n.key, normaliseNetwork(n.key, n.inspect, side.identities, ctx));
  for (const v of side.volumes) add('volume', v.key, normaliseVolume(v.inspect, side.identities));
  return out;
}
