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
import type { InheritedVolume } from './inherited-volumes.js';
import {
  networkModeOf,
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

/** The spec's mounts, then the anonymous volumes a recreate carries over. */
function mountsOf(spec: Spec, inputs: ContainerInputs, inherit: readonly InheritedVolume[]): HostConfig {
  const mounts = [
    ...(spec.mounts ?? []).map((m) => mountOf(m, inputs)),
    ...inherit.map((v): Dockerode.MountSettings => ({
      Type: 'volume',
      Source: v.name,
      Target: v.target,
      ...(v.readOnly ? { ReadOnly: true } : {}),
    })),
  ];
  return mounts.length > 0 ? { Mounts: mounts } : {};
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

function healthcheckOf(spec: Spec): CreateOptions {
  const hc = spec.healthcheck;
  if (!hc) return {};
  return {
    Healthcheck: {
      Test: ['CMD', ...hc.command],
      ...(hc.interval !== undefined ? { Interval: parseDuration(hc.interval) } : {}),
      ...(hc.timeout !== undefined ? { Timeout: parseDuration(hc.timeout) } : {}),
      ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
      ...(hc.startPeriod !== undefined ? { StartPeriod: parseDuration(hc.startPeriod) } : {}),
    },
  };
}

function securityOf(spec: Spec): HostConfig {
  const sec = spec.security;
  const host: HostConfig = {};
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
  return host;
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

/** host/none mode, else the first spec network with its aliases and static IPv4. */
function networkOptionsOf(
  spec: Spec,
  inputs: ContainerInputs,
): { container: CreateOptions; host: HostConfig } {
  const mode = networkModeOf(spec);
  if (mode) return { container: {}, host: { NetworkMode: mode } };
  const first = spec.networks?.[0];
  if (!first) return { container: {}, host: {} };
  const network = networkNameOf(inputs, first.name);
  return {
    container: {
      NetworkingConfig: { EndpointsConfig: { [network]: endpointOf(first.aliases, first.ipv4Address) } },
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
): CreateOptions {
  // Computed in this order so an unresolved reference fails as it always has
  // (a mount's volume before the first network).
  const process = processOptionsOf(spec, inputs);
  const ports = portOptionsOf(spec);
  const mounts = mountsOf(spec, inputs, extra.inherit ?? []);
  const limits = resourceLimitsOf(spec);
  const healthcheck = healthcheckOf(spec);
  const security = securityOf(spec);
  const network = networkOptionsOf(spec, inputs);
  const labels = labelsOf(spec, inputs, hash);
  return {
    name: inputs.name,
    Image: inputs.image,
    ...process,
    ...ports.container,
    ...healthcheck,
    ...network.container,
    Labels: labels,
    ...stopOptionsOf(spec),
    HostConfig: {
      ...ports.host,
      ...mounts,
      RestartPolicy: restartPolicyOf(spec),
      ...limits,
      ...security,
      ...network.host,
      ...logConfigOf(spec),
    },
  };
}

/** Seconds to pass as the stop timeout: stopGracePeriod, default 10 s (the CRD's documented default). */
export function stopTimeoutSeconds(spec: Spec): number {
  return spec.stopGracePeriod !== undefined ? parseDurationSeconds(spec.stopGracePeriod) : 10;
}
