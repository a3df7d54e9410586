// Service keys for what the container exposes and mounts: ports, expose,
// volumes and tmpfs.

import type { ContainerTemplateSpec } from '../../crds/dockerservice.js';
import type { ComposePort, ComposeServiceVolume } from '../project-types.js';
import {
  asRecord,
  asStrings,
  refuseOtherKeys,
  type ServiceContext,
  type ServiceDraft,
  type ServiceKey,
} from './context.js';

type Port = NonNullable<ContainerTemplateSpec['ports']>[number];
type Mount = NonNullable<ContainerTemplateSpec['mounts']>[number];

const PROTOCOLS: Record<string, Port['protocol']> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

function addPorts(draft: ServiceDraft, ports: Port[]): void {
  draft.spec.ports = [...(draft.spec.ports ?? []), ...ports];
}

function addMount(draft: ServiceDraft, mount: Mount): void {
  draft.spec.mounts = [...(draft.spec.mounts ?? []), mount];
}

function mapPorts(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  (Array.isArray(value) ? (value as ComposePort[]) : []).forEach((port, i) => {
    const at = `${path}[${i}]`;
    // mode, name and app_protocol are Swarm or metadata: docker compose sends none of them to Docker.
    refuseOtherKeys(
      port,
      ['mode', 'host_ip', 'target', 'published', 'protocol', 'name', 'app_protocol'],
      ctx,
      at,
    );
    const hostPort = Number(port.published);
    if (!port.published || !Number.isInteger(hostPort)) {
      ctx.findings.unsupported(
        `${at}.published`,
        port.published
          ? `host port range ${port.published}: Dockyard publishes one fixed host port per container port`
          : 'an ephemeral host port: Dockyard needs a fixed host port (the same on every host it places on)',
      );
      return;
    }
    addPorts(draft, [
      {
        containerPort: port.target,
        hostPort,
        ...(port.host_ip ? { hostIP: port.host_ip } : {}),
        protocol: PROTOCOLS[port.protocol ?? 'tcp'] ?? 'TCP',
      },
    ]);
  });
}

/** expose: "90", "91/udp", "1000-1002": container ports, published nowhere. */
function mapExpose(value: unknown, draft: ServiceDraft): void {
  for (const entry of asStrings(value)) {
    const [range = '', proto = 'tcp'] = entry.split('/');
    const [first, last = first] = range.split('-').map(Number);
    for (let port = first ?? 0; port <= (last ?? 0); port++) {
      addPorts(draft, [{ containerPort: port, protocol: PROTOCOLS[proto] ?? 'TCP' }]);
    }
  }
}

function mapVolumes(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  (Array.isArray(value) ? (value as ComposeServiceVolume[]) : []).forEach((volume, i) => {
    const at = `${path}[${i}]`;
    refuseOtherKeys(
      volume,
      ['type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency'],
      ctx,
      at,
    );
    const mapper = VOLUME_TYPES[volume.type];
    if (mapper) mapper(volume, draft, ctx, at);
    else ctx.findings.unsupported(`${at}.type`, `${volume.type} mounts have no Dockyard equivalent`);
  });
}

type VolumeMapper = (v: ComposeServiceVolume, draft: ServiceDraft, ctx: ServiceContext, at: string) => void;

const VOLUME_TYPES: Record<string, VolumeMapper> = {
  volume: (v, draft, ctx, at) => {
    const name = v.source ? ctx.names.volumes.get(v.source) : undefined;
    if (!name) {
      ctx.findings.unsupported(at, 'an anonymous volume: declare a named volume under volumes: instead');
      return;
    }
    const opts = asRecord(v.volume);
    refuseOtherKeys(opts, ['nocopy', 'subpath'], ctx, `${at}.volume`);
    addMount(draft, {
      type: 'volume',
      target: v.target,
      volume: name,
      ...(v.read_only ? { readOnly: true } : {}),
      ...(opts.nocopy === true ? { noCopy: true } : {}),
      ...(typeof opts.subpath === 'string' ? { subPath: opts.subpath } : {}),
    });
  },
  bind: (v, draft, ctx, at) => {
    const source = v.source ?? '';
    if (source === ctx.projectDir || source.startsWith(`${ctx.projectDir.replace(/\/$/, '')}/`)) {
      ctx.findings.unsupported(
        `${at}.source`,
        `${source} is in the project directory, which is not on the Docker host: use configs: for files`,
      );
      return;
    }
    const opts = asRecord(v.bind);
    // create_host_path is Compose's default (Docker's -v creates a missing path as well).
    refuseOtherKeys(opts, ['propagation', 'selinux', 'create_host_path'], ctx, `${at}.bind`);
    const selinux = { z: 'shared', Z: 'private' }[String(opts.selinux)] as Mount['selinuxRelabel'];
    addMount(draft, {
      type: 'bind',
      target: v.target,
      hostPath: source,
      ...(v.read_only ? { readOnly: true } : {}),
      ...(typeof opts.propagation === 'string'
        ? { propagation: opts.propagation as Mount['propagation'] }
        : {}),
      ...(selinux ? { selinuxRelabel: selinux } : {}),
    });
  },
  tmpfs: (v, draft, ctx, at) => {
    const opts = asRecord(v.tmpfs);
    refuseOtherKeys(opts, ['size', 'mode'], ctx, `${at}.tmpfs`);
    addMount(draft, {
      type: 'tmpfs',
      target: v.target,
      ...(opts.size ? { tmpfsSize: String(opts.size) } : {}),
      ...(typeof opts.mode === 'number' ? { tmpfsMode: opts.mode.toString(8).padStart(4, '0') } : {}),
    });
  },
};

/**
 * Options the Engine puts on every tmpfs mount anyway (HostConfig.Tmpfs and
 * tmpfs mounts alike: noexec, nosuid, nodev, read-write): saying them changes
 * nothing, so they are accepted and need no Dockyard field.
 */
const TMPFS_DEFAULT_OPTIONS = ['rw', 'noexec', 'nosuid', 'nodev'];

/** tmpfs: "/run" or "/run:size=1m,mode=1777" (plus any of TMPFS_DEFAULT_OPTIONS). */
function mapTmpfs(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  for (const entry of asStrings(value)) {
    const [target = '', options = ''] = entry.split(/:(.*)/s, 2);
    const opts = Object.fromEntries(
      options
        .split(',')
        .filter(Boolean)
        .map((o) => o.split('=', 2)),
    );
    refuseOtherKeys(opts, ['size', 'mode', ...TMPFS_DEFAULT_OPTIONS], ctx, `${path}[${entry}]`);
    addMount(draft, {
      type: 'tmpfs',
      target,
      ...(opts.size ? { tmpfsSize: tmpfsSize(String(opts.size)) } : {}),
      ...(opts.mode ? { tmpfsMode: String(opts.mode).padStart(4, '0') } : {}),
    });
  }
}

const TMPFS_UNITS: Record<string, string> = { k: 'Ki', m: 'Mi', g: 'Gi' };

/** Docker's tmpfs sizes are binary ("1m" is 1 MiB): as Kubernetes quantities ("1Mi"). */
function tmpfsSize(size: string): string {
  const match = /^([0-9]+)([kmg])?$/i.exec(size);
  return match ? `${match[1]}${TMPFS_UNITS[(match[2] ?? '').toLowerCase()] ?? ''}` : size;
}

export const IO_KEYS: Record<string, ServiceKey> = {
  ports: { map: mapPorts },
  expose: { map: (value, draft) => mapExpose(value, draft) },
  volumes: { map: mapVolumes },
  tmpfs: { map: mapTmpfs },
};
