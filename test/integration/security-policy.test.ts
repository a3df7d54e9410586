import { ApiException, EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import {
  compliant,
  POLICY_ESCAPES,
  SCHEMA_ESCAPES,
  type PolicyEscape,
} from '../../src/policy/policy-escapes.fixture.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { startDockyard, type RunningDockyard } from '../support/dockyard.js';
import { condition, isReady, Kube, registerLabHosts, type DockyardObject } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';

// Policy escapes through the real API server and the in-process controllers,
// on two real Docker nodes: `base` (securityPolicy baseline) and `strict`
// (restricted). A representative subset of the table in
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
];

interface Attempt {
  name: string;
  host: HostName;
  kind: 'DockerContainer' | 'DockerVolume';
  escape: PolicyEscape;
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
  return (Object.keys(HOSTS) as HostName[])
    .filter((host) => escape.policies.includes(HOSTS[host]))
    .map((host) => ({
      name: `${slug(name)}-${host}`,
      host,
      kind: escape.container ? ('DockerContainer' as const) : ('DockerVolume' as const),
      escape,
    }));
});

async function dockyardObjectsOn(node: HostName): Promise<string[]> {
  const docker = lab.node(node).client();
  const filters = { label: [`dockyard.io/namespace=${NS}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  return [
    ...containers.map((c) => `container ${c.Labels['dockyard.io/name']}`),
    ...volumes.map((v) => `volume ${v.Labels['dockyard.io/name']}`),
  ];
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
  [cp, lab] = await Promise.all([
    startControlPlane(),
    startLab({ nodes: [{ name: 'base' }, { name: 'strict' }] }),
  ]);
  await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, lab.workloadImage)));
  kube = new Kube(cp);
  dockyard = await startDockyard(cp, { syncPeriodMs: 5_000 });
  await kube.namespace(NS);
  await registerLabHosts(kube, lab);
  await kube.patch('DockerHost', undefined, 'strict', { spec: { securityPolicy: 'restricted' } });
  // Ready at the new generation: the controllers' host cache has the policy.
  await kube.waitFor('DockerHost', undefined, 'strict', isReady, 'Ready as restricted', 60_000);
}, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await dockyard?.stop();
  await Promise.all([lab?.stop(), cp?.stop()]);
});

describe('security policy through the API server and the controllers', () => {
  it('runs a compliant container on both hosts (so "nothing created" below means something)', async () => {
    for (const host of Object.keys(HOSTS) as HostName[]) {
      await kube.create('DockerContainer', NS, `allowed-${host}`, {
        ...compliant,
        hostName: host,
        image: lab.workloadImage,
        command: ['sleep', '3600'],
        security: { ...compliant.security, capAdd: ['NET_BIND_SERVICE'] },
      });
    }
    for (const host of Object.keys(HOSTS) as HostName[]) {
      await kube.waitFor('DockerContainer', NS, `allowed-${host}`, isReady, 'Ready', 90_000);
      expect(await dockyardObjectsOn(host)).toEqual([`container allowed-${host}`]);
      const c = await lab.node(host).client().getContainer(`${NS}.allowed-${host}`).inspect();
      expect(c.Config.User).toBe('1000:1000');
      expect(c.HostConfig.CapDrop).toEqual(['ALL']);
    }
  });

  it(`refuses ${attempts.length} escapes on baseline and restricted hosts: PolicyViolation, a Warning Event, nothing on the node`, async () => {
    expect(attempts.filter((a) => a.host === 'base').length).toBeGreaterThanOrEqual(9);
    expect(attempts.filter((a) => a.host === 'strict').length).toBeGreaterThanOrEqual(10);
    for (const a of attempts) {
      const spec =
        a.kind === 'DockerContainer'
          ? { ...a.escape.container, hostName: a.host, image: lab.workloadImage, command: ['sleep', '3600'] }
          : { ...a.escape.volume, hostName: a.host };
      await kube.create(a.kind, NS, a.name, spec);
    }
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
      expect(await dockyardObjectsOn(host)).toEqual([`container allowed-${host}`]);
      const names = (await lab.node(host).client().listContainers({ all: true })).flatMap((c) => c.Names);
      for (const a of attempts) expect(names).not.toContain(`/${NS}.${a.name}`);
      const volumes = (await lab.node(host).client().listVolumes()).Volumes ?? [];
      for (const a of attempts) expect(volumes.map((v) => v.Name)).not.toContain(`${NS}.${a.name}`);
    }
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
