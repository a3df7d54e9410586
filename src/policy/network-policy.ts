import type { DockerNetworkSpec } from '../crds/dockernetwork.js';
import { contains, parseAddress, parseCidr, type Network } from './cidr.js';
import { checkExternal } from './volume-policy.js';
import {
  asHostPolicy,
  mapField,
  type HostPolicy,
  type SecurityPolicy,
  type Violation,
} from './policy-types.js';

/**
 * The only driver below privileged. macvlan and ipvlan put containers on a
 * host interface (`parent`), overlay needs a swarm, plugins can do anything.
 */
export const NETWORK_DRIVERS: ReadonlySet<string> = new Set(['bridge']);

const bool = (v: string) => (v === 'true' || v === 'false' ? undefined : 'must be true or false');

/**
 * Bridge options allowed below privileged. Not bridge.name (naming an
 * existing bridge such as docker0 joins it), not host_binding_ipv4 (ports are
 * decided by the host-port check), nothing unknown.
 */
export const BRIDGE_OPTIONS: Record<string, (value: string) => string | undefined> = {
  'com.docker.network.bridge.enable_icc': bool,
  'com.docker.network.bridge.enable_ip_masquerade': bool,
  'com.docker.network.driver.mtu': (v) =>
    /^[0-9]{2,5}$/.test(v) && Number(v) >= 68 && Number(v) <= 65535
      ? undefined
      : 'must be an MTU from 68 to 65535',
};

function checkOptions(options: Record<string, string>, level: string): Violation[] {
  const v: Violation[] = [];
  for (const [key, value] of Object.entries(options)) {
    const field = mapField('spec.options', key);
    const check = Object.hasOwn(BRIDGE_OPTIONS, key) ? BRIDGE_OPTIONS[key] : undefined;
    const problem = check ? check(value) : `network option ${key} is not allowed under ${level}`;
    if (problem) v.push({ field, message: check ? `network option ${key}: ${problem}` : problem });
  }
  return v;
}

/**
 * Subnets decide routes on the host: a bridge for 10.0.0.0/8 would shadow the
 * host's own networks. So every subnet, IP range and gateway must lie inside
 * one of the host's allowedSubnets; a host that lists none allows none.
 */
function checkIpam(
  ipam: DockerNetworkSpec['ipam'],
  allowedText: readonly string[],
  level: string,
): Violation[] {
  const allowed = allowedText.map(parseCidr).filter((n): n is Network => n !== undefined);
  const where =
    allowed.length > 0
      ? `inside the host's allowedSubnets (${allowedText.join(', ')})`
      : `but this host allows none under ${level} (securityPolicySettings.allowedSubnets)`;
  const v: Violation[] = [];
  (ipam?.config ?? []).forEach((c, i) => {
    const parts: Array<[string, string | undefined, (t: string) => Network | undefined]> = [
      ['subnet', c.subnet, parseCidr],
      ['ipRange', c.ipRange, parseCidr],
      ['gateway', c.gateway, parseAddress],
    ];
    for (const [name, text, parse] of parts) {
      if (text === undefined) continue;
      const net = parse(text);
      if (net && allowed.some((a) => contains(a, net))) continue;
      v.push({
        field: `spec.ipam.config[${i}].${name}`,
        message: net ? `${name} ${text} must lie ${where}` : `${name} ${text} is not a valid address`,
      });
    }
  });
  return v;
}

/**
 * Docker's `host` network is the host's own network namespace: joining it is
 * networkMode host, whatever the allow-list says.
 */
function checkExternalNetwork(
  name: string | undefined,
  level: string,
  allowed: readonly string[] | undefined,
) {
  if (name === 'host')
    return [
      {
        field: 'spec.external',
        message: `the host network is the host's own network, not allowed under ${level}`,
      },
    ];
  return checkExternal({ kind: 'network', name, level, allowed });
}

/**
 * Below privileged a network is a bridge with allow-listed options, the
 * default IPAM driver without options, and addresses inside the host's
 * allowedSubnets.
 */
export function checkNetworkPolicy(
  policy: SecurityPolicy | HostPolicy,
  spec: DockerNetworkSpec,
): Violation[] {
  const { level, settings } = asHostPolicy(policy);
  if (level === 'privileged') return [];
  if (spec.external) return checkExternalNetwork(spec.networkName, level, settings.allowedExternalNetworks);
  const v: Violation[] = [];
  const driver = spec.driver ?? 'bridge';
  if (!NETWORK_DRIVERS.has(driver)) {
    v.push({
      field: 'spec.driver',
      message: `network driver ${driver} is not allowed under ${level} (only bridge)`,
    });
  }
  v.push(...checkOptions(spec.options ?? {}, level));
  const ipamDriver = spec.ipam?.driver ?? 'default';
  if (ipamDriver !== 'default') {
    v.push({
      field: 'spec.ipam.driver',
      message: `IPAM driver ${ipamDriver} is not allowed under ${level} (only default)`,
    });
  }
  for (const key of Object.keys(spec.ipam?.options ?? {})) {
    v.push({
      field: mapField('spec.ipam.options', key),
      message: `IPAM option ${key} is not allowed under ${level}`,
    });
  }
  v.push(...checkIpam(spec.ipam, settings.allowedSubnets ?? [], level));
  return v;
}
