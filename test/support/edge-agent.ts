// `dockyard agent` inside an unreachable lab node (no published port, dockerd
// on its unix socket only): the agent runs from this checkout, bind-mounted
// read-only with the Node binary that runs the tests, and dials out to the
// controller in the test process over the lab network's gateway.

import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Secret } from '@kubernetes/client-node';
import type { StartedNetwork } from 'testcontainers';
import type Dockerode from 'dockerode';
import type { DockerNode } from '../../src/localenv/docker-node.js';
import type { AgentEndpointSettings } from '../../src/managed/controller-deps.js';
import { freePort, waitFor } from '../../src/localenv/process.js';
import { condition, isReady, LAB_POLICY_SETTINGS, type DockyardObject, type Kube } from './kube.js';
import type { Lab } from './lab.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IN_NODE = { repo: '/opt/dockyard', node: '/opt/node/bin/node' } as const;
const BOOTSTRAP = '/etc/dockyard-agent/bootstrap.json';
const PID_FILE = '/run/dockyard-agent.pid';
export const AGENT_LOG = '/var/log/dockyard-agent.log';

/** Libraries the Node binary links that the node image (Debian minbase) lacks. */
const MISSING_LIBRARIES = ['libatomic.so.1'];

/** What an unreachable node mounts so it can run the agent: this checkout, Node and the libraries it lacks. */
export function agentMounts(): Array<{ source: string; target: string }> {
  const node = realpathSync(process.execPath);
  const linked = execFileSync('ldd', [node], { encoding: 'utf8' });
  const libraries = MISSING_LIBRARIES.map((lib) => {
    const path = new RegExp(`${lib.replace(/\./g, '\\.')} => (\\S+)`).exec(linked)?.[1];
    if (!path) throw new Error(`${node} does not link ${lib} where ldd can see it:\n${linked}`);
    return { source: realpathSync(path), target: `/usr/lib/x86_64-linux-gnu/${lib}` };
  });
  return [{ source: REPO, target: IN_NODE.repo }, { source: node, target: IN_NODE.node }, ...libraries];
}

/** The lab network's gateway: the address nodes reach the test process at. */
export async function labGateway(hostDocker: Dockerode, network: StartedNetwork): Promise<string> {
  const info = (await hostDocker.getNetwork(network.getId()).inspect()) as {
    IPAM?: { Config?: Array<{ Gateway?: string }> };
  };
  const gateway = info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
  if (!gateway) throw new Error(`network ${network.getName()} reports no gateway`);
  return gateway;
}

/** Endpoint settings for a controller in the test process that lab nodes dial at the gateway. */
export async function agentEndpointFor(opts: {
  gateway: string;
  namespace: string;
  certValiditySeconds?: number;
}): Promise<AgentEndpointSettings> {
  const port = await freePort();
  return {
    bind: { host: opts.gateway, port },
    advertise: `${opts.gateway}:${port}`,
    serverNames: [opts.gateway],
    namespace: opts.namespace,
    socketDir: await mkdtemp(join(tmpdir(), 'dockyard-agents-')),
    certValiditySeconds: opts.certValiditySeconds ?? 3600,
    tokenTtlMs: 3_600_000,
  };
}

/** The `dockyard controller` flags that serve edge agents with these settings (a controller run as a process). */
export function agentEndpointArgs(settings: AgentEndpointSettings): string[] {
  return [
    `--agent-bind-address=${settings.bind.host}:${settings.bind.port}`,
    `--agent-advertise-address=${settings.advertise}`,
    ...settings.serverNames.map((n) => `--agent-server-name=${n}`),
    `--agent-namespace=${settings.namespace}`,
    `--agent-socket-dir=${settings.socketDir}`,
  ];
}

async function sh(node: DockerNode, script: string): Promise<string> {
  const { exitCode, output } = await node.exec(['sh', '-c', script]);
  if (exitCode !== 0) throw new Error(`node ${node.name}: \`${script}\` exited ${exitCode}: ${output}`);
  return output;
}

/** Copies the bootstrap Secret into the node, as `kubectl get secret -o json` would save it. */
export async function handOverBootstrap(node: DockerNode, secret: V1Secret): Promise<void> {
  const json = Buffer.from(JSON.stringify(secret)).toString('base64');
  await sh(node, `mkdir -p ${dirname(BOOTSTRAP)} && echo ${json} | base64 -d > ${BOOTSTRAP}`);
}

/** Starts the agent in the background inside the node. */
export async function startAgentInNode(
  node: DockerNode,
  opts: { keepalive?: string; built?: boolean } = {},
): Promise<void> {
  // built: the compiled dist/main.js, as deployed (the benchmark's CPU and memory figures).
  const entry = opts.built ? `${IN_NODE.repo}/dist/main.js` : `--import tsx ${IN_NODE.repo}/src/main.ts`;
  const args = [
    `${IN_NODE.node} ${entry} agent`,
    `--bootstrap ${BOOTSTRAP}`,
    '--state-dir /var/lib/dockyard-agent',
    '--docker-socket /var/run/docker.sock',
    `--keepalive ${opts.keepalive ?? '2s'}`,
    '--log-level debug --log-format json',
  ].join(' ');
  await sh(node, `cd ${IN_NODE.repo} && (nohup ${args} >> ${AGENT_LOG} 2>&1 & echo $! > ${PID_FILE})`);
}

/** Stops the agent (SIGTERM: it closes its tunnel; SIGKILL: it just dies, as on a power cut). */
export async function stopAgentInNode(node: DockerNode, signal: 'TERM' | 'KILL' = 'TERM'): Promise<void> {
  await sh(node, `kill -${signal} $(cat ${PID_FILE}) 2>/dev/null; rm -f ${PID_FILE}; true`);
}

/** The agent process's CPU time so far (user + system, in clock ticks of 1/100 s) and its RSS. */
export async function agentUsage(node: DockerNode): Promise<{ cpuTicks: number; rssBytes: number }> {
  const out = await sh(
    node,
    `p=$(cat ${PID_FILE}) && cut -d' ' -f14,15 /proc/$p/stat && grep VmRSS /proc/$p/status`,
  );
  const [times = '', rss = ''] = out.trim().split('\n');
  const [user = 0, system = 0] = times.split(' ').map(Number);
  return { cpuTicks: user + system, rssBytes: Number(/(\d+)/.exec(rss)?.[1] ?? 0) * 1024 };
}

export async function agentLog(node: DockerNode): Promise<string> {
  return sh(node, `cat ${AGENT_LOG} 2>/dev/null || true`);
}

/** Drops the node's packets to the controller (and so the answers): a NAT that lost the flow. */
export async function cutLink(node: DockerNode, endpoint: AgentEndpointSettings): Promise<void> {
  await sh(node, `iptables -I OUTPUT -d ${endpoint.bind.host} -p tcp --dport ${endpoint.bind.port} -j DROP`);
}

export async function restoreLink(node: DockerNode, endpoint: AgentEndpointSettings): Promise<void> {
  await sh(node, `iptables -D OUTPUT -d ${endpoint.bind.host} -p tcp --dport ${endpoint.bind.port} -j DROP`);
}

/** `docker …` inside the node, against its own daemon (out of band: not through Dockyard). */
export async function dockerInNode(node: DockerNode, args: string): Promise<string> {
  return sh(node, `docker ${args}`);
}

/**
 * Registers an unreachable node as a DockerHost with spec.agent, hands its
 * bootstrap Secret to the node and starts the agent there; resolves once the
 * host is Ready through the tunnel.
 */
export async function registerAgentHost(opts: {
  kube: Kube;
  node: DockerNode;
  endpoint: AgentEndpointSettings;
  labels?: Record<string, string>;
  keepalive?: string;
}): Promise<DockyardObject> {
  const { kube, node, endpoint } = opts;
  await kube.create(
    'DockerHost',
    undefined,
    node.name,
    { agent: {}, heartbeatIntervalSeconds: 2, securityPolicySettings: LAB_POLICY_SETTINGS },
    { labels: { 'dockyard.io/test-node': node.name, ...(opts.labels ?? {}) } },
  );
  const secret = await bootstrapSecret(kube, endpoint, node.name);
  await handOverBootstrap(node, secret);
  await startAgentInNode(node, opts.keepalive ? { keepalive: opts.keepalive } : {});
  try {
    return await kube.waitFor('DockerHost', undefined, node.name, isReady, 'Ready through its agent', 60_000);
  } catch (err) {
    const status = JSON.stringify((await kube.get('DockerHost', undefined, node.name))?.status);
    const log = (await agentLog(node)).split('\n').slice(-30).join('\n');
    throw new Error(`${(err as Error).message}\nhost status: ${status}\nagent log:\n${log}`, { cause: err });
  }
}

/** Waits until DockerHost `name` reads Ready=`status` with `reason` (e.g. False, AgentDisconnected). */
export async function waitHostReason(
  kube: Kube,
  host: { name: string; status: 'True' | 'False' | 'Unknown'; reason: string },
  timeoutMs = 30_000,
): Promise<DockyardObject> {
  const { name, status, reason } = host;
  return kube.waitFor(
    'DockerHost',
    undefined,
    name,
    (h) => condition(h, 'Ready')?.status === status && condition(h, 'Ready')?.reason === reason,
    `Ready=${status} (${reason})`,
    timeoutMs,
  );
}

/** The host's bootstrap Secret once the controller made it (for the given credential generation). */
export async function bootstrapSecret(
  kube: Kube,
  endpoint: AgentEndpointSettings,
  hostName: string,
  generation = 0,
): Promise<V1Secret> {
  return waitFor(
    async () => {
      const secret = await kube.core
        .readNamespacedSecret({ name: `dockyard-agent-${hostName}`, namespace: endpoint.namespace })
        .catch(() => undefined);
      return secret?.metadata?.annotations?.['dockyard.io/credential-generation'] === String(generation)
        ? secret
        : undefined;
    },
    {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `bootstrap Secret of ${hostName} (generation ${generation})`,
    },
  );
}

/** Every unreachable lab node as an agent-connected DockerHost (in parallel), each reached through its tunnel. */
export async function registerAgentHosts(opts: {
  kube: Kube;
  lab: Lab;
  endpoint: AgentEndpointSettings;
  labels: Record<string, Record<string, string>>;
}): Promise<void> {
  const nodes = [...opts.lab.nodes.values()].filter((node) => node.unreachable);
  await Promise.all(
    nodes.map((node) =>
      registerAgentHost({
        kube: opts.kube,
        node,
        endpoint: opts.endpoint,
        labels: opts.labels[node.name] ?? {},
      }),
    ),
  );
  for (const node of nodes) node.reachThrough(`${opts.endpoint.socketDir}/${node.name}.sock`);
}

/**
 * What a Kubernetes Service does in front of sharded replicas' agent
 * endpoints, for replicas in the test process: one address the agents dial,
 * each new connection relayed to one of the current backends at random
 * (kube-proxy picks an endpoint per connection), a backend removed as its
 * pod's endpoint would be. TLS passes through untouched.
 */
export interface AgentService {
  /** host:port the agents dial (advertised in their bootstrap Secrets). */
  advertise: string;
  /** One more replica behind the Service: its own port and socket directory, the Service's address advertised. */
  addReplica(): Promise<AgentEndpointSettings>;
  removeReplica(settings: AgentEndpointSettings): void;
  stop(): Promise<void>;
}

export async function startAgentService(opts: { gateway: string; namespace: string }): Promise<AgentService> {
  const backends: number[] = [];
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const port = backends[Math.floor(Math.random() * backends.length)];
    if (port === undefined) return void client.destroy();
    const upstream = connect(port, opts.gateway);
    for (const socket of [client, upstream]) {
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, opts.gateway, resolve));
  const advertise = `${opts.gateway}:${port}`;
  const dirs: string[] = [];
  return {
    advertise,
    addReplica: async () => {
      const settings = await agentEndpointFor(opts);
      dirs.push(settings.socketDir);
      backends.push(settings.bind.port);
      return { ...settings, advertise };
    },
    removeReplica: (settings) => {
      const i = backends.indexOf(settings.bind.port);
      if (i >= 0) backends.splice(i, 1);
    },
    stop: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
