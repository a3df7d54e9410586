// The process and runtime fields that can reach past the container: kernel
// parameters (sysctls), resource limits (ulimits) and the size of /dev/shm.
// Each is an allow-list below privileged; a privileged host allows anything
// (and Docker itself still refuses a sysctl that is not namespaced).
import type { DockerContainerSpec, ULIMIT_NAMES } from '../crds/dockercontainer.js';
import { parseByteQuantity } from '../crds/quantities.js';
import { formatBytes, mapField, type SecurityPolicy, type Violation } from './policy-types.js';
import { MAX_TMPFS_BYTES } from './volume-policy.js';

/**
 * Kubernetes' safe sysctls (kubelet's safe_sysctls.go, the Pod Security
 * Standards' baseline list as of Kubernetes 1.32): namespaced, and isolated
 * from other containers and the host. Everything else, even when namespaced
 * (net.core.somaxconn, kernel.msgmax…), can size kernel memory that is not
 * charged to the container, or weaken protections the host relies on.
 */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ping_group_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);

/**
 * Ulimits a container may set below privileged: each limits only the
 * container's own processes, or what the kernel already charges to its cgroup
 * or bounds host-wide (pids through pidsLimit, files through fs.nr_open).
 * core: dumps go where the host's core_pattern says, and Docker's own service
 * already runs with LimitCORE=infinity. locks and rss are not enforced by Linux.
 * rttime only caps real-time CPU time, which needs rtprio (refused) to start.
 *
 * Refused below privileged (not in this list):
 * - memlock: locked memory cannot be reclaimed or swapped, and on older
 *   kernels it is also the budget for eBPF maps and io_uring buffers;
 * - rtprio: lets a process without CAP_SYS_NICE take a real-time priority, and
 *   a busy real-time thread starves the host's scheduler (cgroup CPU limits do
 *   not bound real-time tasks without RT_GROUP_SCHED);
 * - nice: lets processes raise their own CPU priority above the host's;
 * - msgqueue, sigpending: per-user kernel memory (POSIX message queues,
 *   queued signals) that these limits exist to bound, not charged to the container.
 */
export const BASELINE_ULIMITS: ReadonlySet<(typeof ULIMIT_NAMES)[number]> = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'nofile',
  'nproc',
  'rss',
  'rttime',
  'stack',
]);

function checkSysctls(level: SecurityPolicy, spec: DockerContainerSpec): Violation[] {
  return Object.keys(spec.sysctls ?? {})
    .filter((name) => !SAFE_SYSCTLS.has(name))
    .map((name) => ({
      field: mapField('spec.sysctls', name),
      message: `sysctl ${name} is not allowed under ${level} (only Kubernetes’ safe set, e.g. net.ipv4.tcp_keepalive_time)`,
    }));
}

function checkUlimits(level: SecurityPolicy, spec: DockerContainerSpec): Violation[] {
  const v: Violation[] = [];
  (spec.ulimits ?? []).forEach((u, i) => {
    if (BASELINE_ULIMITS.has(u.name)) return;
    v.push({
      field: `spec.ulimits[${i}].name`,
      message: `ulimit ${u.name} is not allowed under ${level} (it can take host memory or CPU priority)`,
    });
  });
  return v;
}

/** /dev/shm is a tmpfs, memory like any other: capped as tmpfs mounts are. */
function checkShmSize(level: SecurityPolicy, spec: DockerContainerSpec): Violation[] {
  const size = spec.resources?.shmSize;
  if (size === undefined) return [];
  let bytes: number | undefined;
  try {
    bytes = parseByteQuantity(size);
  } catch {
    bytes = undefined;
  }
  // 0 is Docker's default (64 MiB).
  if (bytes !== undefined && bytes <= MAX_TMPFS_BYTES) return [];
  return [
    {
      field: 'spec.resources.shmSize',
      message: `shmSize ${size} is above ${formatBytes(MAX_TMPFS_BYTES)}, the cap under ${level}`,
    },
  ];
}

/** Sysctls, ulimits and shmSize against the allow-lists; callers skip it on privileged hosts. */
export function checkRuntime(level: SecurityPolicy, spec: DockerContainerSpec): Violation[] {
  return [...checkSysctls(level, spec), ...checkUlimits(level, spec), ...checkShmSize(level, spec)];
}
