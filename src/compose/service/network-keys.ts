// Service keys for networking and start order: networks (with the service
// name as an alias on each, as Compose gives it, so services find each other
// by the names they used under Compose), network_mode, mac_address and
// depends_on.

import type { ContainerTemplateSpec } from '../../crds/dockerservice.js';
import type { ComposeServiceNetwork } from '../project-types.js';
import {
  asRecord,
  refuseOtherKeys,
  type ServiceContext,
  type ServiceDraft,
  type ServiceKey,
} from './context.js';

type Attachment = NonNullable<ContainerTemplateSpec['networks']>[number];
type DependsOn = NonNullable<ContainerTemplateSpec['dependsOn']>[number];

/** Compose connects networks by priority (highest first), then by name. */
function networkOrder(networks: Record<string, ComposeServiceNetwork | null>): string[] {
  const priority = (name: string) => Number(networks[name]?.priority ?? 0);
  return Object.keys(networks).sort((a, b) => priority(b) - priority(a) || (a < b ? -1 : a > b ? 1 : 0));
}

function mapNetworks(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  const networks = asRecord(value) as Record<string, ComposeServiceNetwork | null>;
  const attachments: Attachment[] = [];
  for (const network of networkOrder(networks)) {
    const config = networks[network] ?? {};
    const at = `${path}.${network}`;
    refuseOtherKeys(config, ['aliases', 'ipv4_address', 'ipv6_address', 'mac_address', 'priority'], ctx, at);
    const name = ctx.names.networks.get(network);
    if (!name) continue; // the loader refuses an undeclared network
    const aliases = [...new Set([ctx.serviceName, ...(config.aliases ?? [])])];
    attachments.push({
      name,
      aliases,
      ...(config.ipv4_address ? { ipv4Address: config.ipv4_address } : {}),
      ...(config.ipv6_address ? { ipv6Address: config.ipv6_address } : {}),
      ...(config.mac_address ? { macAddress: config.mac_address } : {}),
    });
  }
  if (attachments.length > 0) draft.spec.networks = attachments;
}

/** network_mode: host, none, bridge (Docker's default network) or service:NAME (the sidecar pattern). */
function mapNetworkMode(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  const mode = String(value);
  const security = draft.spec.security ?? {};
  if (mode === 'host' || mode === 'none') draft.spec.security = { ...security, networkMode: mode };
  else if (mode === 'bridge') draft.spec.security = { ...security, networkMode: 'default' };
  else if (mode.startsWith('service:') && ctx.names.services.has(mode.slice('service:'.length))) {
    const container = ctx.names.services.get(mode.slice('service:'.length)) as string;
    draft.spec.security = { ...security, networkMode: 'container', networkContainer: container };
  } else ctx.findings.unsupported(path, `${mode}: Dockyard joins only host, none, bridge or service:NAME`);
}

/** Service-level mac_address: Compose sets it on the service's first network. */
function mapMacAddress(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  const [first, ...rest] = draft.spec.networks ?? [];
  if (first && rest.length === 0) draft.spec.networks = [{ ...first, macAddress: String(value) }];
  else
    ctx.findings.unsupported(path, 'a service mac_address needs exactly one network: set it on the network');
}

const CONDITIONS: Record<string, DependsOn['condition']> = {
  service_started: 'Started',
  service_healthy: 'Ready',
  service_completed_successfully: 'Completed',
};

function mapDependsOn(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  const dependsOn: DependsOn[] = [];
  for (const [service, raw] of Object.entries(asRecord(value)).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const dep = asRecord(raw);
    const at = `${path}.${service}`;
    refuseOtherKeys(dep, ['condition', 'required', 'restart'], ctx, at);
    // The loader adds `restart: true` for network_mode service:NAME; Dockyard
    // recreates a networkContainer's dependents as Compose restarts them.
    const sharesNetwork = ctx.service.network_mode === `service:${service}`;
    if (dep.restart === true && !sharesNetwork) {
      ctx.findings.unsupported(
        `${at}.restart`,
        'Dockyard does not restart a container when a dependency restarts',
      );
    }
    if (dep.required === false) {
      ctx.findings.unsupported(`${at}.required`, 'Dockyard always waits for a dependency (required: true)');
    }
    const name = ctx.names.services.get(service);
    const condition = CONDITIONS[String(dep.condition ?? 'service_started')];
    if (!name || !condition) {
      ctx.findings.unsupported(at, `condition ${String(dep.condition)} has no Dockyard equivalent`);
      continue;
    }
    dependsOn.push({ name, condition });
  }
  if (dependsOn.length > 0) draft.spec.dependsOn = dependsOn;
}

export const NETWORK_KEYS: Record<string, ServiceKey> = {
  networks: { map: mapNetworks },
  network_mode: { map: mapNetworkMode },
  depends_on: { map: mapDependsOn },
};

/** Read after networks, which it amends. */
export const LATE_NETWORK_KEYS: Record<string, ServiceKey> = {
  mac_address: { map: mapMacAddress },
};
