import { ApiException, EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import {
  compliant,
  HOST_SETTINGS,
  POLICY_ESCAPES,
  SCHEMA_ESCAPES,
  type PolicyEscape,
} from '../../src/policy/policy-escapes.fixture.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { condition, isReady, Kube, registerLabHosts, type DockyardObject } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';
import { bothOrNeither } from '../support/both-or-neither.js';

// Policy escapes through the real API server and the in-process controllers,
// on two real Docker nodes: `base` (securityPolicy baseline) and `strict`
// (restricted), both with the fixture's HOST_SETTINGS (a host-port range and
// a subnet range opened, memory and pids limits required). A representative
// subset of the table in
// src/policy/policy-escapes.fixture.ts (the unit test runs all of it):
// - escapes the API can express end Ready=False / Stalled with reason
//   PolicyViolation naming the field, with a Warning Event, and nothing
//   carrying Dockyard's labels for them exists on the node;
// - escapes the API cannot express (container:<id> modes, references into
//   another namespace, `..` paths) are refused by the API server itself with
//   a message naming the field: the stronger refusal, nothing is ever stored.
// The tcp://-without-TLS DockerHost refusal and its InsecureEndpoint Warning
// are covered by test/integration/crds.test.ts ("tcp without tls") and
// test/integration/dockerhost.test.ts.

let cp: ControlPlane;
let lab: Lab;
let dockyard: RunningDockyard;
let kube: Kube;
const NS = 'escapes';
const HOSTS = { base: 'baseline', strict: 'restricted' } as const;
type HostName = keyof typeof HOSTS;

/** The subset run here, by fixture name: at least one of every kind of escape. */
const SUBSET = [
  'privileged',
  'host network',
  'host PID',
  'bind mount of /',
  'bind mount of the Docker socket',
  'device',
  'capability SYS_ADMIN',
  'root user "00"',
  'local volume type=none,o=bind,device=/',
  'local volume on a host block device',
  // Allow-lists (issue #12 item 9): one or more of each new rule.
  'host port 80 outside the allowed range',
  'log driver "syslog"',
  'json-file max-size=10g',
  'tmpfs mount without a size (half the host memory)',
  'user "daemon" under restricted (a name can be uid 0)',
  'user "nobody" under restricted (a name can be uid 0)',
  'no memory limit on a host that requires one',
  'no pids limit on a host that requires one',
  'volume driver local-persist',
  'volume type "proc"',
  'tmpfs volume on device /dev//sda1',
  'tmpfs volume with o="bind"',
  'tmpfs volume with size=2g',
  'nfs volume on device /dev/sda1',
  'network file system nfs under restricted',
  'macvlan on a host interface',
  'bridge option com.docker.network.bridge.name=docker0',
  'subnet 10.0.0.0/8 outside the allowed range',
  'gateway outside the allowed range',
  // Builds (#20): a baseline host without allowBuilds, and any restricted host.
  'build from an inline Dockerfile without allowBuilds',
  'build secret mount without allowBuilds',
];

type Kind = 'DockerContainer' | 'DockerVolume' | 'DockerNetwork' | 'DockerBuild';

interface Attempt {
  name: string;
  host: HostName;
  kind: Kind;
  escape: PolicyEscape;
}

const kindOf = (e: PolicyEscape): Kind =>
  e.container ? 'DockerContainer' : e.volume ? 'DockerVolume' : e.build ? 'DockerBuild' : 'DockerNetwork';

/** The escape's spec on its host (a container runs the lab's image). */
function specOf(a: Attempt): Record<string, unknown> {
  const e = a.escape;
  if (e.container)
    return { ...e.container, hostName: a.host, image: lab.workloadImage, command: ['sleep', '3600'] };
  return { ...(e.volume ?? e.network ?? e.build), hostName: a.host };
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);

const attempts: Attempt[] = SUBSET.flatMap((name) => {
  const escape = POLICY_ESCAPES.find((e) => e.name === name);
  if (!escape) throw new Error(`no escape named ${name} in the fixture`);
  // Both nodes run HOST_SETTINGS; a row for another host setting belongs to the unit test only.
  if (escape.settings) throw new Error(`escape ${name} needs its own host settings`);
  return (Object.keys(HOSTS) as HostName[])
    .filter((host) => escape.policies.includes(HOSTS[host]))
    .map((host) => ({ name: `${slug(name)}-${host}`, host, kind: kindOf(escape), escape }));
});

async function dockyardObjectsOn(node: HostName): Promise<string[]> {
  const docker = lab.node(node).client();
  const filters = { label: [`dockyard.io/namespace=${NS}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  const networks = await docker.listNetworks({ filters });
  // Built images carry the owner labels too.
  const images = await docker.listImages({ filters });
  return [
    ...containers.map((c) => `container ${c.Labels['dockyard.io/name']}`),
    ...volumes.map((v) => `volume ${v.Labels['dockyard.io/name']}`),
    ...networks.map((n) => `network ${n.Labels?.['dockyard.io/name']}`),
    ...images.map((i) => `image ${i.Labels?.['dockyard.io/name']}`),
  ].sort();
}

async function warningEvents(): Promise<Array<{ name: string; reason: string; note: string }>> {
  const list = await cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items
    .filter((e) => e.type === 'Warning')
    .map((e) => ({ name: e.regarding?.name ?? '', reason: e.reason ?? '', note: e.note ?? '' }));
}

/** Creates `spec` and returns the API server's refusal message, or fails if it was accepted. */
async function refusal(kind: string, name: string, spec: Record<string, unknown>): Promise<string> {
  try {
    await kube.create(kind, NS, name, spec);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiException);
    const e = err as ApiException<unknown>;
    expect(e.code).toBe(422);
    return typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
  }
  throw new Error(`${kind} ${name} was accepted by the API server`);
}

beforeAll(async () => {
  [cp, lab] = await bothOrNeither(
    startControlPlane(),
    startLab({ nodes: [{ name: 'base' }, { name: 'strict' }] }),
  );
  await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, lab.workloadImage)));
  kube = new Kube(cp);
  dockyard = await startDockyard(cp, { syncPeriodMs: 5_000 });
  await kube.namespace(NS);
  await registerLabHosts(kube, lab);
  await kube.patch('DockerHost', undefined, 'base', { spec: { securityPolicySettings: HOST_SETTINGS } });
  await kube.patch('DockerHost', undefined, 'strict', {
    spec: { securityPolicy: 'restricted', securityPolicySettings: HOST_SETTINGS },
  });
  await kube.waitFor('DockerHost', undefined, 'base', isReady, 'Ready with the settings', 60_000);
  // Ready at the new generation: the controllers' host cache has the policy.
  await kube.waitFor('DockerHost', undefined, 'strict', isReady, 'Ready as restricted', 60_000);
}, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await dockyard?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

/** What each node holds of the compliant objects created first. */
const allowedOn = (host: HostName) => [`container allowed-${host}`, `network allowed-${host}`];

describe('security policy through the API server and the controllers', () => {
  it('runs a compliant container and network on both hosts, using the opened port and subnet ranges', async () => {
    for (const [i, host] of (Object.keys(HOSTS) as HostName[]).entries()) {
      await kube.create('DockerNetwork', NS, `allowed-${host}`, {
        hostName: host,
        ipam: { config: [{ subnet: `10.231.${i + 1}.0/24`, gateway: `10.231.${i + 1}.1` }] },
        options: { 'com.docker.network.bridge.enable_icc': 'true' },
      });
      await kube.create('DockerContainer', NS, `allowed-${host}`, {
        ...compliant,
        hostName: host,
        image: lab.workloadImage,
        command: ['sleep', '3600'],
        ports: [{ containerPort: 8080, hostPort: 18001, hostIP: '127.0.0.1' }],
        mounts: [{ type: 'tmpfs', target: '/scratch', tmpfsSize: '16Mi' }],
        logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
        security: { ...compliant.security, capAdd: ['NET_BIND_SERVICE'] },
      });
    }
    for (const host of Object.keys(HOSTS) as HostName[]) {
      await kube.waitFor('DockerNetwork', NS, `allowed-${host}`, isReady, 'Ready', 90_000);
      await kube.waitFor('DockerContainer', NS, `allowed-${host}`, isReady, 'Ready', 90_000);
      expect(await dockyardObjectsOn(host)).toEqual(allowedOn(host));
      const c = await lab.node(host).client().getContainer(`${NS}.allowed-${host}`).inspect();
      expect(c.Config.User).toBe('1000:1000');
      expect(c.HostConfig.CapDrop).toEqual(['ALL']);
      expect(c.HostConfig.PortBindings?.['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '18001' }]);
      expect(c.HostConfig.LogConfig).toEqual({
        Type: 'json-file',
        Config: { 'max-size': '10m', 'max-file': '3' },
      });
    }
  });

  it(`refuses ${attempts.length} escapes on baseline and restricted hosts: PolicyViolation, a Warning Event, nothing on the node`, async () => {
    expect(attempts.filter((a) => a.host === 'base').length).toBeGreaterThanOrEqual(25);
    expect(attempts.filter((a) => a.host === 'strict').length).toBeGreaterThanOrEqual(28);
    for (const kind of ['DockerContainer', 'DockerVolume', 'DockerNetwork'] as const) {
      expect(attempts.filter((a) => a.kind === kind).length).toBeGreaterThanOrEqual(8);
    }
    for (const a of attempts) await kube.create(a.kind, NS, a.name, specOf(a));
    for (const a of attempts) {
      const obj = await kube.waitFor(
        a.kind,
        NS,
        a.name,
        (o: DockyardObject) =>
          condition(o, 'Ready')?.reason === 'PolicyViolation' &&
          o.status?.observedGeneration === o.metadata.generation,
        'Ready=False PolicyViolation',
        60_000,
      );
      const ready = condition(obj, 'Ready');
      expect(ready?.status).toBe('False');
      expect(ready?.message).toContain(a.escape.field);
      expect(ready?.message).toContain(`securityPolicy ${HOSTS[a.host]}`);
      expect(condition(obj, 'Stalled')).toMatchObject({ status: 'True', reason: 'PolicyViolation' });
      expect(obj.status?.hosts?.[0]).toMatchObject({ name: a.host, phase: 'PolicyViolation' });
    }
    const events = await waitFor(
      async () => {
        const list = await warningEvents();
        const missing = attempts.filter(
          (a) =>
            !list.some(
              (e) => e.name === a.name && e.reason === 'PolicyViolation' && e.note.includes(a.escape.field),
            ),
        );
        return missing.length === 0 ? list : undefined;
      },
      { timeoutMs: 30_000, what: 'a PolicyViolation Warning Event naming the field for every escape' },
    );
    expect(events.length).toBeGreaterThanOrEqual(attempts.length);

    // Give the controllers more polls in which to (wrongly) create something.
    await new Promise((r) => setTimeout(r, 6_000));
    for (const host of Object.keys(HOSTS) as HostName[]) {
      expect(await dockyardObjectsOn(host)).toEqual(allowedOn(host));
      const names = (await lab.node(host).client().listContainers({ all: true })).flatMap((c) => c.Names);
      for (const a of attempts) expect(names).not.toContain(`/${NS}.${a.name}`);
      const volumes = (await lab.node(host).client().listVolumes()).Volumes ?? [];
      for (const a of attempts) expect(volumes.map((v) => v.Name)).not.toContain(`${NS}.${a.name}`);
      const networks = await lab.node(host).client().listNetworks();
      for (const a of attempts) expect(networks.map((n) => n.Name)).not.toContain(`${NS}.${a.name}`);
      const tags = (await lab.node(host).client().listImages()).flatMap((i) => i.RepoTags ?? []);
      for (const a of attempts) if (a.escape.build) expect(tags).not.toContain(a.escape.build.image);
    }
  });

  it('an administrator opening a host port on the DockerHost lets a refused container run', async () => {
    const name = 'port-opened-later';
    await kube.create('DockerContainer', NS, name, {
      ...compliant,
      hostName: 'base',
      image: lab.workloadImage,
      command: ['sleep', '3600'],
      ports: [{ containerPort: 8080, hostPort: 18500 }],
    });
    const refused = await kube.waitFor(
      'DockerContainer',
      NS,
      name,
      (o) => condition(o, 'Ready')?.reason === 'PolicyViolation',
      'PolicyViolation',
      60_000,
    );
    expect(condition(refused, 'Ready')?.message).toContain('spec.ports[0].hostPort');
    await kube.patch('DockerHost', undefined, 'base', {
      spec: {
        securityPolicySettings: {
          ...HOST_SETTINGS,
          allowedHostPorts: [...(HOST_SETTINGS.allowedHostPorts ?? []), { from: 18500 }],
        },
      },
    });
    // Ready at the new generation: the controllers' host cache has the opened port.
    await kube.waitFor('DockerHost', undefined, 'base', isReady, 'Ready with the port opened', 60_000);
    await kube.waitFor('DockerContainer', NS, name, isReady, 'Ready once the port is opened', 60_000);
    const c = await lab.node('base').client().getContainer(`${NS}.${name}`).inspect();
    expect(c.HostConfig.PortBindings?.['8080/tcp']).toEqual([{ HostIp: '', HostPort: '18500' }]);
  });

  it('the API server refuses the escapes the schema cannot express, naming the field', async () => {
    expect(SCHEMA_ESCAPES.length).toBeGreaterThanOrEqual(10);
    for (const [i, e] of SCHEMA_ESCAPES.entries()) {
      const spec = { ...e.spec, hostName: 'base' };
      const message = await refusal(e.kind, `schema-escape-${i}`, spec);
      expect(message, e.name).toContain(e.field);
    }
    // Nothing was stored, so nothing can ever reach a node.
    const list = (await kube.api.listNamespacedCustomObject({
      group: 'dockyard.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'dockercontainers',
    })) as { items: DockyardObject[] };
    expect(list.items.map((o) => o.metadata.name).filter((n) => n.startsWith('schema-escape-'))).toEqual([]);
  });

  it('a namespace slipped into a Secret reference is pruned: the reference stays in the object’s namespace', async () => {
    await kube.core.createNamespacedSecret({
      namespace: 'kube-system',
      body: { metadata: { name: 'admin' }, stringData: { token: 'cluster-admin-token' } },
    });
    await kube.create('DockerContainer', NS, 'cross-ns-ref', {
      hostName: 'base',
      resources: compliant.resources,
      image: lab.workloadImage,
      command: ['sleep', '3600'],
      env: [
        {
          name: 'TOKEN',
          valueFrom: { secretKeyRef: { name: 'admin', key: 'token', namespace: 'kube-system' } },
        },
      ],
    });
    const stored = await kube.get('DockerContainer', NS, 'cross-ns-ref');
    const env = stored?.spec.env as Array<{ valueFrom: { secretKeyRef: Record<string, unknown> } }>;
    expect(env[0]?.valueFrom.secretKeyRef).toEqual({ name: 'admin', key: 'token' });
    // The controller looks in `escapes`, finds no Secret `admin`, and waits.
    const waiting = await kube.waitFor(
      'DockerContainer',
      NS,
      'cross-ns-ref',
      (o) => o.status?.observedGeneration === o.metadata.generation && condition(o, 'Ready') !== undefined,
      'a status',
      60_000,
    );
    expect(condition(waiting, 'Ready')?.status).toBe('False');
    expect(JSON.stringify(waiting.status)).toContain('admin');
    expect(JSON.stringify(waiting.status)).not.toContain('cluster-admin-token');
    const names = (await lab.node('base').client().listContainers({ all: true })).flatMap((c) => c.Names);
    expect(names).not.toContain(`/${NS}.cross-ns-ref`);
  });
});
