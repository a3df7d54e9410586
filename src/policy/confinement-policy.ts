// The confinement fields of issue #14 (Compose gpus and device reservations,
// device_cgroup_rules, group_add, security_opt seccomp/apparmor, userns_mode,
// cgroupns_mode), decided below privileged by allow-lists: what is listed here
// (or by the host's administrator) passes, everything else is refused. A
// privileged host is not checked here at all (checkContainerPolicy).
import type { DockerContainerSpec } from '../crds/dockercontainer.js';
import type { HostPolicy, SecurityPolicy, Violation } from './policy-types.js';

type Security = NonNullable<DockerContainerSpec['security']>;

/**
 * Seccomp below privileged: the daemon's default profile (unset is the same
 * thing), or an administrator's profile (which names, checkSeccompLocalhost).
 */
const ALLOWED_SECCOMP: ReadonlySet<string> = new Set(['RuntimeDefault', 'Localhost']);
/** AppArmor below privileged: the daemon's default, or a host profile the administrator lists. */
const ALLOWED_APPARMOR: ReadonlySet<string> = new Set(['RuntimeDefault', 'Localhost']);
/** cgroup namespace below privileged: only the container's own (unset is the daemon's default). */
const ALLOWED_CGROUPNS: ReadonlySet<string> = new Set(['private']);

/** Above this a gid is not a gid to runc; the same bound as uids (security-policy.ts MAX_UID). */
const MAX_GID = 2147483647;

/**
 * Host hardware: a device request makes the daemon's device driver (the
 * NVIDIA hook for GPUs) put host device nodes and driver libraries into the
 * container, and a device cgroup rule lets the container create and open host
 * devices by number. Neither has a narrower safe spelling, like
 * security.devices: privileged hosts only.
 */
function checkDevices(spec: DockerContainerSpec): Violation[] {
  const v: Violation[] = [];
  (spec.resources?.deviceRequests ?? []).forEach((r, i) =>
    v.push({
      field: `spec.resources.deviceRequests[${i}]`,
      message: `device requests (${r.driver ?? r.capabilities.map((c) => c.join('+')).join(' or ')}) give host hardware and are not allowed`,
    }),
  );
  (spec.security?.deviceCgroupRules ?? []).forEach((rule, i) =>
    v.push({
      field: `spec.security.deviceCgroupRules[${i}]`,
      message: `device cgroup rule "${rule}" opens host devices and is not allowed`,
    }),
  );
  return v;
}

/**
 * Under restricted a supplementary group must be a numeric, non-zero gid:
 * a name is resolved in the image's /etc/group (which can map it to gid 0),
 * and gid 0 is root's group (files of root:root with group access). Mirrors
 * restrictedUserProblem in security-policy.ts.
 */
export function restrictedGroupProblem(group: string): string | undefined {
  if (!/^[0-9]+$/.test(group))
    return `restricted hosts require numeric groups (the image can map the name ${group} to gid 0)`;
  // runc parses with strconv.Atoi, so "00" is gid 0 too.
  if (Number(group) === 0) return 'restricted hosts require non-zero groups (gid 0 is root’s group)';
  if (Number(group) > MAX_GID) return `gid ${group} is out of range`;
  return undefined;
}

function checkGroups(level: SecurityPolicy, sec: Security): Violation[] {
  if (level !== 'restricted') return [];
  return (sec.groupAdd ?? []).flatMap((group, i) => {
    const problem = restrictedGroupProblem(group);
    return problem ? [{ field: `spec.security.groupAdd[${i}]`, message: problem }] : [];
  });
}

/** Seccomp and AppArmor: the runtime's defaults, or an administrator's AppArmor profile. */
function checkProfiles(host: HostPolicy, sec: Security): Violation[] {
  const v: Violation[] = [];
  const seccomp = sec.seccompProfile?.type;
  if (seccomp !== undefined && !ALLOWED_SECCOMP.has(seccomp))
    v.push({
      field: 'spec.security.seccompProfile.type',
      message: `seccomp profile ${seccomp} is not allowed under ${host.level} (RuntimeDefault or a Localhost profile the host lists is)`,
    });
  const apparmor = sec.appArmorProfile;
  if (apparmor === undefined) return v;
  if (!ALLOWED_APPARMOR.has(apparmor.type)) {
    v.push({
      field: 'spec.security.appArmorProfile.type',
      message: `AppArmor profile ${apparmor.type} is not allowed under ${host.level} (RuntimeDefault or an allowed Localhost profile is)`,
    });
  } else if (apparmor.type === 'Localhost') {
    const allowed = host.settings.allowedAppArmorProfiles ?? [];
    const name = apparmor.localhostProfile ?? '';
    if (!allowed.includes(name))
      v.push({
        field: 'spec.security.appArmorProfile.localhostProfile',
        message:
          allowed.length > 0
            ? `AppArmor profile ${name} is not one this host allows (${allowed.join(', ')})`
            : `AppArmor profile ${name}: this host allows no Localhost profiles (securityPolicySettings.allowedAppArmorProfiles)`,
      });
  }
  return v;
}

/**
 * A Localhost seccomp profile, at every level (privileged too): Docker takes
 * a profile only as JSON text, so its text must come from the administrator's
 * list (securityPolicySettings.seccompProfiles); a name the host does not list
 * has no text, and a tenant's own text could allow every system call.
 */
export function checkSeccompLocalhost(host: HostPolicy, spec: DockerContainerSpec): Violation[] {
  const profile = spec.security?.seccompProfile;
  if (profile?.type !== 'Localhost') return [];
  const listed = (host.settings.seccompProfiles ?? []).map((p) => p.name);
  const name = profile.localhostProfile ?? '';
  if (listed.includes(name)) return [];
  return [
    {
      field: 'spec.security.seccompProfile.localhostProfile',
      message:
        listed.length > 0
          ? `seccomp profile ${name} is not one this host lists (${listed.join(', ')})`
          : `seccomp profile ${name}: this host lists no seccomp profiles (securityPolicySettings.seccompProfiles)`,
    },
  ];
}

/** The host user namespace turns off userns-remap; the host cgroup namespace shows the host's cgroups. */
function checkNamespaces(sec: Security): Violation[] {
  const v: Violation[] = [];
  if (sec.usernsMode !== undefined)
    v.push({
      field: 'spec.security.usernsMode',
      message: `the ${sec.usernsMode} user namespace is not allowed (it turns off the daemon's userns-remap)`,
    });
  if (sec.cgroupnsMode !== undefined && !ALLOWED_CGROUPNS.has(sec.cgroupnsMode))
    v.push({ field: 'spec.security.cgroupnsMode', message: 'the host cgroup namespace is not allowed' });
  return v;
}

/** Every violation of the confinement fields on a baseline or restricted host. */
export function checkConfinement(host: HostPolicy, spec: DockerContainerSpec): Violation[] {
  const sec = spec.security ?? {};
  return [
    ...checkDevices(spec),
    ...checkGroups(host.level, sec),
    ...checkProfiles(host, sec),
    ...checkNamespaces(sec),
  ];
}
