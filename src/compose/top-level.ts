// The project's networks, volumes, configs and secrets as Dockyard resources:
// DockerNetwork, DockerVolume, ConfigMap and Secret.

import type { DockerNetworkSpec } from '../crds/dockernetwork.js';
import type { DockerVolumeSpec } from '../crds/dockervolume.js';
import type { Findings } from './findings.js';
import type {
  ComposeFileObject,
  ComposeNetwork,
  ComposeProject,
  ComposeVolume,
  JsonObject,
} from './project-types.js';
import { refuseOtherKeys, type ServiceContext } from './service/context.js';
import { CONTENT_KEY } from './service/file-keys.js';

export type Placement = Pick<DockerNetworkSpec, 'hostName' | 'hostSelector'>;

interface SectionContext {
  project: ComposeProject;
  findings: Findings;
  placement: Placement;
}

/** refuseOtherKeys for top-level objects (it only uses the findings). */
function refuse(obj: JsonObject, known: readonly string[], ctx: SectionContext, path: string): void {
  refuseOtherKeys(obj, known, { findings: ctx.findings } as ServiceContext, path);
}

/**
 * The Docker name Compose would give is `<project>_<key>`; Dockyard keeps its
 * own namespace-scoped default instead, so two namespaces can run the same
 * project on one host. A name the file sets itself is kept as it is.
 */
function explicitName(ctx: SectionContext, key: string, name: string | undefined): string | undefined {
  return name && name !== `${ctx.project.name}_${key}` ? name : undefined;
}

const nonEmpty = <T extends object>(value: T | undefined): T | undefined =>
  value && Object.keys(value).length > 0 ? value : undefined;

export function networkSpec(key: string, network: ComposeNetwork, ctx: SectionContext): DockerNetworkSpec {
  const path = `networks.${key}`;
  refuse(
    network,
    ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels', 'enable_ipv6'],
    ctx,
    path,
  );
  if (network.external) return { ...ctx.placement, external: true, networkName: network.name ?? key };
  const ipam = network.ipam ?? {};
  refuse(ipam, ['driver', 'config', 'options'], ctx, `${path}.ipam`);
  const config = (ipam.config ?? []).map((pool, i) => {
    refuse(pool, ['subnet', 'gateway', 'ip_range'], ctx, `${path}.ipam.config[${i}]`);
    return {
      subnet: String(pool.subnet),
      ...(pool.gateway ? { gateway: String(pool.gateway) } : {}),
      ...(pool.ip_range ? { ipRange: String(pool.ip_range) } : {}),
    };
  });
  const name = explicitName(ctx, key, network.name);
  const spec: DockerNetworkSpec = {
    ...ctx.placement,
    ...(name ? { networkName: name } : {}),
    ...(network.driver ? { driver: network.driver } : {}),
    ...(network.internal ? { internal: true } : {}),
    ...(network.attachable ? { attachable: true } : {}),
    ...(network.enable_ipv6 ? { enableIPv6: true } : {}),
    ...(nonEmpty(network.driver_opts) ? { options: network.driver_opts } : {}),
    ...(nonEmpty(network.labels) ? { labels: network.labels } : {}),
  };
  const ipamSpec = {
    ...(ipam.driver ? { driver: ipam.driver } : {}),
    ...(config.length > 0 ? { config } : {}),
    ...(nonEmpty(ipam.options) ? { options: ipam.options } : {}),
  };
  return nonEmpty(ipamSpec) ? { ...spec, ipam: ipamSpec } : spec;
}

export function volumeSpec(key: string, volume: ComposeVolume, ctx: SectionContext): DockerVolumeSpec {
  refuse(volume, ['name', 'driver', 'driver_opts', 'external', 'labels'], ctx, `volumes.${key}`);
  if (volume.external) return { ...ctx.placement, external: true, volumeName: volume.name ?? key };
  const name = explicitName(ctx, key, volume.name);
  return {
    ...ctx.placement,
    ...(name ? { volumeName: name } : {}),
    ...(volume.driver ? { driver: volume.driver } : {}),
    ...(nonEmpty(volume.driver_opts) ? { driverOptions: volume.driver_opts } : {}),
    ...(nonEmpty(volume.labels) ? { labels: volume.labels } : {}),
  };
}

/** A config's or secret's content as ConfigMap/Secret data; undefined for an external one (it exists already). */
export function fileObjectData(
  section: 'configs' | 'secrets',
  key: string,
  obj: ComposeFileObject,
  ctx: SectionContext & { sources: ReadonlyMap<string, Buffer> },
): { data: Record<string, string>; binary: boolean } | undefined {
  refuse(obj, ['name', 'file', 'environment', 'content', 'external'], ctx, `${section}.${key}`);
  if (obj.external) return undefined;
  const bytes = ctx.sources.get(`${section}/${key}`) ?? Buffer.alloc(0);
  const text = bytes.toString('utf8');
  const binary = !Buffer.from(text, 'utf8').equals(bytes);
  return {
    data: { [CONTENT_KEY]: section === 'secrets' || binary ? bytes.toString('base64') : text },
    binary,
  };
}
