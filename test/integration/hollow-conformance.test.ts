import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHollowHost, type HollowHost, type ImageConfig } from '../../bench/hollow/index.js';
import { toObserved, type ContainerInspectJson } from '../../src/docker/container-client.js';
import { imageClient, type ImagePullError } from '../../src/docker/image-client.js';
import type { RegistryAuth } from '../../src/docker/registry-auth.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';

// The hollow Docker host (bench/hollow) stands in for 1,000 daemons in the
// scale benchmark. This file keeps it honest: one scripted sequence runs
// through dockerode (Dockyard's client) against a real lab node and against a
// hollow host, and the two transcripts must agree after normalisation.
//
// What is compared, step by step:
// - the HTTP status, and for errors the daemon's message (Dockyard's
//   classifiers match these texts);
// - the shape of every JSON answer: each key path with its JSON type, the
//   whole tree down (maps whose keys are data, such as Labels or Networks,
//   count as one `{}` entry; their contents are compared as values);
// - the values Dockyard reads: toObserved() of each container inspect (the
//   very function Dockyard uses), Names/State/Labels of container lists, the
//   fields the network and volume clients read, and the (Type, Action) of
//   every event with the attributes Dockyard or people key on.
// IDs, timestamps, addresses and sizes are normalised (an ID becomes <id1>,
// <id2>… in order of first appearance, so a reference to the wrong object
// still fails); the shape never is. Known, accepted differences are listed in
// ALLOWED_DIFFERENCES below, each with the reason it does not matter for the
// bench; nothing else is loosened.

/** A key path (or a value path under `fields.`) the hollow host may answer differently, and why. */
interface AllowedDifference {
  step: string;
  path: string;
  why: string;
}

const ALLOWED_DIFFERENCES: AllowedDifference[] = [];

const log = (m: string): void => console.log(`[hollow-conformance] ${m}`);

// ---------------------------------------------------------------------------
// Normalisation.

/** Keys whose object values are maps of data (names, labels), not structure. */
const MAP_PATHS = [
  /(^|\.)Labels$/,
  /(^|\.)Networks$/,
  /(^|\.)Containers$/,
  /(^|\.)Options$/,
  /(^|\.)DriverOpts$/,
  /(^|\.)Volumes$/,
  /(^|\.)ExposedPorts$/,
  /(^|\.)Ports$/,
  /(^|\.)PortBindings$/,
  /(^|\.)Attributes$/,
  /(^|\.)Sysctls$/,
  /^GraphDriver\.Data$/,
  /(^|\.)LogConfig\.Config$/,
];

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Every key path with its JSON type: the shape of an answer. */
export function shapeOf(value: unknown, path = ''): string[] {
  const here = path === '' ? [] : [`${path}:${typeOf(value)}`];
  if (Array.isArray(value)) {
    const inner = new Set(value.flatMap((v) => shapeOf(v, `${path}[]`)));
    return [...here, ...[...inner].sort()];
  }
  if (typeof value !== 'object' || value === null) return here;
  if (MAP_PATHS.some((re) => re.test(path))) {
    // Keys are data; the values still have a shape (an endpoint, a label string).
    const inner = new Set(Object.values(value).flatMap((v) => shapeOf(v, `${path}{}`)));
    return [...here, ...[...inner].sort()];
  }
  const keys = Object.keys(value).sort();
  return [
    ...here,
    ...keys.flatMap((k) => shapeOf((value as Record<string, unknown>)[k], path ? `${path}.${k}` : k)),
  ];
}

const TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g;
const IPV4 = /\b\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?\b/g;
const MAC = /\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/gi;

/** Replaces IDs, times and addresses with stable tokens; the same ID gets the same token everywhere. */
export class Normaliser {
  private readonly ids = new Map<string, string>();

  private id(hex: string): string {
    const full = [...this.ids.keys()].find((k) => k.startsWith(hex));
    const key = full ?? hex;
    let token = this.ids.get(key);
    if (!token) {
      token = `<id${this.ids.size + 1}>`;
      this.ids.set(key, token);
    }
    return hex.length === 64 ? token : `${token}:short`;
  }

  text(s: string): string {
    return (
      s
        .replace(/\b[0-9a-f]{64}\b/g, (m) => this.id(m))
        .replace(/\b[0-9a-f]{12}\b/g, (m) => this.id(m))
        .replace(TIME, '<time>')
        .replace(MAC, '<mac>')
        .replace(IPV4, (m) => (m.includes('/') ? '<cidr>' : '<ip>'))
        // The daemon lists a volume's users from a Go map: their order is undefined (seen both ways in CI).
        .replace(
          /in use - \[([^\]]*)\]/g,
          (_, list: string) => `in use - [${list.split(', ').sort().join(', ')}]`,
        )
    );
  }

  value(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.text(k)] = this.value(x);
      return out;
    }
    return v;
  }
}

// ---------------------------------------------------------------------------
// The scripted sequence.

interface Step {
  step: string;
  /** 'ok', the HTTP status of the error, or 'error' for a failure without one (a pull's stream error). */
  status: number | 'ok' | 'error';
  /** The daemon's message for errors. */
  message?: string;
  shape?: string[];
  /** The values Dockyard reads, normalised. */
  fields?: unknown;
  /** The answer as it came (only with HOLLOW_CONFORMANCE_DUMP, for debugging). */
  raw?: unknown;
}

interface Script {
  docker: Dockerode;
  /** A repository:tag the daemon can pull, with its credentials, and a tag it cannot. */
  pull: { ref: string; missing: string; auth: RegistryAuth };
  image: string;
  suffix: string;
  steps: Step[];
  norm: Normaliser;
}

async function record<T>(
  s: Script,
  step: string,
  call: () => Promise<T>,
  fields?: (value: T) => unknown,
  opts: { shape?: boolean } = {},
): Promise<T | undefined> {
  try {
    const value = await call();
    const entry: Step = { step, status: 'ok' };
    if (opts.shape !== false && typeof value === 'object' && value !== null && !Buffer.isBuffer(value))
      entry.shape = shapeOf(value);
    if (fields) entry.fields = s.norm.value(fields(value));
    if (process.env.HOLLOW_CONFORMANCE_DUMP && !Buffer.isBuffer(value)) entry.raw = value;
    s.steps.push(entry);
    return value;
  } catch (err) {
    const e = err as { statusCode?: number; json?: { message?: string } | null; message?: string };
    if (typeof e.statusCode !== 'number') throw err;
    s.steps.push({ step, status: e.statusCode, message: s.norm.text(e.json?.message ?? '') });
    return undefined;
  }
}

const containerFields = (json: unknown) => {
  const c = json as ContainerInspectJson & {
    Path: string;
    Args: string[];
    Config: { Env?: string[]; Cmd?: string[] };
    HostConfig: { Binds?: string[] | null; NetworkMode?: string };
  };
  const observed = toObserved(c);
  return {
    observed: { ...observed, state: { ...observed.state, startedAt: !!observed.state.startedAt } },
    path: c.Path,
    args: c.Args,
    env: c.Config.Env,
    cmd: c.Config.Cmd,
    binds: c.HostConfig.Binds,
    networkMode: c.HostConfig.NetworkMode,
  };
};

const listFields = (list: Dockerode.ContainerInfo[]) =>
  list
    .map((c) => ({
      names: c.Names,
      image: c.Image,
      state: c.State,
      // "Up 2 seconds", "Exited (137) 1 second ago": keep the words that carry state.
      status: c.Status.replace(/ (Less than a second|About a minute|\d+ \w+)( ago)?$/, ''),
      labels: c.Labels,
      networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort(),
      mounts: (c.Mounts ?? []).map((m) => `${m.Type}:${m.Name ?? ''}:${m.Destination}`),
    }))
    .sort((a, b) => String(a.names[0]).localeCompare(String(b.names[0])));

const networkFields = (n: Record<string, unknown>) => ({
  name: n.Name,
  driver: n.Driver,
  scope: n.Scope,
  labels: n.Labels,
  internal: n.Internal,
  attachable: n.Attachable,
  subnets: ((n.IPAM as { Config?: Array<{ Subnet?: string }> } | undefined)?.Config ?? []).length,
  containers: Object.values((n.Containers as Record<string, { Name?: string }> | null) ?? {}).map(
    (e) => e.Name,
  ),
});

const volumeFields = (v: Record<string, unknown>) => ({
  name: v.Name,
  driver: v.Driver,
  labels: v.Labels,
  options: v.Options,
  mountpoint: v.Mountpoint,
  scope: v.Scope,
});

async function systemSteps(s: Script): Promise<void> {
  const d = s.docker;
  await record(
    s,
    'ping',
    () => d.ping(),
    (v) => String(v),
  );
  await record(
    s,
    'version',
    () => d.version(),
    (v) => ({
      apiVersion: v.ApiVersion,
      minApiVersion: (v as { MinAPIVersion?: string }).MinAPIVersion,
      os: v.Os,
      arch: v.Arch,
      version: v.Version,
    }),
  );
  await record(
    s,
    'info',
    () => d.info() as Promise<Record<string, unknown>>,
    (v) => ({
      containers: v.Containers,
      running: v.ContainersRunning,
      osType: v.OSType,
      architecture: v.Architecture,
      driver: v.Driver,
      serverVersion: v.ServerVersion,
    }),
  );
}

async function imageSteps(s: Script): Promise<void> {
  const d = s.docker;
  await record(
    s,
    'image inspect',
    () => d.getImage(s.image).inspect(),
    (v) => ({
      repoTags: v.RepoTags,
      repoDigests: v.RepoDigests,
      os: v.Os,
      architecture: v.Architecture,
    }),
  );
  await record(s, 'image inspect missing', () => d.getImage('hollow-missing:1').inspect());
  await record(
    s,
    'image list',
    () => d.listImages(),
    (list) => list.map((i) => i.RepoTags).sort(),
  );
}

/** Pulls through Dockyard's own image client: the progress stream and errors as Dockyard parses them. */
async function pullSteps(s: Script): Promise<void> {
  const d = s.docker;
  const pull = async (step: string, ref: string) => {
    try {
      const out = await imageClient.pull(d, ref, { auth: s.pull.auth });
      s.steps.push({
        step,
        status: 'ok',
        fields: s.norm.value({ digest: out.digest, downloaded: out.bytes > 0 }),
      });
    } catch (err) {
      const e = err as ImagePullError;
      s.steps.push({
        step,
        status: e.statusCode ?? 'error',
        message: s.norm.text(e.message),
        fields: e.reason,
      });
    }
  };
  await pull('image pull', s.pull.ref);
  await record(
    s,
    'image inspect pulled',
    () => d.getImage(s.pull.ref).inspect(),
    (v) => ({
      repoTags: v.RepoTags,
      repoDigests: v.RepoDigests,
    }),
  );
  await pull('image pull again', s.pull.ref);
  await pull('image pull missing tag', s.pull.missing);
  try {
    const digest = await imageClient.remoteDigest(d, s.pull.ref, s.pull.auth);
    s.steps.push({ step: 'image remote digest', status: 'ok', fields: s.norm.text(digest) });
  } catch (err) {
    s.steps.push({
      step: 'image remote digest',
      status: 'error',
      message: s.norm.text((err as Error).message),
    });
  }
}

async function volumeSteps(s: Script, name: string): Promise<void> {
  const d = s.docker;
  const labels = { 'dockyard.io/uid': `vol-${s.suffix}`, team: 'a' };
  // dockerode answers a create with a handle, not Docker's JSON: the name is all there is to compare.
  const named = (v: { name: string }) => v.name;
  await record(s, 'volume create', () => d.createVolume({ Name: name, Labels: labels }), named, {
    shape: false,
  });
  await record(
    s,
    'volume create again',
    () => d.createVolume({ Name: name, Labels: { other: 'x' } }),
    named,
    {
      shape: false,
    },
  );
  await record(
    s,
    'volume inspect',
    () => d.getVolume(name).inspect(),
    (v) => volumeFields(v as unknown as Record<string, unknown>),
  );
  await record(
    s,
    'volume list by label',
    () => d.listVolumes({ filters: { label: [`dockyard.io/uid=vol-${s.suffix}`] } }),
    (v) => (v.Volumes ?? []).map((x) => x.Name),
  );
  await record(s, 'volume inspect missing', () => d.getVolume(`${name}-missing`).inspect());
}

async function networkCreateSteps(s: Script, name: string): Promise<string | undefined> {
  const d = s.docker;
  const body = {
    Name: name,
    CheckDuplicate: true,
    Driver: 'bridge',
    Labels: { 'dockyard.io/uid': `net-${s.suffix}` },
  };
  const net = await record(
    s,
    'network create',
    () => d.createNetwork(body),
    (n) => ({ id: n.id }),
    {
      shape: false,
    },
  );
  await record(s, 'network create duplicate', () => d.createNetwork(body));
  await record(
    s,
    'network inspect',
    () => d.getNetwork(name).inspect() as Promise<unknown> as Promise<Record<string, unknown>>,
    networkFields,
  );
  await record(
    s,
    'network list by label',
    () => d.listNetworks({ filters: { label: [`dockyard.io/uid=net-${s.suffix}`] } }),
    (list) => list.map((n) => networkFields(n as unknown as Record<string, unknown>)),
  );
  await record(
    s,
    'network list by name',
    () => d.listNetworks({ filters: { name: [name] } }),
    (list) => list.map((n) => n.Name),
  );
  await record(s, 'network inspect missing', () => d.getNetwork(`${name}-missing`).inspect());
  return net?.id;
}

function containerBody(s: Script, name: string, volume: string): Dockerode.ContainerCreateOptions {
  return {
    name,
    Image: s.image,
    Cmd: ['sleep', '300'],
    Env: ['A=1', 'B=two'],
    Labels: { 'dockyard.io/uid': `ctr-${s.suffix}`, 'dockyard.io/name': name },
    HostConfig: { Binds: [`${volume}:/data`], RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } },
  };
}

async function containerLifecycleSteps(s: Script, name: string, volume: string): Promise<void> {
  const d = s.docker;
  const c = d.getContainer(name);
  const inspect = (step: string) => record(s, step, () => c.inspect(), containerFields);
  const list = (step: string) =>
    record(
      s,
      step,
      () => d.listContainers({ all: true, filters: { label: [`dockyard.io/uid=ctr-${s.suffix}`] } }),
      listFields,
    );
  await record(
    s,
    'container create',
    () => d.createContainer(containerBody(s, name, volume)),
    (v) => ({ id: v.id }),
    {
      shape: false,
    },
  );
  await record(s, 'container create taken name', () => d.createContainer(containerBody(s, name, volume)));
  await inspect('container inspect created');
  await list('container list created');
  await record(s, 'container start', () => c.start());
  await record(s, 'container start running', () => c.start());
  await inspect('container inspect running');
  await list('container list running');
  await record(
    s,
    'container list by name',
    () => d.listContainers({ filters: { name: [name] } }),
    listFields,
  );
  await record(
    s,
    'container logs',
    () => c.logs({ stdout: true, stderr: true, tail: 10, follow: false }),
    (b) => Buffer.from(b).length,
  );
  await record(s, 'container update', () =>
    c.update({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }),
  );
  await inspect('container inspect updated');
  await record(s, 'container stop', () => c.stop({ t: 1 }));
  await record(s, 'container stop stopped', () => c.stop({ t: 1 }));
  await inspect('container inspect stopped');
  await list('container list stopped');
  await record(s, 'container restart', () => c.restart({ t: 1 }));
  await inspect('container inspect restarted');
  await record(s, 'container rename', () => c.rename({ name: `${name}-aside` }));
  await record(s, 'container rename back', () => d.getContainer(`${name}-aside`).rename({ name }));
  await record(s, 'container kill', () => c.kill());
  await record(s, 'container kill stopped', () => c.kill());
  await inspect('container inspect killed');
}

async function networkAttachSteps(s: Script, network: string, ctr: string): Promise<void> {
  const d = s.docker;
  const n = d.getNetwork(network);
  await record(s, 'network connect', () =>
    n.connect({ Container: ctr, EndpointConfig: { Aliases: ['web'] } }),
  );
  await record(s, 'network connect again', () => n.connect({ Container: ctr }));
  await record(s, 'container inspect connected', () => d.getContainer(ctr).inspect(), containerFields);
  await record(
    s,
    'network inspect connected',
    () => n.inspect() as Promise<unknown> as Promise<Record<string, unknown>>,
    networkFields,
  );
  await record(
    s,
    'container list by network',
    () => d.listContainers({ all: true, filters: { network: [network] } }),
    listFields,
  );
  await record(s, 'network remove in use', () => n.remove());
  await record(s, 'network disconnect', () => n.disconnect({ Container: ctr }));
  await record(s, 'network disconnect again', () => n.disconnect({ Container: ctr }));
  await record(s, 'network remove', () => n.remove());
  await record(s, 'network remove again', () => n.remove());
}

async function removalSteps(s: Script, name: string, volume: string): Promise<void> {
  const d = s.docker;
  const other = `${name}-2`;
  await record(
    s,
    'container create second',
    () => d.createContainer({ ...containerBody(s, other, volume) }),
    (v) => ({
      id: v.id,
    }),
    { shape: false },
  );
  await record(s, 'container start second', () => d.getContainer(other).start());
  await record(s, 'container remove running', () => d.getContainer(other).remove());
  await record(s, 'volume remove in use', () => d.getVolume(volume).remove());
  await record(s, 'container remove forced', () => d.getContainer(other).remove({ force: true }));
  await record(s, 'container remove', () => d.getContainer(name).remove({ force: true, v: false }));
  await record(s, 'container remove again', () => d.getContainer(name).remove());
  await record(s, 'container inspect removed', () => d.getContainer(name).inspect());
  await record(s, 'container start missing', () => d.getContainer(name).start());
  await record(s, 'volume remove', () => d.getVolume(volume).remove());
  await record(s, 'volume remove again', () => d.getVolume(volume).remove());
  await record(
    s,
    'container list after removal',
    () => d.listContainers({ all: true, filters: { label: [`dockyard.io/uid=ctr-${s.suffix}`] } }),
    listFields,
  );
}

/** Reads a finite events stream (with `until`) to its end. */
async function readEvents(stream: NodeJS.ReadableStream): Promise<Array<Record<string, unknown>>> {
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) text += chunk.toString();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const EVENT_ATTRIBUTES = [
  'name',
  'exitCode',
  'signal',
  'type',
  'driver',
  'oldName',
  'container',
  'destination',
];

function eventFields(e: Record<string, unknown>): unknown {
  const actor = (e.Actor ?? {}) as { ID?: string; Attributes?: Record<string, string> };
  const attributes: Record<string, string> = {};
  for (const k of EVENT_ATTRIBUTES)
    if (actor.Attributes?.[k] !== undefined) attributes[k] = actor.Attributes[k];
  return {
    what: `${String(e.Type)} ${String(e.Action)}`,
    id: actor.ID,
    attributes,
    attributeKeys: Object.keys(actor.Attributes ?? {}).sort(),
  };
}

export async function runScript(s: Script): Promise<void> {
  const since = Date.now() / 1000;
  const volume = `hollow-vol-${s.suffix}`;
  const network = `hollow-net-${s.suffix}`;
  const name = `hollow-ctr-${s.suffix}`;
  await systemSteps(s);
  await imageSteps(s);
  await pullSteps(s);
  await volumeSteps(s, volume);
  await networkCreateSteps(s, network);
  await containerLifecycleSteps(s, name, volume);
  await record(s, 'container start for networks', () => s.docker.getContainer(name).start());
  await networkAttachSteps(s, network, name);
  await removalSteps(s, name, volume);
  const until = Date.now() / 1000 + 1;
  const events = await readEvents(
    await s.docker.getEvents({ since: since as unknown as number, until: until as unknown as number }),
  );
  // The same replay must also come back through a type filter, as Dockyard's streams ask.
  const filtered = await readEvents(
    await s.docker.getEvents({
      since: since as unknown as number,
      until: until as unknown as number,
      filters: { type: ['container', 'network', 'volume'] },
    }),
  );
  s.steps.push({
    step: 'events since',
    status: 'ok',
    shape: [...new Set(events.flatMap((e) => shapeOf(e).map((p) => `${String(e.Type)}: ${p}`)))].sort(),
    fields: s.norm.value(events.map(eventFields)),
  });
  s.steps.push({
    step: 'events since, filtered by type',
    status: 'ok',
    fields: s.norm.value(filtered.map(eventFields)),
  });
}

// ---------------------------------------------------------------------------
// The test.

function withoutAllowed(full: Step): Step {
  const { raw: _raw, ...step } = full;
  const allowed = ALLOWED_DIFFERENCES.filter((a) => a.step === step.step).map((a) => a.path);
  if (allowed.length === 0) return step;
  return {
    ...step,
    ...(step.shape ? { shape: step.shape.filter((p) => !allowed.some((a) => p.startsWith(`${a}:`))) } : {}),
  };
}

let lab: Lab | undefined;
let hollow: HollowHost | undefined;
const real: Step[] = [];
const simulated: Step[] = [];
let realMs = 0;
let hollowMs = 0;

beforeAll(async () => {
  const t0 = Date.now();
  lab = await startLab({ nodes: [{ name: 'n1' }], registry: true });
  const node = lab.node('n1');
  await node.loadImage(lab.hostDocker, lab.workloadImage);
  // Seeded with the workload image as the node has it: containers inherit its Env, Cmd and labels.
  const realImage = await node.client().getImage(lab.workloadImage).inspect();
  hollow = await startHollowHost({
    name: 'n1',
    images: [{ name: lab.workloadImage, config: realImage.Config as ImageConfig }],
    pullFails: (ref) => ref === pull.missing,
    // The lab registry was seeded with the workload image: same content, so the node only adds a tag.
    sameContentAs: (ref) => (ref === pull.ref ? lab?.workloadImage : undefined),
  });
  log(`lab node and hollow host ready in ${Date.now() - t0} ms`);
  const suffix = Date.now().toString(36);
  const registry = lab.registry;
  const seeded = lab.seeded;
  if (!registry || !seeded) throw new Error('the lab registry did not start');
  const repo = `${registry.address}/${seeded.repository}`;
  const pull = { ref: `${repo}:1.36`, missing: `${repo}:no-such-tag`, auth: registry.auth };
  const t1 = Date.now();
  await runScript({
    docker: node.client(),
    image: lab.workloadImage,
    pull,
    suffix,
    steps: real,
    norm: new Normaliser(),
  });
  realMs = Date.now() - t1;
  const endpoint = new URL(hollow.endpoint.replace(/^tcp:/, 'http:'));
  const t2 = Date.now();
  try {
    await runScript({
      // Dockyard's clients send no version prefix; this one does, so both spellings are exercised.
      docker: new Dockerode({ host: endpoint.hostname, port: Number(endpoint.port), version: 'v1.41' }),
      image: lab.workloadImage,
      pull,
      suffix,
      steps: simulated,
      norm: new Normaliser(),
    });
  } finally {
    hollowMs = Date.now() - t2;
    log(`script: real node ${realMs} ms, hollow host ${hollowMs} ms, ${real.length} steps`);
    if (process.env.HOLLOW_CONFORMANCE_DUMP) {
      const file = join(tmpdir(), 'hollow-conformance.json');
      await writeFile(file, JSON.stringify({ real, hollow: simulated }, null, 2));
      log(`transcripts written to ${file}`);
    }
  }
}, LAB_START_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await hollow?.stop();
  await lab?.stop();
});

describe('hollow Docker host conformance', () => {
  it('ran the same steps on both sides', () => {
    expect(simulated.map((s) => s.step)).toEqual(real.map((s) => s.step));
    expect(real.length).toBeGreaterThan(60);
  });

  it('answers every step like the real daemon (status, message, shape, fields Dockyard reads)', () => {
    const differing: string[] = [];
    for (const [i, r] of real.entries()) {
      const h = simulated[i];
      if (!h) continue;
      try {
        expect(withoutAllowed(h)).toEqual(withoutAllowed(r));
      } catch {
        differing.push(r.step);
      }
    }
    // One assertion per differing step, so the diff names the step.
    for (const step of differing) {
      const r = real.find((x) => x.step === step);
      const h = simulated.find((x) => x.step === step);
      expect.soft(h && withoutAllowed(h), step).toEqual(r && withoutAllowed(r));
    }
    expect(differing).toEqual([]);
  });

  it('needs every allow-listed difference (stale entries are removed, not kept)', () => {
    for (const a of ALLOWED_DIFFERENCES) {
      const r = real.find((x) => x.step === a.step);
      const h = simulated.find((x) => x.step === a.step);
      const has = (st: Step | undefined) => (st?.shape ?? []).some((p) => p.startsWith(`${a.path}:`));
      expect(has(r) !== has(h), `${a.step} ${a.path}: ${a.why}`).toBe(true);
    }
  });
});
