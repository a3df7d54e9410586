// The pure heart of the DockerContainer controller: spec → Docker create
// options, the recreate hash, what can change in place (update body, network
// connections) and why a container must be recreated. No I/O here.
//
// Facts about Engine 20.10 (API 1.41) these functions rely on, each seen on a
// real daemon (test/integration/container-client.test.ts):
// - POST /containers/{id}/update ignores Memory 0 and NanoCpus 0 and refuses
//   -1 for both: a memory or CPU limit can be changed in place but not removed.
//   MemoryReservation -1 and PidsLimit 0 do remove theirs.
// - A new Memory above the container's MemorySwap is refused unless MemorySwap
//   changes with it; a container created without a limit has MemorySwap 0.
// - Create sets MemorySwap to twice Memory when only Memory is given.
// - Only one network can be given at create (EndpointsConfig); the others are
//   connected afterwards.
import type Dockerode from 'dockerode';
import type { DockerContainerSpec } from '../crds/dockercontainer.js';
import { OWNER_LABELS } from '../crds/kit.js';
import { specHash } from './spec-hash.js';
import type { ContainerUpdateBody, ObservedContainer } from './container-client.js';
import {
  parseByteQuantity,
  parseCpuQuantity,
  parseDuration,
  parseDurationSeconds,
} from '../crds/quantities.js';

/** Per-group hashes of the recreate-relevant spec, so a Recreated Event can say what changed. */
export const SPEC_GROUPS_LABEL = 'dockyard.io/spec-groups';

/** The restart policy when the spec gives none (documented on the CRD field). */
export const DEFAULT_RESTART_POLICY = 'unless-stopped';

/** The network Docker attaches a container to when no network is given. */
export const DEFAULT_BRIDGE = 'bridge';

/** Everything the translation needs besides the spec, resolved by the controller for one host. */
export interface ContainerInputs {
  /** The Docker container name. */
  name: string;
  /** The reference to create from: digest-pinned when the DockerImage resolved one. */
  image: string;
  imageDigest?: string;
  /** Fully resolved (envFrom, then env), in order. */
  env: Array<{ name: string; value: string }>;
  /** DockerVolume name → Docker volume name on this host. */
  volumeNames: Record<string, string>;
  /** DockerNetwork name → Docker network name on this host. */
  networkNames: Record<string, string>;
  /** From ownerLabels(), minus the spec hash (toCreateOptions adds it). */
  ownerLabels: Record<string, string>;
}

/** A spec that refers to something the inputs do not resolve (a programming error in the caller). */
export class UnresolvedReferenceError extends Error {
  override readonly name = 'UnresolvedReferenceError';
}

type Spec = DockerContainerSpec;
type Port = NonNullable<Spec['ports']>[number];
type Mount = NonNullable<Spec['mounts']>[number];

function volumeNameOf(inputs: ContainerInputs, volume: string | undefined): string {
  const name = volume === undefined ? undefined : inputs.volumeNames[volume];
  if (name === undefined) {
    throw new UnresolvedReferenceError(`DockerVolume ${JSON.stringify(volume)} is not resolved on this host`);
  }
  return name;
}

function networkNameOf(inputs: ContainerInputs, network: string): string {
  const name = inputs.networkNames[network];
  if (name === undefined) {
    throw new UnresolvedReferenceError(
      `DockerNetwork ${JSON.stringify(network)} is not resolved on this host`,
    );
  }
  return name;
}

const nonEmpty = <T>(list: T[] | undefined): T[] | undefined => (list && list.length > 0 ? list : undefined);
const nonEmptyMap = (map: Record<string, string> | undefined) =>
  map && Object.keys(map).length > 0 ? map : undefined;
const trueOrUndefined = (flag: boolean | undefined) => (flag ? true : undefined);

function sortedBy<T>(list: T[], key: (item: T) => string): T[] {
  return [...list].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

function protocolOf(p: Port): string {
  return (p.protocol ?? 'TCP').toLowerCase();
}

function portKey(p: Port): string {
  return `${p.containerPort}/${protocolOf(p)}`;
}

function normalCapability(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, '');
}

function normalSignal(signal: string): string {
  const s = signal.toUpperCase();
  return /^[0-9]+$/.test(s) || s.startsWith('SIG') ? s : `SIG${s}`;
}

function capabilities(list: string[] | undefined): string[] | undefined {
  return nonEmpty([...new Set((list ?? []).map(normalCapability))].sort());
}

function emptyToUndefined<T extends object>(value: T): T | undefined {
  return Object.values(value).some((v) => v !== undefined) ? value : undefined;
}

// ---------------------------------------------------------------------------
// The recreate hash
// ---------------------------------------------------------------------------

/**
 * The recreate-relevant spec, normalised and grouped. Only what the user
 * specified: no daemon defaults, so an unset field and a field set to its
 * "off" value (`ports: []`, `readOnly: false`, `networkMode: default`) hash
 * the same, and adding a group later leaves existing hashes alone (undefined
 * groups are dropped from the canonical JSON).
 */
export function recreateGroups(spec: Spec, inputs: ContainerInputs): Record<string, unknown> {
  const env: Record<string, string> = {};
  for (const e of inputs.env) env[e.name] = e.value; // later wins, as in Docker
  const hc = spec.healthcheck;
  const sec = spec.security ?? {};
  return {
    name: inputs.name,
    image: { ref: inputs.image, digest: inputs.imageDigest },
    command:
      spec.command !== undefined || spec.args !== undefined
        ? { command: spec.command, args: spec.args }
        : undefined,
    workingDir: spec.workingDir,
    user: spec.user,
    hostname: spec.hostname,
    env: Object.keys(env).length > 0 ? env : undefined,
    ports: nonEmpty(
      sortedBy(
        (spec.ports ?? []).map((p) => ({
          containerPort: p.containerPort,
          protocol: protocolOf(p),
          hostPort: p.hostPort,
          hostIP: p.hostIP,
        })),
        (p) => JSON.stringify([p.containerPort, p.protocol, p.hostPort ?? 0, p.hostIP ?? '']),
      ),
    ),
    mounts: nonEmpty(
      sortedBy(
        (spec.mounts ?? []).map((m) => ({
          type: m.type,
          target: m.target,
          source:
            m.type === 'volume' ? volumeNameOf(inputs, m.volume) : m.type === 'bind' ? m.hostPath : undefined,
          readOnly: trueOrUndefined(m.readOnly),
          tmpfsSizeBytes: m.tmpfsSize !== undefined ? parseByteQuantity(m.tmpfsSize) : undefined,
        })),
        (m) => `${m.target}\0${m.type}`,
      ),
    ),
    healthcheck: hc
      ? {
          test: hc.command,
          intervalNs: hc.interval !== undefined ? parseDuration(hc.interval) : undefined,
          timeoutNs: hc.timeout !== undefined ? parseDuration(hc.timeout) : undefined,
          retries: hc.retries,
          startPeriodNs: hc.startPeriod !== undefined ? parseDuration(hc.startPeriod) : undefined,
        }
      : undefined,
    security: emptyToUndefined({
      privileged: trueOrUndefined(sec.privileged),
      capAdd: capabilities(sec.capAdd),
      capDrop: capabilities(sec.capDrop),
      readOnlyRootFilesystem: trueOrUndefined(sec.readOnlyRootFilesystem),
      noNewPrivileges: trueOrUndefined(sec.noNewPrivileges),
      networkMode: sec.networkMode === 'default' ? undefined : sec.networkMode,
      pidMode: sec.pidMode === 'private' ? undefined : sec.pidMode,
      ipcMode: sec.ipcMode,
      utsMode: sec.utsMode === 'private' ? undefined : sec.utsMode,
      devices: nonEmpty(
        sortedBy(
          (sec.devices ?? []).map((d) => ({
            hostPath: d.hostPath,
            containerPath: d.containerPath ?? d.hostPath,
            permissions: d.permissions ?? 'rwm',
          })),
          (d) => `${d.containerPath}\0${d.hostPath}`,
        ),
      ),
    }),
    labels: nonEmptyMap(spec.labels),
    stopSignal: spec.stopSignal !== undefined ? normalSignal(spec.stopSignal) : undefined,
    logging: spec.logging
      ? { driver: spec.logging.driver, options: nonEmptyMap(spec.logging.options) }
      : undefined,
  };
}

/**
 * The hash of everything that needs a recreate to change, for the
 * `dockyard.io/spec-hash` label. Left out: what changes in place
 * (restartPolicy, resources, networks), what is not a container property
 * (state, placement, deletionPolicy) and stopGracePeriod (passed at stop time).
 */
export function recreateHash(spec: Spec, inputs: ContainerInputs): string {
  return specHash(recreateGroups(spec, inputs));
}

/** `command=1a2b3c4d,env=…`: a short hash per group, sorted by group. */
export function groupHashes(spec: Spec, inputs: ContainerInputs): string {
  return Object.entries(recreateGroups(spec, inputs))
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${specHash(v).slice(0, 8)}`)
    .sort()
    .join(',');
}

/** The per-group hashes of a spec-groups label; undefined when absent or malformed. */
export function parseGroupHashes(label: string | undefined): Map<string, string> | undefined {
  if (!label) return undefined;
  const out = new Map<string, string>();
  for (const part of label.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Create options
// ---------------------------------------------------------------------------

function restartPolicyOf(spec: Spec): { Name: string; MaximumRetryCount?: number } {
  const rp = spec.restartPolicy;
  if (!rp) return { Name: DEFAULT_RESTART_POLICY };
  // Docker refuses a retry count with any policy but on-failure.
  return rp.name === 'on-failure' && rp.maximumRetryCount !== undefined
    ? { Name: rp.name, MaximumRetryCount: rp.maximumRetryCount }
    : { Name: rp.name };
}

function mountOf(m: Mount, inputs: ContainerInputs): Dockerode.MountSettings {
  const readOnly = m.readOnly ? { ReadOnly: true } : {};
  switch (m.type) {
    case 'volume':
      return { Type: 'volume', Source: volumeNameOf(inputs, m.volume), Target: m.target, ...readOnly };
    case 'bind':
      return { Type: 'bind', Source: m.hostPath ?? '', Target: m.target, ...readOnly };
    case 'tmpfs':
      // tmpfs takes no Source; Docker's TmpfsOptions.Mode is optional despite the typings.
      return {
        Type: 'tmpfs',
        Target: m.target,
        ...readOnly,
        ...(m.tmpfsSize !== undefined
          ? {
              TmpfsOptions: {
                SizeBytes: parseByteQuantity(m.tmpfsSize),
              } as Dockerode.MountSettings['TmpfsOptions'],
            }
          : {}),
      } as Dockerode.MountSettings;
  }
}

function networkModeOf(spec: Spec): 'host' | 'none' | undefined {
  const mode = spec.security?.networkMode;
  return mode === 'host' || mode === 'none' ? mode : undefined;
}

/**
 * Docker create options for the spec. Only what the user specified is set,
 * so the daemon and the image supply their own defaults, with one exception:
 * the restart policy defaults to `unless-stopped` (as the CRD documents), so
 * containers come back after a daemon restart unless the user stopped them.
 *
 * Networks: with `networkMode` host or none the container joins no network.
 * Otherwise the first spec network is the create-time NetworkMode (with its
 * aliases and static IPv4); the rest are connected after create (see
 * networkChanges). Without networks Docker attaches the default bridge.
 */
export function toCreateOptions(
  spec: Spec,
  inputs: ContainerInputs,
  hash: string,
  extra: { inherit?: readonly InheritedVolume[] } = {},
): Dockerode.ContainerCreateOptions {
  const opts: Dockerode.ContainerCreateOptions = { name: inputs.name, Image: inputs.image };
  const host: Dockerode.HostConfig = {};

  if (inputs.env.length > 0) opts.Env = inputs.env.map((e) => `${e.name}=${e.value}`);
  if (spec.command !== undefined) opts.Entrypoint = [...spec.command];
  if (spec.args !== undefined) opts.Cmd = [...spec.args];
  if (spec.workingDir !== undefined) opts.WorkingDir = spec.workingDir;
  if (spec.user !== undefined) opts.User = spec.user;
  if (spec.hostname !== undefined) opts.Hostname = spec.hostname;

  const ports = spec.ports ?? [];
  if (ports.length > 0) {
    const exposed: Record<string, Record<string, never>> = {};
    const bindings: Record<string, Array<{ HostIp?: string; HostPort: string }>> = {};
    for (const p of ports) {
      const key = portKey(p);
      exposed[key] = {};
      if (p.hostPort !== undefined) {
        (bindings[key] ??= []).push({
          ...(p.hostIP !== undefined ? { HostIp: p.hostIP } : {}),
          HostPort: String(p.hostPort),
        });
      }
    }
    opts.ExposedPorts = exposed;
    if (Object.keys(bindings).length > 0) host.PortBindings = bindings;
  }

  const mounts = [
    ...(spec.mounts ?? []).map((m) => mountOf(m, inputs)),
    ...(extra.inherit ?? []).map((v): Dockerode.MountSettings => ({
      Type: 'volume',
      Source: v.name,
      Target: v.target,
      ...(v.readOnly ? { ReadOnly: true } : {}),
    })),
  ];
  if (mounts.length > 0) host.Mounts = mounts;

  host.RestartPolicy = restartPolicyOf(spec);

  const r = spec.resources;
  if (r?.memory !== undefined) host.Memory = parseByteQuantity(r.memory);
  if (r?.memoryReservation !== undefined) host.MemoryReservation = parseByteQuantity(r.memoryReservation);
  if (r?.cpus !== undefined) host.NanoCpus = parseCpuQuantity(r.cpus);
  if (r?.pidsLimit !== undefined) host.PidsLimit = r.pidsLimit;

  const hc = spec.healthcheck;
  if (hc) {
    opts.Healthcheck = {
      Test: ['CMD', ...hc.command],
      ...(hc.interval !== undefined ? { Interval: parseDuration(hc.interval) } : {}),
      ...(hc.timeout !== undefined ? { Timeout: parseDuration(hc.timeout) } : {}),
      ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
      ...(hc.startPeriod !== undefined ? { StartPeriod: parseDuration(hc.startPeriod) } : {}),
    };
  }

  const sec = spec.security;
  if (sec?.privileged) host.Privileged = true;
  if (nonEmpty(sec?.capAdd)) host.CapAdd = [...(sec?.capAdd ?? [])];
  if (nonEmpty(sec?.capDrop)) host.CapDrop = [...(sec?.capDrop ?? [])];
  if (sec?.readOnlyRootFilesystem) host.ReadonlyRootfs = true;
  if (sec?.noNewPrivileges) host.SecurityOpt = ['no-new-privileges:true'];
  // "private" PID and UTS namespaces are Docker's default and have no API spelling.
  if (sec?.pidMode === 'host') host.PidMode = 'host';
  if (sec?.ipcMode !== undefined) host.IpcMode = sec.ipcMode;
  if (sec?.utsMode === 'host') host.UTSMode = 'host';
  if (nonEmpty(sec?.devices)) {
    host.Devices = (sec?.devices ?? []).map((d) => ({
      PathOnHost: d.hostPath,
      PathInContainer: d.containerPath ?? d.hostPath,
      CgroupPermissions: d.permissions ?? 'rwm',
    }));
  }

  const mode = networkModeOf(spec);
  const first = spec.networks?.[0];
  if (mode) {
    host.NetworkMode = mode;
  } else if (first) {
    const network = networkNameOf(inputs, first.name);
    host.NetworkMode = network;
    opts.NetworkingConfig = { EndpointsConfig: { [network]: endpointOf(first.aliases, first.ipv4Address) } };
  }

  opts.Labels = {
    ...(spec.labels ?? {}),
    ...inputs.ownerLabels,
    [OWNER_LABELS.specHash]: hash,
    [SPEC_GROUPS_LABEL]: groupHashes(spec, inputs),
  };
  if (spec.stopSignal !== undefined) opts.StopSignal = spec.stopSignal;
  if (spec.stopGracePeriod !== undefined) opts.StopTimeout = parseDurationSeconds(spec.stopGracePeriod);
  if (spec.logging) {
    host.LogConfig = {
      Type: spec.logging.driver,
      Config: { ...(spec.logging.options ?? {}) },
    };
  }

  opts.HostConfig = host;
  return opts;
}

function endpointOf(
  aliases: string[] | undefined,
  ipv4Address: string | undefined,
): Dockerode.EndpointSettings {
  return {
    ...(aliases && aliases.length > 0 ? { Aliases: [...aliases] } : {}),
    ...(ipv4Address ? { IPAMConfig: { IPv4Address: ipv4Address } } : {}),
  };
}

/** Seconds to pass as the stop timeout: stopGracePeriod, default 10 s (the CRD's documented default). */
export function stopTimeoutSeconds(spec: Spec): number {
  return spec.stopGracePeriod !== undefined ? parseDurationSeconds(spec.stopGracePeriod) : 10;
}

// ---------------------------------------------------------------------------
// Anonymous volumes a recreate carries over
// ---------------------------------------------------------------------------

/** An anonymous volume of the container being replaced, mounted on its successor. */
export interface InheritedVolume {
  /** Docker's random 64-hex volume name. */
  name: string;
  target: string;
  readOnly: boolean;
}

/** How Docker names the volume it creates for an image's VOLUME (a random ID). */
const ANONYMOUS_VOLUME_NAME = /^[0-9a-f]{64}$/;

/**
 * The anonymous volumes of `old` the new container must mount where `old`
 * had them, as `docker compose up` does: otherwise a recreate (a new image,
 * a new command) starts over on an empty volume and the data of an image
 * VOLUME (postgres' data directory) is left behind. Anonymous means a volume
 * Docker made for a path the image declared, named with a random ID; a
 * DockerVolume the spec no longer mounts is not carried over, and a path the
 * spec now mounts something else at is the spec's.
 */
export function inheritedVolumes(spec: Spec, old: ObservedContainer): InheritedVolume[] {
  const claimed = new Set((spec.mounts ?? []).map((m) => m.target));
  const declared = new Set(old.declaredVolumes);
  return old.mounts
    .filter(
      (m) =>
        m.type === 'volume' &&
        m.name !== undefined &&
        ANONYMOUS_VOLUME_NAME.test(m.name) &&
        declared.has(m.destination) &&
        !claimed.has(m.destination),
    )
    .map((m) => ({ name: m.name ?? '', target: m.destination, readOnly: m.readOnly }))
    .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

// ---------------------------------------------------------------------------
// In place: restart policy and resources
// ---------------------------------------------------------------------------

/** An update body with every in-place field present. */
export interface DesiredUpdate extends ContainerUpdateBody {
  RestartPolicy: { Name: string; MaximumRetryCount?: number };
  Memory: number;
  MemoryReservation: number;
  NanoCpus: number;
  PidsLimit: number;
}

/**
 * The update body that brings a container's in-place fields to the spec.
 * Unset fields use the value that clears them where Docker can clear in
 * place: MemoryReservation -1 and PidsLimit 0 (unlimited); restart policy
 * `unless-stopped`. Memory and NanoCpus 0 mean "leave as is" to Docker (a
 * limit cannot be removed in place: see removedLimits). MemorySwap goes with
 * Memory, at twice it (Docker's create-time default), because Docker refuses
 * a Memory above the current MemorySwap.
 */
export function desiredUpdate(spec: Spec): DesiredUpdate {
  const r = spec.resources;
  const memory = r?.memory !== undefined ? parseByteQuantity(r.memory) : 0;
  return {
    RestartPolicy: restartPolicyOf(spec),
    Memory: memory,
    ...(memory > 0 ? { MemorySwap: memory * 2 } : {}),
    MemoryReservation: r?.memoryReservation !== undefined ? parseByteQuantity(r.memoryReservation) : -1,
    NanoCpus: r?.cpus !== undefined ? parseCpuQuantity(r.cpus) : 0,
    PidsLimit: r?.pidsLimit ?? 0,
  };
}

/**
 * The fields of desiredUpdate that differ from what the container reports,
 * or undefined when nothing needs changing. Never diffs against defaults the
 * spec did not ask for: an unset memory or CPU limit is left to removedLimits
 * (a recreate), so this never returns a body Docker would ignore.
 */
export function updateNeeded(spec: Spec, observed: ObservedContainer): ContainerUpdateBody | undefined {
  const want = desiredUpdate(spec);
  const have = observed.hostConfig;
  const body: ContainerUpdateBody = {};

  const rp = want.RestartPolicy;
  const retries = rp.Name === 'on-failure' ? (rp.MaximumRetryCount ?? 0) : 0;
  const haveRetries = have.restartPolicy.name === 'on-failure' ? have.restartPolicy.maximumRetryCount : 0;
  if ((have.restartPolicy.name || 'no') !== rp.Name || haveRetries !== retries) body.RestartPolicy = rp;

  if (want.Memory > 0 && want.Memory !== have.memory) {
    body.Memory = want.Memory;
    body.MemorySwap = want.Memory * 2;
  }
  const reservation = Math.max(0, want.MemoryReservation);
  if (reservation !== Math.max(0, have.memoryReservation)) body.MemoryReservation = want.MemoryReservation;
  if (want.NanoCpus > 0 && want.NanoCpus !== have.nanoCpus) body.NanoCpus = want.NanoCpus;
  if (want.PidsLimit !== have.pidsLimit) body.PidsLimit = want.PidsLimit;

  return Object.keys(body).length > 0 ? body : undefined;
}

/**
 * Limits the container has but the spec no longer sets, which Docker cannot
 * remove in place (update ignores 0 and refuses -1 for Memory and NanoCpus):
 * these need a recreate.
 */
export function removedLimits(spec: Spec, observed: ObservedContainer): string[] {
  const out: string[] = [];
  if (spec.resources?.memory === undefined && observed.hostConfig.memory > 0) out.push('resources.memory');
  if (spec.resources?.cpus === undefined && observed.hostConfig.nanoCpus > 0) out.push('resources.cpus');
  return out;
}

// ---------------------------------------------------------------------------
// In place: networks
// ---------------------------------------------------------------------------

export interface NetworkConnect {
  network: string;
  aliases?: string[];
  ipv4Address?: string;
}

export interface NetworkChanges {
  /** Apply first. */
  disconnect: string[];
  /** Then these. */
  connect: NetworkConnect[];
}

const sameSet = (a: string[], b: string[]) => {
  const sa = [...new Set(a)].sort();
  const sb = [...new Set(b)].sort();
  return sa.length === sb.length && sa.every((v, i) => v === sb[i]);
};

/**
 * Desired networks against attached ones. A changed alias set or static IPv4
 * is a disconnect plus a connect (an alias equal to the hostname is not
 * compared: Docker adds that one itself). Without spec networks the desired network
 * is Docker's default bridge (as a fresh container gets); with spec networks
 * the bridge is disconnected like any other network not in the spec.
 * networkMode host or none: no network changes at all.
 */
export function networkChanges(
  spec: Spec,
  inputs: ContainerInputs,
  observed: ObservedContainer,
): NetworkChanges {
  const changes: NetworkChanges = { disconnect: [], connect: [] };
  if (networkModeOf(spec)) return changes;
  const wanted = spec.networks ?? [];
  const desired = new Map<string, NetworkConnect | 'any'>();
  // Docker adds the hostname as an alias on its own, and observe() leaves it out.
  const userAliases = (aliases: string[] | undefined) => (aliases ?? []).filter((a) => a !== spec.hostname);
  for (const n of wanted) {
    const network = networkNameOf(inputs, n.name);
    desired.set(network, {
      network,
      ...(n.aliases && n.aliases.length > 0 ? { aliases: [...n.aliases] } : {}),
      ...(n.ipv4Address ? { ipv4Address: n.ipv4Address } : {}),
    });
  }
  // The default bridge takes no aliases or static addresses: any attachment is fine.
  if (wanted.length === 0) desired.set(DEFAULT_BRIDGE, 'any');

  for (const name of Object.keys(observed.networks).sort()) {
    if (!desired.has(name)) changes.disconnect.push(name);
  }
  for (const [network, want] of desired) {
    const have = observed.networks[network];
    if (want === 'any') {
      if (!have) changes.connect.push({ network });
      continue;
    }
    if (!have) {
      changes.connect.push(want);
    } else if (
      !sameSet(have.aliases, userAliases(want.aliases)) ||
      (have.ipv4Address ?? '') !== (want.ipv4Address ?? '')
    ) {
      changes.disconnect.push(network);
      changes.connect.push(want);
    }
  }
  return changes;
}

// ---------------------------------------------------------------------------
// Why recreate
// ---------------------------------------------------------------------------

/** Spec field names for the recreate groups, as shown in the Recreated Event. */
const GROUP_FIELDS: Record<string, string> = {
  name: 'containerName',
  image: 'image',
  command: 'command/args',
  workingDir: 'workingDir',
  user: 'user',
  hostname: 'hostname',
  env: 'env',
  ports: 'ports',
  mounts: 'mounts',
  healthcheck: 'healthcheck',
  security: 'security',
  labels: 'labels',
  stopSignal: 'stopSignal',
  logging: 'logging',
};

/**
 * Whether the container must be recreated: its spec-hash label differs from
 * the spec, or it carries a limit the spec dropped and Docker cannot remove
 * in place.
 */
export function needsRecreate(spec: Spec, inputs: ContainerInputs, observed: ObservedContainer): boolean {
  return (
    observed.labels[OWNER_LABELS.specHash] !== recreateHash(spec, inputs) ||
    removedLimits(spec, observed).length > 0
  );
}

/**
 * Which spec fields differ from what the container was created from, for
 * the Recreated Event. Precise when the container carries the spec-groups
 * label Dockyard sets at create; otherwise it can tell only the image, and
 * falls back to "spec changed". Empty when nothing differs.
 */
export function recreateReasons(spec: Spec, inputs: ContainerInputs, observed: ObservedContainer): string[] {
  const reasons: string[] = [];
  const hashDiffers = observed.labels[OWNER_LABELS.specHash] !== recreateHash(spec, inputs);
  if (hashDiffers) {
    const old = parseGroupHashes(observed.labels[SPEC_GROUPS_LABEL]);
    if (old) {
      const now = parseGroupHashes(groupHashes(spec, inputs)) ?? new Map<string, string>();
      for (const group of [...new Set([...old.keys(), ...now.keys()])].sort()) {
        if (old.get(group) !== now.get(group)) reasons.push(GROUP_FIELDS[group] ?? group);
      }
    } else if (observed.image !== inputs.image) {
      reasons.push('image');
    }
    if (reasons.length === 0) reasons.push('spec changed');
  }
  reasons.push(...removedLimits(spec, observed).map((field) => `${field} removed`));
  return reasons;
}
