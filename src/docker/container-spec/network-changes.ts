// What changes in place: network connections. Only one network can be given
// at create (Engine 20.10, API 1.41); the others are connected afterwards, and
// a changed alias set or static address is a disconnect plus a connect.
import type { ObservedContainer } from '../container-client.js';
import { DEFAULT_BRIDGE, networkModeOf, networkNameOf, type ContainerInputs, type Spec } from './inputs.js';

export interface NetworkConnect {
  network: string;
  aliases?: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  macAddress?: string;
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
 * A MAC the spec asks for against the one in use. Docker reports a MAC only
 * while the container runs, and a random one when none was asked for: an
 * unset wish or an unknown MAC is no difference.
 */
function macDiffers(have: string | undefined, want: string | undefined): boolean {
  return want !== undefined && have !== undefined && have.toLowerCase() !== want.toLowerCase();
}

/**
 * Whether create alone attaches the container as the spec asks: a network
 * mode, no spec network (the default bridge) or exactly one (given at
 * create with its aliases, addresses and MAC). Then a freshly created
 * container needs no look for networks to connect; the next observation
 * compares them as always.
 */
export function createAttachesAll(spec: Spec): boolean {
  return networkModeOf(spec) !== undefined || (spec.networks?.length ?? 0) <= 1;
}

/**
 * Desired networks against attached ones. A changed alias set, static
 * address or MAC is a disconnect plus a connect (an alias equal to the hostname is not
 * compared: Docker adds that one itself). Without spec networks the desired network
 * is Docker's default bridge (as a fresh container gets); with spec networks
 * the bridge is disconnected like any other network not in the spec.
 * networkMode host, none or container: no network changes at all.
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
      ...(n.ipv6Address ? { ipv6Address: n.ipv6Address } : {}),
      ...(n.macAddress ? { macAddress: n.macAddress } : {}),
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
      (have.ipv4Address ?? '') !== (want.ipv4Address ?? '') ||
      (have.ipv6Address ?? '') !== (want.ipv6Address ?? '') ||
      macDiffers(have.macAddress, want.macAddress)
    ) {
      changes.disconnect.push(network);
      changes.connect.push(want);
    }
  }
  return changes;
}
