// The confinement fields → Docker create options: device requests, device
// cgroup rules, supplementary groups, seccomp/AppArmor (in SecurityOpt, with
// no-new-privileges) and the user and cgroup namespace modes. Pure. Engine API
// versions: GroupAdd 1.20, DeviceCgroupRules 1.28, DeviceRequests 1.40,
// CgroupnsMode 1.41 (older engines always used the host's), all within Engine
// 20.10 (1.41), so none needs a row in engine-support.ts.
import type Dockerode from 'dockerode';
import { nonEmpty, UnresolvedReferenceError, type ContainerInputs, type Spec } from './inputs.js';

/** Docker's typings predate CgroupnsMode (API 1.41). */
export type ConfinementHostConfig = Dockerode.HostConfig & { CgroupnsMode?: 'private' | 'host' };

type Security = NonNullable<Spec['security']>;
type DeviceRequest = NonNullable<NonNullable<Spec['resources']>['deviceRequests']>[number];

/**
 * One device request as the Engine takes it. Without deviceIDs an unset count
 * means all devices (Count -1, what `--gpus all` sends): Count 0 would make
 * the NVIDIA driver expose none.
 */
export function deviceRequestOf(r: DeviceRequest): Dockerode.DeviceRequest {
  const ids = nonEmpty(r.deviceIDs);
  return {
    ...(r.driver !== undefined ? { Driver: r.driver } : {}),
    ...(ids ? { DeviceIDs: [...ids] } : { Count: r.count ?? -1 }),
    Capabilities: r.capabilities.map((set) => [...set]),
    ...(r.options && Object.keys(r.options).length > 0 ? { Options: { ...r.options } } : {}),
  };
}

/**
 * SecurityOpt entries, in a fixed order. RuntimeDefault has no spelling: the
 * daemon applies its default profile when the option is absent (and a
 * `seccomp=builtin` would be refused by engines before 23.0). A Localhost
 * profile goes as its JSON text, the only form the Engine API takes.
 */
export function securityOptOf(
  sec: Security | undefined,
  inputs: Pick<ContainerInputs, 'seccompProfile'>,
): string[] {
  const opts: string[] = [];
  if (sec?.noNewPrivileges) opts.push('no-new-privileges:true');
  const seccomp = sec?.seccompProfile;
  if (seccomp?.type === 'Unconfined') opts.push('seccomp=unconfined');
  if (seccomp?.type === 'Localhost') {
    // Never created without it: that would run the container under the default profile.
    if (!inputs.seccompProfile)
      throw new UnresolvedReferenceError(
        `seccomp profile ${JSON.stringify(seccomp.localhostProfile)} is not resolved on this host`,
      );
    opts.push(`seccomp=${inputs.seccompProfile.json}`);
  }
  const apparmor = sec?.appArmorProfile;
  if (apparmor?.type === 'Unconfined') opts.push('apparmor=unconfined');
  if (apparmor?.type === 'Localhost' && apparmor.localhostProfile !== undefined)
    opts.push(`apparmor=${apparmor.localhostProfile}`);
  return opts;
}

/** Device requests, cgroup rules, groups and namespace modes: only what the spec sets. */
export function confinementOf(spec: Spec): ConfinementHostConfig {
  const sec = spec.security;
  const host: ConfinementHostConfig = {};
  const requests = nonEmpty(spec.resources?.deviceRequests);
  if (requests) host.DeviceRequests = requests.map(deviceRequestOf);
  const rules = nonEmpty(sec?.deviceCgroupRules);
  if (rules) host.DeviceCgroupRules = [...rules];
  const groups = nonEmpty(sec?.groupAdd);
  if (groups) host.GroupAdd = [...groups];
  if (sec?.usernsMode !== undefined) host.UsernsMode = sec.usernsMode;
  if (sec?.cgroupnsMode !== undefined) host.CgroupnsMode = sec.cgroupnsMode;
  return host;
}

const sortedUnique = (list: string[] | undefined) => nonEmpty([...new Set(list ?? [])].sort());

/** Unconfined, or a Localhost profile by name and content (a profile change recreates); RuntimeDefault adds nothing. */
function seccompHashOf(spec: Spec, inputs: Pick<ContainerInputs, 'seccompProfile'>) {
  const seccomp = spec.security?.seccompProfile;
  if (seccomp?.type === 'Unconfined') return 'unconfined';
  if (seccomp?.type === 'Localhost')
    return { localhost: seccomp.localhostProfile, sha256: inputs.seccompProfile?.sha256 };
  return undefined;
}

/**
 * The confinement fields as the recreate hash sees them (all recreate: Docker
 * updates none in place). Unset, empty and the daemon's defaults
 * (RuntimeDefault) add no key, so existing containers keep their hash; sets
 * (rules, groups, the capabilities a driver must all offer) hash in any order.
 */
export function confinementHashOf(
  spec: Spec,
  inputs: Pick<ContainerInputs, 'seccompProfile'>,
): Record<string, unknown> {
  const sec = spec.security;
  const apparmor = sec?.appArmorProfile;
  return {
    deviceRequests: nonEmpty(
      (spec.resources?.deviceRequests ?? []).map((r) => {
        const ids = nonEmpty(r.deviceIDs);
        return {
          driver: r.driver,
          count: ids ? undefined : (r.count ?? 'all'),
          deviceIDs: ids,
          capabilities: r.capabilities.map((set) => sortedUnique(set)),
          options: r.options && Object.keys(r.options).length > 0 ? r.options : undefined,
        };
      }),
    ),
    deviceCgroupRules: sortedUnique(sec?.deviceCgroupRules),
    groupAdd: sortedUnique(sec?.groupAdd),
    seccomp: seccompHashOf(spec, inputs),
    appArmor:
      apparmor?.type === 'Unconfined'
        ? 'unconfined'
        : apparmor?.type === 'Localhost'
          ? `localhost/${apparmor.localhostProfile ?? ''}`
          : undefined,
    usernsMode: sec?.usernsMode,
    cgroupnsMode: sec?.cgroupnsMode,
  };
}
