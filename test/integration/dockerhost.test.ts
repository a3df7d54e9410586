import { CoreV1Api, CustomObjectsApi, EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerHost } from '../../src/crds/dockerhost.js';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { createCA, createCert } from '../../src/localenv/tls.js';
import { waitFor } from '../../src/localenv/process.js';
import { run } from '../../src/localenv/exec.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';
import { bothOrNeither } from '../support/both-or-neither.js';

// The DockerHost controller against the real control plane and real Docker
// nodes: one plain-TCP node, one mutual-TLS node (certificates from a Secret),
// and an endpoint where nothing listens.

let cp: ControlPlane;
let lab: Lab;
let dockyard: RunningDockyard;
let api: CustomObjectsApi;
let core: CoreV1Api;
const HEARTBEAT_SECONDS = 2;
const SECRETS_NS = 'dockyard-system';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function createHost(name: string, spec: Record<string, unknown>): Promise<void> {
  await api.createClusterCustomObject({
    group: 'dockyard.io',
    version: 'v1alpha1',
    plural: 'dockerhosts',
    body: {
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'DockerHost',
      metadata: { name },
      spec: { heartbeatIntervalSeconds: HEARTBEAT_SECONDS, ...spec },
    },
  });
}

async function getHost(name: string): Promise<DockerHost> {
  return (await api.getClusterCustomObject({
    group: 'dockyard.io',
    version: 'v1alpha1',
    plural: 'dockerhosts',
    name,
  })) as DockerHost;
}

function ready(host: DockerHost) {
  return host.status?.conditions?.find((c) => c.type === 'Ready');
}

async function waitForReady(
  name: string,
  status: 'True' | 'False',
  reason?: string,
  timeoutMs = 30_000,
): Promise<DockerHost> {
  return waitFor(
    async () => {
      const host = await getHost(name);
      const c = ready(host);
      return c?.status === status && (reason === undefined || c.reason === reason) ? host : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `DockerHost ${name} Ready=${status}${reason ? ` (${reason})` : ''}` },
  );
}

async function tlsSecret(name: string, tls: { ca: string; cert: string; key: string }): Promise<void> {
  await core.createNamespacedSecret({
    namespace: SECRETS_NS,
    body: {
      metadata: { name },
      type: 'kubernetes.io/tls',
      data: { 'ca.crt': b64(tls.ca), 'tls.crt': b64(tls.cert), 'tls.key': b64(tls.key) },
    },
  });
}

beforeAll(async () => {
  [cp, lab] = await bothOrNeither(
    startControlPlane(),
    startLab({ nodes: [{ name: 'plain' }, { name: 'secure', tls: true }] }),
  );
  api = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  core = cp.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: SECRETS_NS } } });
  dockyard = await startDockyard(cp);
}, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await dockyard?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

describe('DockerHost controller', () => {
  it('reports plain-TCP, mutual-TLS and unreachable hosts with accurate facts and reasons', async () => {
    const secure = lab.node('secure');
    if (!secure.tls) throw new Error('secure node has no TLS material');
    await tlsSecret('secure-tls', secure.tls);
    await createHost('plain', { endpoint: lab.node('plain').endpoint, insecure: true });
    await createHost('secure', {
      endpoint: secure.endpoint,
      tls: { secretRef: { namespace: SECRETS_NS, name: 'secure-tls' } },
    });
    await createHost('nowhere', { endpoint: 'tcp://127.0.0.1:1', insecure: true });

    const [plain, tls, nowhere] = await Promise.all([
      waitForReady('plain', 'True'),
      waitForReady('secure', 'True'),
      waitForReady('nowhere', 'False', 'Unreachable'),
    ]);
    for (const host of [plain, tls]) {
      const info = await lab.node(host.metadata.name).client().version();
      expect(host.status?.engine).toMatchObject({
        version: info.Version,
        apiVersion: info.ApiVersion,
        arch: info.Arch,
        storageDriver: 'overlay2',
      });
      expect(host.status?.engine?.cpus).toBeGreaterThan(0);
      expect(host.status?.engine?.memoryBytes).toBeGreaterThan(0);
      expect(host.status?.phase).toBe('Ready');
      expect(host.status?.lastHeartbeatTime).toBeTruthy();
      expect(host.status?.observedGeneration).toBe(host.metadata.generation);
    }
    expect(plain.status?.warnings?.[0]).toContain('spec.insecure');
    expect(nowhere.status?.phase).toBe('NotReady');
    expect(ready(nowhere)?.message).toContain('ECONNREFUSED');

    // kubectl shows the printer columns people read.
    const { stdout } = await run(cp.kubectlPath, ['--kubeconfig', cp.kubeconfigPath, 'get', 'dockerhosts']);
    expect(stdout).toMatch(/plain\s+tcp\s+tcp:\/\/127\.0\.0\.1:\d+\s+True\s+20\.10/);
    expect(stdout).toMatch(/nowhere\s+tcp\s+tcp:\/\/127\.0\.0\.1:1\s+False/);
    expect(stdout).toMatch(/^NAME\s+MODE\s+ENDPOINT\s+READY/);

    // Events: a Normal HostReady, a Warning for the unreachable host and the insecure acknowledgement.
    const events = await waitFor(
      async () => {
        const list = await cp
          .kubeConfig()
          .makeApiClient(EventsV1Api)
          .listNamespacedEvent({ namespace: 'default' });
        const reasons = list.items.map((e) => `${e.regarding?.name}/${e.type}/${e.reason}`);
        const wanted = [
          'plain/Normal/HostReady',
          'nowhere/Warning/Unreachable',
          'plain/Warning/InsecureEndpoint',
        ];
        return wanted.every((w) => reasons.includes(w)) ? reasons : undefined;
      },
      { timeoutMs: 15_000, what: 'DockerHost events' },
    );
    expect(events).toContain('secure/Normal/HostReady');
  });

  it('flips NotReady within two heartbeats when a node stops, and Ready again when it is back', async () => {
    const node = lab.node('plain');
    await node.halt();
    const stoppedAt = Date.now();
    await waitForReady('plain', 'False', undefined, 4 * HEARTBEAT_SECONDS * 1000 + 5_000);
    // Two heartbeats, plus the probe's own timeout and a status write.
    expect(Date.now() - stoppedAt).toBeLessThan(2 * HEARTBEAT_SECONDS * 1000 + 5_000);
    await node.resume();
    const back = await waitForReady('plain', 'True', 'Connected', 30_000);
    expect(back.status?.phase).toBe('Ready');
    expect(dockyard.controllers.hostRuntime.hasEventStream('plain')).toBe(true);
  });

  it('reports wrong TLS material as TLSError, and a missing Secret as SecretNotFound, without crashing', async () => {
    const secure = lab.node('secure');
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-wrong-ca-'));
    try {
      const otherCa = await createCA(dir, 'not-the-node-ca');
      const client = await createCert(dir, otherCa, {
        name: 'client',
        commonName: 'intruder',
        usage: 'client',
      });
      await tlsSecret('wrong-tls', {
        ca: readFileSync(otherCa.certPath, 'utf8'),
        cert: readFileSync(client.certPath, 'utf8'),
        key: readFileSync(client.keyPath, 'utf8'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await createHost('wrong-tls', {
      endpoint: secure.endpoint,
      tls: { secretRef: { namespace: SECRETS_NS, name: 'wrong-tls' } },
    });
    await createHost('no-secret', {
      endpoint: secure.endpoint,
      tls: { secretRef: { namespace: SECRETS_NS, name: 'absent' } },
    });
    const wrong = await waitForReady('wrong-tls', 'False', 'TLSError');
    expect(ready(wrong)?.message).toBeTruthy();
    const missing = await waitForReady('no-secret', 'False', 'SecretNotFound');
    expect(ready(missing)?.message).toContain(`${SECRETS_NS}/absent`);
    // Fixing the Secret heals the host without a restart.
    if (!secure.tls) throw new Error('secure node has no TLS material');
    await tlsSecret('absent', secure.tls);
    await waitForReady('no-secret', 'True', 'Connected');
    // The controller kept running the others meanwhile.
    expect(ready(await getHost('secure'))?.status).toBe('True');
  });

  it('verifies the daemon certificate against spec.tls.serverName', async () => {
    const secure = lab.node('secure');
    if (!secure.tls) throw new Error('secure node has no TLS material');
    await tlsSecret('server-name-tls', secure.tls);
    // The node's certificate names 127.0.0.1, localhost and the node's name:
    // the endpoint's IP alone would pass, so only a serverName check refuses.
    await createHost('server-name-wrong', {
      endpoint: secure.endpoint,
      tls: { secretRef: { namespace: SECRETS_NS, name: 'server-name-tls' }, serverName: 'not-the-daemon' },
    });
    await createHost('server-name-right', {
      endpoint: secure.endpoint,
      tls: { secretRef: { namespace: SECRETS_NS, name: 'server-name-tls' }, serverName: secure.name },
    });
    const wrong = await waitForReady('server-name-wrong', 'False', 'TLSError');
    expect(ready(wrong)?.message).toContain('not-the-daemon');
    await waitForReady('server-name-right', 'True', 'Connected');
  });

  it('exports host metrics', async () => {
    const address = dockyard.manager.metricsAddress();
    if (!address) throw new Error('metrics server not started');
    const text = await (await fetch(`http://127.0.0.1:${address.port}/metrics`)).text();
    expect(text).toMatch(/dockyard_host_up\{host="secure"\} 1/);
    expect(text).toMatch(/dockyard_host_up\{host="nowhere"\} 0/);
    expect(text).toMatch(
      /dockyard_docker_requests_total\{host="secure",operation="GET \/_ping",outcome="ok"\} [1-9]/,
    );
    expect(text).toMatch(/dockyard_docker_event_stream_connected\{host="secure"\} 1/);
  });
});
