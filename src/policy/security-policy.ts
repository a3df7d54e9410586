import type { DockerContainerSpec } from '../crds/dockercontainer.js';
import type { DockerHostSpec } from '../crds/dockerhost.js';
import type { DockerVolumeSpec } from '../crds/dockervolume.js';

export type SecurityPolicy = NonNullable<DockerHostSpec['securityPolicy']>;

/** One reason a spec is refused on a host; `field` is the spec path a user must change. */
export interface Violation {
  field: string;
  message: string;
}

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

function isRootUser(user: string | undefined): boolean {
  if (user === undefined) return true; // the image default is root unless proven otherwise
  const [name = ''] = user.split(':');
  // runc parses a numeric user with strconv.Atoi, so "00" and "-0" are uid 0 too.
  return name === 'root' || (/^[-+]?[0-9]+$/.test(name) && Number(name) === 0);
}

/**
 * Checks a container spec against a host's securityPolicy. Pure: the
 * controller calls it before creating anything and reports every violation
 * (reason PolicyViolation) with the offending field.
 */
export function checkContainerPolicy(policy: SecurityPolicy, spec: DockerContainerSpec): Violation[] {
  if (policy === 'privileged') return [];
  const v: Violation[] = [];
  const sec = spec.security ?? {};
  if (sec.privileged)
    v.push({ field: 'spec.security.privileged', message: 'privileged containers are not allowed' });
  if (sec.networkMode === 'host')
    v.push({ field: 'spec.security.networkMode', message: 'the host network namespace is not allowed' });
  if (sec.pidMode === 'host')
    v.push({ field: 'spec.security.pidMode', message: 'the host PID namespace is not allowed' });
  if (sec.ipcMode === 'host')
    v.push({ field: 'spec.security.ipcMode', message: 'the host IPC namespace is not allowed' });
  if (sec.utsMode === 'host')
    v.push({ field: 'spec.security.utsMode', message: 'the host UTS namespace is not allowed' });
  (sec.devices ?? []).forEach((d, i) =>
    v.push({ field: `spec.security.devices[${i}]`, message: `host device ${d.hostPath} is not allowed` }),
  );
  (spec.mounts ?? []).forEach((m, i) => {
    if (m.type === 'bind') {
      v.push({
        field: `spec.mounts[${i}].hostPath`,
        message: `bind mount of host path ${m.hostPath ?? ''} is not allowed`,
      });
    }
  });
  const allowedCaps = policy === 'restricted' ? RESTRICTED_CAPABILITIES : BASELINE_CAPABILITIES;
  (sec.capAdd ?? []).forEach((cap, i) => {
    if (!allowedCaps.has(normaliseCap(cap))) {
      v.push({
        field: `spec.security.capAdd[${i}]`,
        message: `capability ${cap} is not allowed under ${policy}`,
      });
    }
  });
  if (policy === 'restricted') {
    if (isRootUser(spec.user)) {
      v.push({
        field: 'spec.user',
        message: 'restricted hosts require a non-root user (set spec.user to a non-zero uid)',
      });
    }
    if (!(sec.capDrop ?? []).some((c) => normaliseCap(c) === 'ALL')) {
      v.push({
        field: 'spec.security.capDrop',
        message: 'restricted hosts require dropping ALL capabilities',
      });
    }
    if (sec.noNewPrivileges !== true) {
      v.push({
        field: 'spec.security.noNewPrivileges',
        message: 'restricted hosts require noNewPrivileges: true',
      });
    }
  }
  return v;
}

/** `/etc`, `/dev/sda1`: a path on the host. `//server/share` (CIFS) and `:/export` (NFS) are remote. */
function isHostPath(value: string): boolean {
  return value.startsWith('/') && !value.startsWith('//');
}

/**
 * A local volume with `o=bind` is a bind mount in disguise (device=/ would
 * expose the host's root), so below privileged it is refused like one. So are
 * the other ways driver options reach the host's file system: a device that is
 * a host path (`type=ext4,device=/dev/sda1` mounts the host's disk), an overlay
 * (its `lowerdir=` is a host directory), and any option whose value is a host
 * path (plugins such as local-persist take `mountpoint=/`). Network file
 * systems (`:/export`, `//server/share`) stay allowed, as under the Pod
 * Security Standards' baseline.
 */
export function checkVolumePolicy(policy: SecurityPolicy, spec: DockerVolumeSpec): Violation[] {
  if (policy === 'privileged') return [];
  const opts = spec.driverOptions ?? {};
  const mountOptions = (opts.o ?? '').split(',').map((o) => o.trim());
  if (mountOptions.includes('bind') || mountOptions.includes('rbind') || opts.type === 'none') {
    return [
      {
        field: 'spec.driverOptions',
        message: `a local volume bound to a host path (${opts.device ?? 'unknown device'}) is not allowed under ${policy}`,
      },
    ];
  }
  const v: Violation[] = [];
  if (opts.type === 'overlay') {
    v.push({
      field: 'spec.driverOptions.type',
      message: `an overlay volume (its layers are host directories) is not allowed under ${policy}`,
    });
  }
  for (const [key, value] of Object.entries(opts)) {
    const hostPaths =
      key === 'o'
        ? mountOptions.filter((o) => o.includes('=')).map((o) => o.slice(o.indexOf('=') + 1))
        : [value];
    const path = hostPaths.find(isHostPath);
    if (path !== undefined) {
      v.push({
        field: `spec.driverOptions.${key}`,
        message: `a volume on host path ${path} is not allowed under ${policy}`,
      });
    }
  }
  return v;
}

/** One line for a condition message or Event: every violation with its field. */
export function describeViolations(host: string, policy: SecurityPolicy, violations: Violation[]): string {
  return `DockerHost ${host} (securityPolicy ${policy}) refuses: ${violations.map((x) => `${x.field}: ${x.message}`).join('; ')}`;
}
