import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import type { AgentEndpointSettings } from '../../src/managed/controller-deps.js';
import { waitFor } from '../../src/localenv/process.js';
import { shardOf } from '../../src/runtime/shards.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { shardReplica, startDockyard, type RunningDockyard } from '../support/dockyard.js';
import {
  dockerInNode,
  labGateway,
  registerAgentHost,
  startAgentService,
  type AgentService,
} from '../support/edge-agent.js';
import { isReady, Kube } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';
import { bothOrNeither } from '../support/both-or-neither.js';

// Sharded replicas serving edge agents (#21): two replicas (`--leader-elect
// --shards=2 --agent-bind-address=…`) behind one Service address, and two
// edge boxes with no published port whose names fall in different shards.
// Every agent dials the Service; a replica admits only the tunnels of its own
// shards' hosts, so each host ends up reached through the replica holding
// it, and the other replica never has it. When one replica stops, the other
// takes its shard, the orphaned agent redials through the Service until it
// reaches the new holder, and what ran on that box is left as it was.

const NS = 'shard-agents';
const SHARDS = 2;
const NODES = ['n1', 'n2'] as const;
const replica = (identity: string) => shardReplica(identity, { shards: SHARDS, namespace: NS });

interface Replica {
  name: string;
  endpoint: AgentEndpointSettings;
  dockyard: RunningDockyard;
}

let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
let service: AgentService;
const replicas: Replica[] = [];

async function startReplica(name: string): Promise<Replica> {
  const endpoint = await service.addReplica();
  const dockyard = await startDockyard(cp, {
    replica: replica(name),
    agentEndpoint: endpoint,
    maxConcurrentReconciles: 4,
  });
  const started = { name, endpoint, dockyard };
  replicas.push(started);
  return started;
}

const held = (r: Replica) => r.dockyard.shards?.heldShards() ?? [];
const holderOf = (host: string) => replicas.find((r) => held(r).includes(shardOf(host, SHARDS)));
const connected = (r: Replica, host: string) =>
  r.dockyard.controllers.hostRuntime.connection(host) !== undefined;

/** Tests reach an edge box's daemon the way the controller holding it does: through that replica's tunnel socket. */
function reachThroughHolder(host: string): void {
  const holder = holderOf(host);
  if (!holder) throw new Error(`no replica holds the shard of ${host}`);
  lab.node(host).reachThrough(`${holder.endpoint.socketDir}/${host}.sock`);
}

/** `name, id` of the containers called `name` on the box, read inside it (not through any replica). */
async function containersNamed(host: string, name: string): Promise<string[]> {
  const out = await dockerInNode(lab.node(host), `ps -aq --no-trunc --filter name=^/${name}$`);
  return out.trim().split('\n').filter(Boolean);
}

beforeAll(
  async () => {
    [cp, lab] = await bothOrNeither(
      startControlPlane(),
      startLab({ nodes: NODES.map((name) => ({ name })), allUnreachable: true }),
    );
    kube = new Kube(cp);
    await kube.namespace(NS);
    service = await startAgentService({
      gateway: await labGateway(lab.hostDocker, lab.network),
      namespace: NS,
    });
    await startReplica('a');
    await startReplica('b');
  },
  CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS + 120_000,
);

afterAll(async () => {
  for (const r of replicas) await r.dockyard.stop();
  await service?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

describe('sharded replicas serving edge agents', () => {
  it('reaches each edge box through the replica holding its shard only, all agents dialling one address', async () => {
    expect(shardOf('n1', SHARDS)).not.toBe(shardOf('n2', SHARDS));
    await waitFor(async () => (replicas.every((r) => held(r).length === 1) ? true : undefined), {
      timeoutMs: 30_000,
      what: 'one shard each',
    });
    await Promise.all(
      NODES.map((host) =>
        registerAgentHost({
          kube,
          node: lab.node(host),
          endpoint: replicas[0]!.endpoint,
          labels: { fleet: 'edge' },
        }),
      ),
    );
    for (const host of NODES) {
      const holder = holderOf(host)!;
      const other = replicas.find((r) => r !== holder)!;
      expect(connected(holder, host), `${holder.name} reaches ${host}`).toBe(true);
      expect(connected(other, host), `${other.name} does not reach ${host}`).toBe(false);
      const status = (await kube.get('DockerHost', undefined, host))?.status as {
        agent?: { connected?: boolean };
      };
      expect(status.agent?.connected).toBe(true);
      reachThroughHolder(host);
      await lab.node(host).loadImage(lab.hostDocker, lab.workloadImage);
    }
  });

  it('runs a container on each box, once, each through its own replica', async () => {
    for (const host of NODES)
      await kube.create('DockerContainer', NS, `sensor-${host}`, {
        hostName: host,
        image: lab.workloadImage,
        command: ['sleep', '3600'],
        stopGracePeriod: '1s',
      });
    for (const host of NODES) {
      await kube.waitFor('DockerContainer', NS, `sensor-${host}`, isReady, 'Ready');
      expect(await containersNamed(host, `${NS}.sensor-${host}`)).toHaveLength(1);
    }
  });

  it("moves a stopped replica's edge box to the other: its agent redials through the Service, the box's container untouched", async () => {
    const leaving = replicas.find((r) => r.name === 'b')!;
    const staying = replicas.find((r) => r.name === 'a')!;
    const [host] = NODES.filter((h) => holderOf(h) === leaving);
    if (!host) throw new Error('replica b holds no edge box');
    const [before] = await containersNamed(host, `${NS}.sensor-${host}`);
    service.removeReplica(leaving.endpoint); // its pod's endpoint leaves the Service
    await leaving.dockyard.stop();
    replicas.splice(replicas.indexOf(leaving), 1);
    await waitFor(async () => (held(staying).length === SHARDS ? true : undefined), {
      timeoutMs: 30_000,
      what: 'replica a holds both shards',
    });
    await waitFor(async () => (connected(staying, host) ? true : undefined), {
      timeoutMs: 60_000,
      what: `${host}'s agent reaching replica a`,
    });
    await kube.waitFor('DockerHost', undefined, host, isReady, 'Ready through replica a', 60_000);
    reachThroughHolder(host);
    expect(await containersNamed(host, `${NS}.sensor-${host}`)).toEqual([before]);
    await kube.create('DockerContainer', NS, `late-${host}`, {
      hostName: host,
      image: lab.workloadImage,
      command: ['sleep', '3600'],
      stopGracePeriod: '1s',
    });
    await kube.waitFor('DockerContainer', NS, `late-${host}`, isReady, 'Ready');
    expect(await containersNamed(host, `${NS}.late-${host}`)).toHaveLength(1);
  });
});
