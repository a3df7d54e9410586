// Fails (exit 1) when a stopped local environment left something behind:
// control-plane or dockerd processes, labelled containers or volumes, mounts
// under the cache or run dir, or dockyard-* network namespaces.
// Usage: npx tsx scripts/check-leaks.ts
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import Dockerode from 'dockerode';
import { cacheDir } from '../src/localenv/cache.js';
import { run } from '../src/localenv/exec.js';
import { LOCALENV_LABEL, hostDockerPaths, parseMountInfo } from '../src/localenv/host-docker.js';

export interface ProcessInfo {
  pid: number;
  /** /proc/PID/comm: the executable name, cut to 15 characters by the kernel. */
  name: string;
  /** argv joined with spaces. */
  cmdline: string;
}

export interface DaemonObjects {
  /** How the daemon was reached (DOCKER_HOST-style URL). */
  daemon: string;
  containers: { id: string; name: string }[];
  volumes: string[];
}

export interface LeakInputs {
  processes: ProcessInfo[];
  mountPoints: string[];
  netns: string[];
  daemons: DaemonObjects[];
}

export interface LeakRoots {
  cacheDir: string;
  runDir: string;
  dataRoot: string;
}

const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'etcd'];
/** /proc/PID/comm holds at most 15 characters: kube-controller-manager shows as "kube-controller". */
const COMM_LENGTH = 15;

function isControlPlane(p: ProcessInfo): boolean {
  const argv0 = p.cmdline.split(' ')[0]?.split('/').pop() ?? '';
  return CONTROL_PLANE.some((name) => argv0 === name || p.name === name.slice(0, COMM_LENGTH));
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root + '/');
}

/** One line per leaked thing; empty when the environment was cleaned up. */
export function findLeaks(inputs: LeakInputs, roots: LeakRoots): string[] {
  const leaks: string[] = [];
  for (const p of inputs.processes) {
    const argv0 = p.cmdline.split(' ')[0]?.split('/').pop() ?? '';
    if (isControlPlane(p)) {
      leaks.push(`process ${p.pid} (${p.name}): ${p.cmdline}`);
    } else if ((p.name === 'dockerd' || argv0 === 'dockerd') && p.cmdline.includes(roots.dataRoot)) {
      leaks.push(`dockerd ${p.pid} on the dockyard data root: ${p.cmdline}`);
    } else if (p.name.startsWith('containerd') && p.cmdline.includes(roots.runDir + '/')) {
      leaks.push(`process ${p.pid} (${p.name}) under ${roots.runDir}: ${p.cmdline}`);
    }
  }
  for (const d of inputs.daemons) {
    for (const c of d.containers) leaks.push(`container ${c.name} (${c.id.slice(0, 12)}) on ${d.daemon}`);
    for (const v of d.volumes) leaks.push(`volume ${v} on ${d.daemon}`);
  }
  for (const mp of new Set(inputs.mountPoints)) {
    if (under(mp, roots.cacheDir) || under(mp, roots.runDir)) leaks.push(`mount ${mp}`);
  }
  for (const ns of inputs.netns) {
    if (ns.startsWith('dockyard-')) leaks.push(`network namespace ${ns}`);
  }
  return leaks;
}

/** Names from `ip netns list` ("NAME" or "NAME (id: N)" per line). */
export function parseNetnsList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

// --- I/O -------------------------------------------------------------------

function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      out.push({ pid: Number(entry), name, cmdline });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

async function listNetns(): Promise<string[]> {
  try {
    return parseNetnsList((await run('ip', ['netns', 'list'])).stdout);
  } catch {
    return []; // no iproute2, or no /run/netns: nothing to leak
  }
}

/** Labelled objects on every daemon we can reach: DOCKER_HOST, the default socket, and ours. */
async function listDaemonObjects(): Promise<DaemonObjects[]> {
  const hosts = new Set(
    [process.env.DOCKER_HOST, 'unix:///var/run/docker.sock', `unix://${hostDockerPaths().socketPath}`].filter(
      (h): h is string => !!h,
    ),
  );
  const filters = JSON.stringify({ label: [`${LOCALENV_LABEL}=true`] });
  const found: DaemonObjects[] = [];
  for (const daemon of hosts) {
    const url = new URL(daemon);
    const docker = new Dockerode(
      url.protocol === 'unix:'
        ? { socketPath: url.pathname, timeout: 5_000 }
        : { host: url.hostname, port: url.port || '2375', protocol: 'http', timeout: 5_000 },
    );
    try {
      await docker.ping();
    } catch {
      continue; // not running: it holds nothing
    }
    const containers = await docker.listContainers({ all: true, filters });
    const { Volumes } = await docker.listVolumes({ filters });
    found.push({
      daemon,
      containers: containers.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, '') })),
      volumes: (Volumes ?? []).map((v) => v.Name),
    });
  }
  return found;
}

async function main(): Promise<void> {
  const paths = hostDockerPaths();
  const roots: LeakRoots = { cacheDir: cacheDir(), runDir: paths.runDir, dataRoot: paths.dataRoot };
  const leaks = findLeaks(
    {
      processes: listProcesses().filter((p) => p.pid !== process.pid),
      mountPoints: parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')),
      netns: await listNetns(),
      daemons: await listDaemonObjects(),
    },
    roots,
  );
  if (leaks.length > 0) {
    console.error(`check-leaks: ${leaks.length} leftover(s) from the local environment:`);
    for (const leak of leaks) console.error(`  - ${leak}`);
    process.exit(1);
  }
  console.log('check-leaks: nothing left behind');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`check-leaks failed: ${(err as Error).message}`);
    process.exit(2);
  });
}
