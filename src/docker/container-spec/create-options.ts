// Spec → Docker create options. Facts about Engine 20.10 (API 1.41) relied
// on here, each seen on a real daemon (test/integration/container-client.test.ts):
// - Create sets MemorySwap to twice Memory when only Memory is given.
// - Only one network can be given at create (EndpointsConfig); the others are
//   connected afterwards (network-changes.ts).
import type Dockerode from 'dockerode';
import { OWNER_LABELS } from '../../crds/kit.js';
import {
  parseByteQuantity,
  parseCpuQuantity,
  parseDuration,
  parseDurationSeconds,
} from '../../crds/quantities.js';
import { confinementOf, securityOptOf } from './confinement-options.js';
import type { InheritedVolume } from './inherited-volumes.js';
import {
  dockerNetworkModeOf,
  networkNameOf,
  nonEmpty,
  portKey,
  restartPolicyOf,
  volumeNameOf,
  type ContainerInputs,
  type Mount,
  type Spec,
} from './inputs.js';
import { groupHashes, SPEC_GROUPS_LABEL } from './recreate-hash.js';
import { healthTestOf, processRuntimeOf, resolverOptionsOf } from './runtime-options.js';

type CreateOptions = Dockerode.ContainerCreateOptions;
type HostConfig = Dockerode.HostConfig;

/** The process: environment, entrypoint, command, working directory, user, hostname. */
function processOptionsOf(spec: Spec, inputs: ContainerInputs): CreateOptions {
  const opts: CreateOptions = {};
  if (inputs.env.length > 0) opts.Env = inputs.env.map((e) => `${e.name}=${e.value}`);
  if (spec.command !== undefined) opts.Entrypoint = [...spec.command];
  if (spec.args !== undefined) opts.Cmd = [...spec.args];
  if (spec.workingDir !== undefined) opts.WorkingDir = spec.workingDir;
  if (spec.user !== undefined) opts.User = spec.user;
  if (spec.hostname !== undefined) opts.Hostname = spec.hostname;
  return opts;
}

/** Every port is exposed; only those with a hostPort are published. */
function portOptionsOf(spec: Spec): { container: CreateOptions; host: HostConfig } {
  const ports = spec.ports ?? [];
  if (ports.length === 0) return { container: {}, host: {} };
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
  return {
    container: { ExposedPorts: exposed },
    host: Object.keys(bindings).length > 0 ? { PortBindings: bindings } : {},
  };
}

type VolumeOptions = NonNullable<Dockerode.MountSettings['VolumeOptions']>;
type TmpfsOptions = NonNullable<Dockerode.MountSettings['TmpfsOptions']>;

/** Only the options the spec sets (Docker's typings mark optional fields as required). */
function volumeOptionsOf(m: Mount): Pick<Dockerode.MountSettings, 'VolumeOptions'> {
  const options: Partial<VolumeOptions> = {
    ...(m.noCopy ? { NoCopy: true } : {}),
    ...(m.subPath !== undefined ? { Subpath: m.subPath } : {}),
  };
  return Object.keys(options).length > 0 ? { VolumeOptions: options as VolumeOptions } : {};
}

function tmpfsOptionsOf(m: Mount): Pick<Dockerode.MountSettings, 'TmpfsOptions'> {
  const options: Partial<TmpfsOptions> = {
    ...(m.tmpfsSize !== undefined ? { SizeBytes: parseByteQuantity(m.tmpfsSize) } : {}),
    // The spec writes the mode in octal, as chmod does; the API takes the number.
    ...(m.tmpfsMode !== undefined ? { Mode: parseInt(m.tmpfsMode, 8) } : {}),
  };
  return Object.keys(options).length > 0 ? { TmpfsOptions: options as TmpfsOptions } : {};
}

function mountOf(m: Mount, inputs: ContainerInputs): Dockerode.MountSettings {
  const readOnly = m.readOnly ? { ReadOnly: true } : {};
  switch (m.type) {
    case 'volume':
      return {
        Type: 'volume',
        Source: volumeNameOf(inputs, m.volume),
        Target: m.target,
        ...readOnly,
        ...volumeOptionsOf(m),
      };
    case 'bind':
      return {
        Type: 'bind',
        Source: m.hostPath ?? '',
        Target: m.target,
        ...readOnly,
        ...(m.propagation !== undefined ? { BindOptions: { Propagation: m.propagation } } : {}),
      };
    case 'tmpfs':
      // tmpfs takes no Source.
      return {
        Type: 'tmpfs',
        Target: m.target,
        ...readOnly,
        ...tmpfsOptionsOf(m),
      } as Dockerode.MountSettings;
  }
}

/**
 * A bind mount with an SELinux relabel, in the legacy `Binds` spelling
 * (`src:dst:ro,rshared,z`): the Mounts API has no relabel option, so these
 * binds (and only these, so every other spec creates exactly as before) go
 * through Binds, which the Engine parses into the same mount.
 */
function legacyBindOf(m: Mount): string {
  const options = [
    ...(m.readOnly ? ['ro'] : []),
    ...(m.propagation !== undefined ? [m.propagation] : []),
    m.selinuxRelabel === 'private' ? 'Z' : 'z',
  ];
  return `${m.hostPath ?? ''}:${m.target}:${options.join(',')}`;
}

const relabelled = (m: Mount) => m.type === 'bind' && m.selinuxRelabel !== undefined;

/** The spec's mounts, then the anonymous volumes a recreate carries over. */
function mountsOf(spec: Spec, inputs: ContainerInputs, inherit: readonly InheritedVolume[]): HostConfig {
  const specMounts = spec.mounts ?? [];
  const mounts = [
    ...specMounts.filter((m) => !relabelled(m)).map((m) => mountOf(m, inputs)),
    ...inherit.map((v): Dockerode.MountSettings => ({
      Type: 'volume',
      Source: v.name,
      Target: v.target,
      ...(v.readOnly ? { ReadOnly: true } : {}),
    })),
  ];
  const binds = specMounts.filter(relabelled).map(legacyBindOf);
  return {
    ...(mounts.length > 0 ? { Mounts: mounts } : {}),
    ...(binds.length > 0 ? { Binds: binds } : {}),
  };
}

function resourceLimitsOf(spec: Spec): HostConfig {
  const r = spec.resources;
  const host: HostConfig = {};
  if (r?.memory !== undefined) host.Memory = parseByteQuantity(r.memory);
  if (r?.memoryReservation !== undefined) host.MemoryReservation = parseByteQuantity(r.memoryReservation);
  if (r?.cpus !== undefined) host.NanoCpus = parseCpuQuantity(r.cpus);
  if (r?.pidsLimit !== undefined) host.PidsLimit = r.pidsLimit;
  return host;
}

/** Disabled: Test NONE alone (Docker ignores the timings then). StartInterval needs API 1.44 (engine-support.ts). */
function healthcheckOf(spec: Spec): CreateOptions {
  const hc = spec.healthcheck;
  if (!hc) return {};
  if (hc.disable) return { Healthcheck: { Test: healthTestOf(hc) } };
  return {
    Healthcheck: {
      Test: healthTestOf(hc),
      ...(hc.interval !== undefined ? { Interval: parseDuration(hc.interval) } : {}),
      ...(hc.timeout !== undefined ? { Timeout: parseDuration(hc.timeout) } : {}),
      ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
      ...(hc.startPeriod !== undefined ? { StartPeriod: parseDuration(hc.startPeriod) } : {}),
      ...(hc.startInterval !== undefined ? { StartInterval: parseDuration(hc.startInterval) } : {}),
    },
  };
}

function securityOf(spec: Spec, inputs: ContainerInputs): HostConfig {
  const sec = spec.security;
  const host: HostConfig = {};
  if (sec?.privileged) host.Privileged = true;
  if (nonEmpty(sec?.capAdd)) host.CapAdd = [...(sec?.capAdd ?? [])];
  if (nonEmpty(sec?.capDrop)) host.CapDrop = [...(sec?.capDrop ?? [])];
  if (sec?.readOnlyRootFilesystem) host.ReadonlyRootfs = true;
  const securityOpt = securityOptOf(sec, inputs);
  if (securityOpt.length > 0) host.SecurityOpt = securityOpt;
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
  return { ...host, ...confinementOf(spec) };
}

type Attachment = NonNullable<Spec['networks']>[number];

/** The endpoint settings of one attachment; network-changes.ts connects with the same. */
export function endpointOf(n: Omit<Attachment, 'name'>): Dockerode.EndpointSettings {
  const ipam = {
    ...(n.ipv4Address ? { IPv4Address: n.ipv4Address } : {}),
    ...(n.ipv6Address ? { IPv6Address: n.ipv6Address } : {}),
  };
  return {
    ...(n.aliases && n.aliases.length > 0 ? { Aliases: [...n.aliases] } : {}),
    ...(Object.keys(ipam).length > 0 ? { IPAMConfig: ipam } : {}),
    ...(n.macAddress ? { MacAddress: n.macAddress } : {}),
  };
}

/**
 * host/none/container:<id> mode, else the first spec network with its aliases, static
 * addresses and MAC. The first network's MAC goes both on its endpoint (what
 * API 1.44+ reads) and in Config.MacAddress (what older engines read, for the
 * create-time network only; Engine 25+ accepts both when they agree).
 */
function networkOptionsOf(
  spec: Spec,
  inputs: ContainerInputs,
): { container: CreateOptions; host: HostConfig } {
  const mode = dockerNetworkModeOf(spec, inputs);
  if (mode) return { container: {}, host: { NetworkMode: mode } };
  const first = spec.networks?.[0];
  if (!first) return { container: {}, host: {} };
  const network = networkNameOf(inputs, first.name);
  return {
    container: {
      ...(first.macAddress ? { MacAddress: first.macAddress } : {}),
      NetworkingConfig: { EndpointsConfig: { [network]: endpointOf(first) } },
    },
    host: { NetworkMode: network },
  };
}

/** The user's labels, then Dockyard's (which win: a spec cannot forge ownership). */
function labelsOf(spec: Spec, inputs: ContainerInputs, hash: string): Record<string, string> {
  return {
    ...(spec.labels ?? {}),
    ...inputs.ownerLabels,
    [OWNER_LABELS.specHash]: hash,
    [SPEC_GROUPS_LABEL]: groupHashes(spec, inputs),
  };
}

function stopOptionsOf(spec: Spec): CreateOptions {
  return {
    ...(spec.stopSignal !== undefined ? { StopSignal: spec.stopSignal } : {}),
    ...(spec.stopGracePeriod !== undefined
      ? { StopTimeout: parseDurationSeconds(spec.stopGracePeriod) }
      : {}),
  };
}

function logConfigOf(spec: Spec): HostConfig {
  if (!spec.logging) return {};
  return { LogConfig: { Type: spec.logging.driver, Config: { ...(spec.logging.options ?? {}) } } };
}

/**
 * Docker create options for the spec. Only what the user specified is set,
 * so the daemon and the image supply their own defaults, with one exception:
 * the restart policy defaults to `unless-stopped` (as the CRD documents), so
 * containers come back after a daemon restart unless the user stopped them.
 *
 * Networks: with `networkMode` host, none or container the container joins no network of its own.
 * Otherwise the first spec network is the create-time NetworkMode (with its
 * aliases and static IPv4); the rest are connected after create (see
 * networkChanges). Without networks Docker attaches the default bridge.
 */
export function toCreateOptions(
  spec: Spec,
  inputs: ContainerInputs,
  hash: string,
  extra: { inherit?: readonly InheritedVolume[] } = {},
): CreateOptions {
  // Computed in this order so an unresolved reference fails as it always has
  // (a mount's volume before the first network).
  const process = processOptionsOf(spec, inputs);
  const ports = portOptionsOf(spec);
  const mounts = mountsOf(spec, inputs, extra.inherit ?? []);
  const limits = resourceLimitsOf(spec);
  const healthcheck = healthcheckOf(spec);
  const runtime = processRuntimeOf(spec);
  const security = securityOf(spec, inputs);
  const network = networkOptionsOf(spec, inputs);
  const labels = labelsOf(spec, inputs, hash);
  return {
    name: inputs.name,
    Image: inputs.image,
    ...process,
    ...ports.container,
    ...healthcheck,
    ...runtime.container,
    ...network.container,
    Labels: labels,
    ...stopOptionsOf(spec),
    HostConfig: {
      ...ports.host,
      ...mounts,
      RestartPolicy: restartPolicyOf(spec),
      ...limits,
      ...runtime.host,
      ...security,
      ...network.host,
      ...resolverOptionsOf(spec),
      ...logConfigOf(spec),
    },
  };
}

/** Seconds to pass as the stop timeout: stopGracePeriod, default 10 s (the CRD's documented default). */
export function stopTimeoutSeconds(spec: Spec): number {
  return spec.stopGracePeriod !== undefined ? parseDurationSeconds(spec.stopGracePeriod) : 10;
}
