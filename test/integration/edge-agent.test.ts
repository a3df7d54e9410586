import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Dockerode from 'dockerode';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { enroll, EnrolmentError, renew } from '../../src/agent/enrolment.js';
import { createAgentKey } from '../../src/agent/pki.js';
import { agentIdentity } from '../../src/agent/protocol.js';
import { runTunnel } from '../../src/agent/tunnel-agent.js';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import type { AgentEndpointSettings } from '../../src/managed/controller-deps.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import {
  agentEndpointFor,
  agentLog,
  bootstrapSecret,
  cutLink,
  dockerInNode,
  handOverBootstrap,
  labGateway,
  registerAgentHost,
  restoreLink,
  waitHostReason,
} from '../support/edge-agent.js';
import { condition, isReady, Kube, registerLabHosts, type DockyardObject } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';
import { labRegistry, registrySecret } from '../support/registry.js';
import { bothOrNeither } from '../support/both-or-neither.js';

// The edge agent against real parts: the controller in this process serves the
// agent endpoint on the lab network's gateway; `edge` is a Docker-in-Docker node
// with no published port whose dockerd listens on its unix socket only, and
// `dockyard agent` inside it dials out. `n1` is an ordinary node reached
// directly, so the kinds' behaviour is checked over both connections.

const NS = 'edge-apps';
const AGENT_NS = 'dockyard-system';
const HEARTBEAT_MS = 2_000;

let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
let dockyard: RunningDockyard;
let endpoint: AgentEndpointSettings;

const edge = () => lab.node('edge');
const host = (name: string) => kube.get('DockerHost', undefined, name) as Promise<DockyardObject>;
const agentStatus = (h: DockyardObject | undefined) =>
  (h?.status as { agent?: Record<string, unknown> } | undefined)?.agent ?? {};
const ref = (tag: string) => {
  const { registry, seeded } = labRegistry(lab);
  return `${registry.address}/${seeded.repository}:${tag}`;
};

/** A Docker client whose requests travel through the edge agent's tunnel (what the controller uses). */
const throughTunnel = () => new Dockerode({ socketPath: `${endpoint.socketDir}/edge.sock` });

async function enrolmentRefusal(opts: { hostName: string; token: string; caPem: string }): Promise<string> {
  const { csrPem } = await createAgentKey(opts.hostName);
  try {
    await enroll({
      endpoint: endpoint.bind,
      serverName: endpoint.serverNames[0]!,
      caPem: opts.caPem,
      hostName: opts.hostName,
      token: opts.token,
      csrPem,
    });
    return 'accepted';
  } catch (err) {
    if (err instanceof EnrolmentError) return err.reason;
    throw err;
  }
}

/** Waits for Ready, and on a timeout says what the object's status was. */
async function waitReady(kind: string, name: string, timeoutMs = 60_000): Promise<DockyardObject> {
  try {
    return await kube.waitFor(kind, NS, name, isReady, 'Ready', timeoutMs);
  } catch (err) {
    const status = JSON.stringify((await kube.get(kind, NS, name))?.status);
    throw new Error(`${(err as Error).message}\nstatus: ${status}`, { cause: err });
  }
}

/** A stand-in daemon on a local socket that answers /info with `name` (a box's agent forwards to it). */
async function fakeDaemon(name: string): Promise<{ socketPath: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-daemon-'));
  const socketPath = join(dir, 'docker.sock');
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url?.endsWith('/info') ? { Name: name } : {}));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  return { socketPath, close };
}

const secretValue = (secret: { data?: Record<string, string> }, key: string) =>
  Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

beforeAll(
  async () => {
    const [started, startedLab] = await bothOrNeither(
      startControlPlane(),
      startLab({ nodes: [{ name: 'n1' }, { name: 'edge', unreachable: true }], registry: true }),
    );
    cp = started;
    lab = startedLab;
    kube = new Kube(cp);
    endpoint = await agentEndpointFor({
      gateway: await labGateway(lab.hostDocker, lab.network),
      namespace: AGENT_NS,
    });
    dockyard = await startDockyard(cp, { syncPeriodMs: 10_000, agentEndpoint: endpoint });
    await kube.namespace(NS);
    await kube.namespace(AGENT_NS);
    await registerLabHosts(kube, lab, { n1: { site: 'lab' } });
    await registerAgentHost({ kube, node: edge(), endpoint, labels: { site: 'lab' } });
  },
  CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS + 60_000,
);

afterAll(async () => {
  if (edge() && process.env.DOCKYARD_TEST_VERBOSE) console.log(await agentLog(edge()));
  await dockyard?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
  if (endpoint) await rm(endpoint.socketDir, { recursive: true, force: true });
});

describe('enrolment', () => {
  it('reaches a node that publishes no port through the agent it runs, and says so in status', async () => {
    const node = await lab.hostDocker.getContainer(edge().containerId).inspect();
    expect(node.HostConfig.PortBindings ?? {}).toEqual({});
    expect(node.Config.Cmd).toEqual(['dockerd', '-H', 'unix:///var/run/docker.sock']);

    // The round trip is known from the first heartbeat after the tunnel came up.
    const h = await kube.waitFor(
      'DockerHost',
      undefined,
      'edge',
      (o) => agentStatus(o).roundTripMilliseconds !== undefined,
      'with a heartbeat round trip',
    );
    expect(h.status).toMatchObject({ connection: 'agent', phase: 'Ready' });
    expect(agentStatus(h)).toMatchObject({
      connected: true,
      version: '0.1.0',
      credentialsSecret: `${AGENT_NS}/dockyard-agent-edge`,
      reconnects: 0,
    });
    expect(agentStatus(h).roundTripMilliseconds).toEqual(expect.any(Number));
    expect((await host('n1')).status).toMatchObject({ connection: 'tcp' });
    // The daemon answering through the tunnel is the node's own.
    expect((await throughTunnel().info()).Name).toBe('edge');
  });

  it('refuses a used token, an expired one, a wrong one, and a host that does not use an agent', async () => {
    const secret = await bootstrapSecret(kube, endpoint, 'edge');
    const caPem = secretValue(secret, 'ca.crt');
    expect(secret.metadata?.annotations?.['dockyard.io/token-used-at']).toBeTruthy();
    const token = secretValue(secret, 'token');
    expect(await enrolmentRefusal({ hostName: 'edge', token, caPem })).toBe('TokenUsed');

    await kube.create('DockerHost', undefined, 'spare', { agent: {}, heartbeatIntervalSeconds: 2 });
    const spare = await bootstrapSecret(kube, endpoint, 'spare');
    const spareToken = secretValue(spare, 'token');
    expect(await enrolmentRefusal({ hostName: 'spare', token: token, caPem })).toBe('TokenInvalid');
    await kube.core.patchNamespacedSecret(
      {
        name: 'dockyard-agent-spare',
        namespace: AGENT_NS,
        body: { metadata: { annotations: { 'dockyard.io/token-expires-at': '2020-01-01T00:00:00Z' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(
      async () =>
        (await enrolmentRefusal({ hostName: 'spare', token: spareToken, caPem })) === 'TokenExpired',
      { timeoutMs: 10_000, what: 'the expired token to be refused' },
    );
    expect(await enrolmentRefusal({ hostName: 'n1', token: spareToken, caPem })).toBe('UnknownHost');
    await kube.delete('DockerHost', undefined, 'spare');
  });

  it("gives a certificate only for the token's host, renews it only for that host, and refuses it once the host is gone", async () => {
    await kube.create('DockerHost', undefined, 'other', { agent: {}, heartbeatIntervalSeconds: 2 });
    const secret = await bootstrapSecret(kube, endpoint, 'other');
    const caPem = secretValue(secret, 'ca.crt');
    // The CSR asks to be edge; the certificate speaks for the token's host whatever the CSR says.
    const key = await createAgentKey('edge');
    const issued = await enroll({
      endpoint: endpoint.bind,
      serverName: endpoint.serverNames[0]!,
      caPem,
      hostName: 'other',
      token: secretValue(secret, 'token'),
      csrPem: key.csrPem,
    });
    expect(agentIdentity(new X509Certificate(issued.certPem))?.hostName).toBe('other');
    const renewKey = await createAgentKey('edge');
    const renewed = await renew({
      endpoint: endpoint.bind,
      serverName: endpoint.serverNames[0]!,
      caPem,
      certPem: issued.certPem,
      keyPem: key.keyPem,
      csrPem: renewKey.csrPem,
    });
    expect(agentIdentity(new X509Certificate(renewed.certPem))?.hostName).toBe('other');

    // A box holding other's certificate dials in: its tunnel is other's socket, never edge's.
    const impostor = await fakeDaemon('impostor');
    const tunnel = runTunnel({
      endpoint: endpoint.bind,
      serverName: endpoint.serverNames[0]!,
      caPem,
      credentials: () => ({ certPem: renewed.certPem, keyPem: renewKey.keyPem }),
      dockerSocketPath: impostor.socketPath,
      info: () => ({ version: 'impostor', hostName: 'edge', startedAt: new Date().toISOString() }),
    });
    try {
      await waitFor(async () => tunnel.connected(), { timeoutMs: 20_000, what: "other's tunnel" });
      const otherSocket = new Dockerode({ socketPath: `${endpoint.socketDir}/other.sock` });
      expect((await otherSocket.info()).Name).toBe('impostor');
      expect((await throughTunnel().info()).Name).toBe('edge');
      expect(agentStatus(await host('edge'))).toMatchObject({
        connected: true,
        version: '0.1.0',
        reconnects: 0,
      });
    } finally {
      await tunnel.close();
      await impostor.close();
    }

    // Once its DockerHost is gone, the certificate is refused outright.
    await kube.delete('DockerHost', undefined, 'other');
    await kube.waitForGone('DockerHost', undefined, 'other');
    const refused = await renew({
      endpoint: endpoint.bind,
      serverName: endpoint.serverNames[0]!,
      caPem,
      certPem: renewed.certPem,
      keyPem: renewKey.keyPem,
      csrPem: (await createAgentKey('other')).csrPem,
    }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(EnrolmentError);
    expect((refused as EnrolmentError).status).toBe(401);
  });
});

describe('disconnected', () => {
  it('keeps containers running, says their state is unknown, and repairs them locally until it is back', async () => {
    await registrySecret(kube, {
      namespace: NS,
      name: 'regcred',
      registry: labRegistry(lab).registry,
      form: 'auth',
    });
    await kube.create('DockerImage', NS, 'edge-image', {
      hostName: 'edge',
      image: ref('1.36'),
      pullSecrets: [{ name: 'regcred' }],
    });
    await waitReady('DockerImage', 'edge-image');
    await kube.create('DockerContainer', NS, 'sensor', {
      hostName: 'edge',
      imageRef: { name: 'edge-image' },
      command: ['sleep', '3600'],
      restartPolicy: { name: 'unless-stopped' },
    });
    await waitReady('DockerContainer', 'sensor');
    const dockerName = `${NS}.sensor`;
    const before = await throughTunnel().getContainer(dockerName).inspect();

    const cutAt = Date.now();
    await cutLink(edge(), endpoint);
    const down = await waitHostReason(
      kube,
      { name: 'edge', status: 'False', reason: 'AgentDisconnected' },
      3 * HEARTBEAT_MS + 5_000,
    );
    const noticedMs = Date.now() - cutAt;
    const lastSeen = agentStatus(down).lastSeenTime as string;
    expect(Date.parse(lastSeen)).toBeLessThanOrEqual(Date.now());
    // The container may first say "state unknown" without a time (its Docker call failed
    // before the host's heartbeat recorded the disconnection); then it names the host's last-seen time.
    const unknown = await kube.waitFor(
      'DockerContainer',
      NS,
      'sensor',
      (c) =>
        condition(c, 'Ready')?.status === 'Unknown' &&
        condition(c, 'Ready')?.reason === 'AgentDisconnected' &&
        (condition(c, 'Ready')?.message ?? '').includes(lastSeen),
      `Ready=Unknown (AgentDisconnected), unknown since ${lastSeen}`,
    );
    expect(condition(unknown, 'Ready')?.message).toBe(
      `edge: the agent is disconnected: state unknown since ${lastSeen}`,
    );
    // Nothing was stopped because the controller went away.
    expect(await dockerInNode(edge(), `inspect -f '{{.State.Running}} {{.Id}}' ${dockerName}`)).toBe(
      `true ${before.Id}\n`,
    );

    // Out of band, while the controller cannot see: the agent restores it from the last desired state.
    await dockerInNode(edge(), `rm -f ${dockerName}`);
    const restored = await waitFor(
      async () => {
        const out = await dockerInNode(
          edge(),
          `ps --filter name=^/${dockerName}$ --format '{{.ID}} {{.State}}'`,
        );
        return out.includes('running') ? out.split(' ')[0] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the agent to restore the removed container' },
    );

    await restoreLink(edge(), endpoint);
    await kube.waitFor('DockerHost', undefined, 'edge', isReady, 'Ready again', 60_000);
    await kube.waitFor('DockerContainer', NS, 'sensor', isReady, 'Ready again', 60_000);
    const after = await throughTunnel().getContainer(dockerName).inspect();
    // The controller found the restored container right: nothing recreated or restarted.
    expect(after.Id.startsWith(restored!)).toBe(true);
    const restoredStart = after.State.StartedAt;
    await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS));
    const settled = await throughTunnel().getContainer(dockerName).inspect();
    expect({ id: settled.Id, startedAt: settled.State.StartedAt }).toEqual({
      id: after.Id,
      startedAt: restoredStart,
    });
    expect(agentStatus(await host('edge')).reconnects).toBeGreaterThanOrEqual(1);
    console.log(`[edge-agent] AgentDisconnected noticed ${noticedMs} ms after the link was cut`);
  });
});

describe('credentials', () => {
  it('rotating credentialGeneration disconnects the agent within a heartbeat; it enrols again with the new Secret', async () => {
    const old = await bootstrapSecret(kube, endpoint, 'edge');
    const rotatedAt = Date.now();
    await kube.patch('DockerHost', undefined, 'edge', { spec: { agent: { credentialGeneration: 1 } } });
    const fresh = await bootstrapSecret(kube, endpoint, 'edge', 1);
    expect(secretValue(fresh, 'token')).not.toBe(secretValue(old, 'token'));
    await waitHostReason(
      kube,
      { name: 'edge', status: 'False', reason: 'AgentDisconnected' },
      2 * HEARTBEAT_MS + 5_000,
    );
    const disconnectedMs = Date.now() - rotatedAt;
    await handOverBootstrap(edge(), fresh);
    await kube.waitFor('DockerHost', undefined, 'edge', isReady, 'Ready with new credentials', 90_000);
    console.log(`[edge-agent] rotation disconnected the agent in ${disconnectedMs} ms`);
  });

  it('deleting the Secret revokes the certificate within a heartbeat; the controller issues a new one', async () => {
    const old = await bootstrapSecret(kube, endpoint, 'edge', 1);
    const deletedAt = Date.now();
    await kube.core.deleteNamespacedSecret({ name: 'dockyard-agent-edge', namespace: AGENT_NS });
    await waitHostReason(
      kube,
      { name: 'edge', status: 'False', reason: 'AgentDisconnected' },
      2 * HEARTBEAT_MS + 5_000,
    );
    const revokedMs = Date.now() - deletedAt;
    const fresh = await waitFor(
      async () => {
        const s = await bootstrapSecret(kube, endpoint, 'edge', 1);
        return s.metadata?.uid !== old.metadata?.uid ? s : undefined;
      },
      { timeoutMs: 30_000, what: 'a new bootstrap Secret' },
    );
    await handOverBootstrap(edge(), fresh);
    await kube.waitFor('DockerHost', undefined, 'edge', isReady, 'Ready after re-enrolment', 90_000);
    console.log(`[edge-agent] deleting the Secret disconnected the agent in ${revokedMs} ms`);
  });
});

describe.each([
  ['direct', 'n1'],
  ['agent', 'edge'],
])('the kinds over a %s connection', (_mode, hostName) => {
  it('images, networks, volumes and containers converge, drift is repaired from events, deletion cleans up', async () => {
    const p = `k-${hostName}`;
    await kube.core.readNamespacedSecret({ name: 'regcred', namespace: NS }).catch(() =>
      registrySecret(kube, {
        namespace: NS,
        name: 'regcred',
        registry: labRegistry(lab).registry,
        form: 'auth',
      }),
    );
    await kube.create('DockerImage', NS, `${p}-img`, {
      hostName,
      image: ref('1.36-alt'),
      pullSecrets: [{ name: 'regcred' }],
      deletionPolicy: 'Delete',
    });
    await kube.create('DockerNetwork', NS, `${p}-net`, { hostName, deletionPolicy: 'Delete' });
    await kube.create('DockerVolume', NS, `${p}-vol`, { hostName, deletionPolicy: 'Delete' });
    await waitReady('DockerImage', `${p}-img`);
    await kube.create('DockerContainer', NS, `${p}-app`, {
      hostName,
      imageRef: { name: `${p}-img` },
      command: ['sh', '-c', 'echo up > /data/up; sleep 3600'],
      networks: [{ name: `${p}-net`, aliases: ['app'] }],
      mounts: [{ type: 'volume', volume: `${p}-vol`, target: '/data' }],
    });
    for (const [kind, name] of [
      ['DockerNetwork', `${p}-net`],
      ['DockerVolume', `${p}-vol`],
      ['DockerContainer', `${p}-app`],
    ] as const)
      await waitReady(kind, name);

    const docker = hostName === 'edge' ? throughTunnel() : lab.node(hostName).client();
    const dockerName = `${NS}.${p}-app`;
    const first = await docker.getContainer(dockerName).inspect();
    expect(Object.keys(first.NetworkSettings.Networks)).toContain(`${NS}.${p}-net`);
    // Stopped behind Dockyard's back: the event stream (through the tunnel for edge) brings it back.
    await docker.getContainer(dockerName).stop({ t: 1 });
    await waitFor(async () => (await docker.getContainer(dockerName).inspect()).State.Running, {
      timeoutMs: 30_000,
      intervalMs: 300,
      what: `${dockerName} on ${hostName} to be started again`,
    });

    for (const [kind, name] of [
      ['DockerContainer', `${p}-app`],
      ['DockerNetwork', `${p}-net`],
      ['DockerVolume', `${p}-vol`],
      ['DockerImage', `${p}-img`],
    ] as const) {
      await kube.delete(kind, NS, name);
      await kube.waitForGone(kind, NS, name, 60_000);
    }
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`dockyard.io/namespace=${NS}`, `dockyard.io/name=${p}-app`] },
    });
    expect(left).toEqual([]);
    const volumes = (await docker.listVolumes()).Volumes ?? [];
    expect(volumes.map((v) => v.Name)).not.toContain(`${NS}.${p}-vol`);
  });
});
