import type { DockerContainerSpec } from '../crds/dockercontainer.js';
import type { SecurityPolicySettings } from '../crds/dockerhost.js';
import { parseByteQuantity } from '../crds/quantities.js';
import { checkConfinement, checkSeccompLocalhost } from './confinement-policy.js';
import { checkLogging } from './log-policy.js';
import { checkRuntime } from './runtime-policy.js';
import {
  asHostPolicy,
  formatBytes,
  type HostPolicy,
  type SecurityPolicy,
  type Violation,
} from './policy-types.js';
import { MAX_TMPFS_BYTES } from './volume-policy.js';

export { hostPolicyOf, type HostPolicy, type SecurityPolicy, type Violation } from './policy-types.js';
export { checkVolumePolicy } from './volume-policy.js';
export { checkNetworkPolicy } from './network-policy.js';
export { checkBuildPolicy } from './build-policy.js';
export { checkPushPolicy } from './push-policy.js';

/**
 * Capabilities the Pod Security Standards allow at baseline: Docker's default
 * set minus NET_RAW. Anything else needs a privileged host.
 */
export const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Under restricted, the only capability that may be added back after dropping ALL. */
export const RESTRICTED_CAPABILITIES: ReadonlySet<string> = new Set(['NET_BIND_SERVICE']);

function normaliseCap(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, '');
}

/** Above this a uid is not a uid to runc (it wraps or fails); the schema keeps signs out. */
const MAX_UID = 2147483647;

/**
 * Under restricted the user must be a numeric, non-zero uid: a name (even
 * `nobody` or `app`) is looked up in the image's /etc/passwd, which can map
 * it to uid 0. A group, if given, must be numeric too, for the same reason.
 */
function restrictedUserProblem(user: string | undefined): string | undefined {
  if (user === undefined) return 'restricted hosts require spec.user (the image default may be root)';
  const [uid = '', gid] = user.split(':');
  if (!/^[0-9]+$/.test(uid))
    return `restricted hosts require a numeric uid (the image can map the name ${uid} to uid 0)`;
  // runc parses with strconv.Atoi, so "00" is uid 0 too.
  if (Number(uid) === 0) return 'restricted hosts require a non-zero uid';
  if (Number(uid) > MAX_UID) return `uid ${uid} is out of range`;
  if (gid !== undefined && !/^[0-9]+$/.test(gid))
    return `restricted hosts require a numeric gid (the image resolves the name ${gid})`;
  return undefined;
}

function checkIsolation(level: SecurityPolicy, spec: DockerContainerSpec): Violation[] {
  const v: Violation[] = [];
  const sec = spec.security ?? {};
  if (sec.privileged)
    v.push({ field: 'spec.security.privileged', message: 'privileged containers are not allowed' });
  const shared = { networkMode: 'network', pidMode: 'PID', ipcMode: 'IPC', utsMode: 'UTS' } as const;
  for (const [key, what] of Object.entries(shared) as Array<[keyof typeof shared, string]>) {
    if (sec[key] === 'host')
      v.push({ field: `spec.security.${key}`, message: `the host ${what} namespace is not allowed` });
  }
  (sec.devices ?? []).forEach((d, i) =>
    v.push({ field: `spec.security.devices[${i}]`, message: `host device ${d.hostPath} is not allowed` }),
  );
  v.push(...checkMounts(level, spec));
  const allowedCaps = level === 'restricted' ? RESTRICTED_CAPABILITIES : BASELINE_CAPABILITIES;
  (sec.capAdd ?? []).forEach((cap, i) => {
    if (!allowedCaps.has(normaliseCap(cap))) {
      v.push({
        field: `spec.security.capAdd[${i}]`,
        message: `capability ${cap} is not allowed under ${level}`,
      });
    }
  });
  return v;
}

type MountSpec = NonNullable<DockerContainerSpec['mounts']>[number];

/**
 * Bind options that change the host itself, named on their own (not only
 * through the bind mount they sit on) so the refusal says what is dangerous
 * even where binds are one day allowed: shared propagation lets mounts made in
 * the container appear on the host, and an SELinux relabel rewrites the host
 * path's labels. The other propagation modes only narrow what the bind sees.
 */
function bindOptionViolations(m: MountSpec, i: number): Violation[] {
  const v: Violation[] = [];
  if (m.propagation === 'shared' || m.propagation === 'rshared')
    v.push({
      field: `spec.mounts[${i}].propagation`,
      message: `${m.propagation} propagation lets the container's mounts reach the host; it needs a privileged host`,
    });
  if (m.selinuxRelabel !== undefined)
    v.push({
      field: `spec.mounts[${i}].selinuxRelabel`,
      message: `relabelling host path ${m.hostPath ?? ''} for SELinux changes the host; it needs a privileged host`,
    });
  return v;
}

/** No bind mounts; tmpfs mounts are memory, so each needs a size within the cap. */
function checkMounts(level: SecurityPolicy, spec: DockerContainerSpec): Violation[] {
  const v: Violation[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    if (m.type === 'bind') {
      v.push({
        field: `spec.mounts[${i}].hostPath`,
        message: `bind mount of host path ${m.hostPath ?? ''} is not allowed`,
      });
      v.push(...bindOptionViolations(m, i));
    }
    if (m.type !== 'tmpfs') return;
    const field = `spec.mounts[${i}].tmpfsSize`;
    const cap = formatBytes(MAX_TMPFS_BYTES);
    if (m.tmpfsSize === undefined) {
      // Unset (or 0) is Docker's default: half the host's memory.
      v.push({ field, message: `a tmpfs mount needs tmpfsSize under ${level} (at most ${cap})` });
      return;
    }
    const bytes = bytesOf(m.tmpfsSize);
    if (bytes === undefined || bytes <= 0 || bytes > MAX_TMPFS_BYTES)
      v.push({
        field,
        message: `tmpfsSize ${m.tmpfsSize} must be above 0 and at most ${cap} under ${level}`,
      });
  });
  return v;
}

function bytesOf(quantity: string): number | undefined {
  try {
    return parseByteQuantity(quantity);
  } catch {
    return undefined;
  }
}

/** A host port is the host's, not the tenant's: only what the administrator opened. */
function checkHostPorts(host: HostPolicy, spec: DockerContainerSpec): Violation[] {
  const ranges = host.settings.allowedHostPorts ?? [];
  const opened = ranges.map((r) =>
    r.to === undefined || r.to === r.from ? `${r.from}` : `${r.from}-${r.to}`,
  );
  const v: Violation[] = [];
  (spec.ports ?? []).forEach((p, i) => {
    if (p.hostPort === undefined) return;
    const port = p.hostPort;
    if (ranges.some((r) => port >= r.from && port <= (r.to ?? r.from))) return;
    v.push({
      field: `spec.ports[${i}].hostPort`,
      message:
        opened.length > 0
          ? `host port ${port} is outside the ports this host allows (${opened.join(', ')})`
          : `host ports are not allowed under ${host.level} unless the host allows them (securityPolicySettings.allowedHostPorts)`,
    });
  });
  return v;
}

function checkRestricted(spec: DockerContainerSpec): Violation[] {
  const v: Violation[] = [];
  const sec = spec.security ?? {};
  const userProblem = restrictedUserProblem(spec.user);
  if (userProblem) v.push({ field: 'spec.user', message: userProblem });
  if (!(sec.capDrop ?? []).some((c) => normaliseCap(c) === 'ALL')) {
    v.push({ field: 'spec.security.capDrop', message: 'restricted hosts require dropping ALL capabilities' });
  }
  if (sec.noNewPrivileges !== true) {
    v.push({
      field: 'spec.security.noNewPrivileges',
      message: 'restricted hosts require noNewPrivileges: true',
    });
  }
  return [...v, ...checkFileModes(spec)];
}

/** setuid (4000) and setgid (2000): bits that turn a file into a privilege path inside the container. */
const SET_ID_BITS = 0o6000;

/**
 * Restricted: no setuid/setgid file written by spec.files. Such a file (owned
 * by root, or by any uid the workload may not be) lets a process become that
 * user inside the container, what restricted's non-root user and
 * noNewPrivileges rule out.
 */
function checkFileModes(spec: DockerContainerSpec): Violation[] {
  return (spec.files ?? []).flatMap((f, i) =>
    f.mode !== undefined && (parseInt(f.mode, 8) & SET_ID_BITS) !== 0
      ? [
          {
            field: `spec.files[${i}].mode`,
            message: `restricted hosts refuse setuid/setgid files (mode ${f.mode} on ${f.path})`,
          },
        ]
      : [],
  );
}

/** CIS Docker 5.10 and 5.28, when the host asks for them: at every level, privileged too. */
function checkRequiredLimits(settings: SecurityPolicySettings, spec: DockerContainerSpec): Violation[] {
  const v: Violation[] = [];
  const memory = spec.resources?.memory;
  // Memory 0 is Docker's "no limit".
  if (settings.requireMemoryLimit && (memory === undefined || !((bytesOf(memory) ?? 0) > 0))) {
    v.push({
      field: 'spec.resources.memory',
      message: 'this host requires a memory limit on every container',
    });
  }
  if (settings.requirePidsLimit && spec.resources?.pidsLimit === undefined) {
    v.push({
      field: 'spec.resources.pidsLimit',
      message: 'this host requires a pids limit on every container',
    });
  }
  return v;
}

/**
 * Checks a container spec against a host's policy (level and settings; a bare
 * level means no settings). Pure: the controller calls it before creating
 * anything and reports every violation (reason PolicyViolation) with the
 * offending field.
 */
export function checkContainerPolicy(
  policy: SecurityPolicy | HostPolicy,
  spec: DockerContainerSpec,
): Violation[] {
  const host = asHostPolicy(policy);
  // What holds at every level, privileged too.
  const limits = [...checkRequiredLimits(host.settings, spec), ...checkSeccompLocalhost(host, spec)];
  if (host.level === 'privileged') return limits;
  return [
    ...checkIsolation(host.level, spec),
    ...(host.level === 'restricted' ? checkRestricted(spec) : []),
    ...checkHostPorts(host, spec),
    ...checkLogging(spec.logging, host.level),
    ...checkRuntime(host.level, spec),
    ...checkConfinement(host, spec),
    ...limits,
  ];
}

/** One line for a condition message or Event: every violation with its field. */
export function describeViolations(host: string, policy: SecurityPolicy, violations: Violation[]): string {
  return `DockerHost ${host} (securityPolicy ${policy}) refuses: ${violations.map((x) => `${x.field}: ${x.message}`).join('; ')}`;
}
