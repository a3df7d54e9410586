import type { DockerHostSpec, SecurityPolicySettings } from '../crds/dockerhost.js';

export type SecurityPolicy = NonNullable<DockerHostSpec['securityPolicy']>;

/** One reason a spec is refused on a host; `field` is the spec path a user must change. */
export interface Violation {
  field: string;
  message: string;
}

/** What a host allows: its level and the administrator's settings (ports, subnets, required limits). */
export interface HostPolicy {
  level: SecurityPolicy;
  settings: SecurityPolicySettings;
}

/** The policy of a DockerHost; a bare level (tests, older callers) means no settings. */
export function hostPolicyOf(
  spec: Pick<DockerHostSpec, 'securityPolicy' | 'securityPolicySettings'>,
): HostPolicy {
  return { level: spec.securityPolicy ?? 'baseline', settings: spec.securityPolicySettings ?? {} };
}

export function asHostPolicy(policy: SecurityPolicy | HostPolicy): HostPolicy {
  return typeof policy === 'string' ? { level: policy, settings: {} } : policy;
}

/**
 * The path of one key of a string map: `spec.driverOptions.o`, or
 * `spec.options[com.docker.network.bridge.name]` when the key is not a plain
 * identifier (dots and dashes would be read as path steps).
 */
export function mapField(base: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${key}]`;
}

/** 1.5 GiB, 100 MiB, 512 B: sizes in messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit += 1;
  }
  return `${value} ${units[unit] ?? 'B'}`;
}
