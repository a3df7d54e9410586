import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { compliant } from '../../src/policy/policy-escapes.fixture.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// The confinement fields of issue #14 on real Docker nodes: `open` (DockerHost
// securityPolicy privileged, a policy level: nothing runs --privileged) runs
// them and `docker inspect` shows each where the Engine keeps it; `strict`
// (restricted) refuses the dangerous values with PolicyViolation naming the
// field and creates nothing. The lab daemons have no GPU: a device request is
// created as asked, and Docker's refusal to start it shows on the resource.
// A seccomp profile of the host's administrator (a ConfigMap of their own
// namespace, listed on the DockerHost) reaches the runtime as JSON text and
// denies chmod inside the container.

let world: World;
let lab: Lab;
let kube: Kube;
const NS = 'confine';
/** The administrator's namespace, holding the seccomp profiles the strict host lists. */
const ADMIN_NS = 'confine-admin';
/** Everything allowed but chmod (EPERM): what busybox can show. */
const NO_CHMOD = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['chmod', 'fchmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
};
const seccompSource = (name: string, configMap: string) => ({
  name,
  configMapRef: { namespace: ADMIN_NS, name: configMap, key: `${name}.json` },
});

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'open' }, { name: 'strict' }] },
    loadWorkloadImage: true,
    namespaces: [NS, ADMIN_NS],
    dockyard: { syncPeriodMs: 3_000 },
  });
  ({ lab, kube } = world);
  await kube.patch('DockerHost', undefined, 'open', { spec: { securityPolicy: 'privileged' } });
  await kube.core.createNamespacedConfigMap({
    namespace: ADMIN_NS,
    body: {
      metadata: { name: 'seccomp-profiles' },
      data: { 'no-chmod.json': JSON.stringify(NO_CHMOD, null, 2) },
    },
  });
  await kube.patch('DockerHost', undefined, 'strict', {
    spec: {
      securityPolicy: 'restricted',
      // `missing` names a ConfigMap nobody made.
      securityPolicySettings: {
        seccompProfiles: [seccompSource('no-chmod', 'seccomp-profiles'), seccompSource('missing', 'absent')],
      },
    },
  });
  // Ready at the new generation: the controllers' host cache has the policy.
  await kube.waitFor('DockerHost', undefined, 'open', isReady, 'Ready as privileged', 60_000);
  await kube.waitFor('DockerHost', undefined, 'strict', isReady, 'Ready as restricted', 60_000);
}, WORLD_START_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await world?.stop();
});

const sleeper = (host: string) => ({ hostName: host, image: world.image, command: ['sleep', '3600'] });
const inspect = (host: string, name: string) =>
  lab.node(host).client().getContainer(`${NS}.${name}`).inspect();

/** The `Seccomp:` and `Groups:` lines of the container's pid 1, as the kernel sees it. */
async function processStatus(name: string): Promise<Record<string, string>> {
  const { exitCode, output } = await lab
    .node('open')
    .exec(['docker', 'exec', `${NS}.${name}`, 'cat', '/proc/1/status']);
  expect(exitCode).toBe(0);
  return Object.fromEntries(
    output.split('\n').map((line) => line.split(':\t').map((s) => s.trim()) as [string, string]),
  );
}

/** Refused on the restricted host: the spec is valid API, only the policy stands in the way. */
const refusals: Array<{ name: string; field: string; security: Record<string, unknown> }> = [
  {
    name: 'seccomp-unconfined',
    field: 'spec.security.seccompProfile.type',
    security: { seccompProfile: { type: 'Unconfined' } },
  },
  {
    name: 'cgroup-rule',
    field: 'spec.security.deviceCgroupRules[0]',
    security: { deviceCgroupRules: ['c 1:3 mr'] },
  },
  { name: 'named-group', field: 'spec.security.groupAdd[0]', security: { groupAdd: ['audio'] } },
  {
    name: 'seccomp-unlisted',
    field: 'spec.security.seccompProfile.localhostProfile',
    security: { seccompProfile: { type: 'Localhost', localhostProfile: 'allow-all' } },
  },
];

/** A compliant container on the restricted host with the host's seccomp profile `name`. */
const withProfile = (name: string) => ({
  ...compliant,
  ...sleeper('strict'),
  security: { ...compliant.security, seccompProfile: { type: 'Localhost', localhostProfile: name } },
});

/** `chmod` of a file the container's user owns, inside the container. */
const chmodIn = (name: string) =>
  lab
    .node('strict')
    .exec(['docker', 'exec', `${NS}.${name}`, 'sh', '-c', 'touch /tmp/f && chmod 600 /tmp/f']);

/** The Warning Events on a DockerContainer, as `Reason: note`. */
async function warnings(name: string): Promise<string[]> {
  const events = await world.cp
    .kubeConfig()
    .makeApiClient(EventsV1Api)
    .listNamespacedEvent({ namespace: NS });
  return events.items
    .filter((e) => e.regarding?.name === name && e.type === 'Warning')
    .map((e) => `${e.reason}: ${e.note ?? ''}`);
}

describe('confinement fields', () => {
  it("runs them on a privileged host, refuses them on a restricted one, runs the administrator's seccomp profile, and shows a device request Docker cannot start", async () => {
    await Promise.all([
      kube.create('DockerContainer', NS, 'confined', {
        ...sleeper('open'),
        security: {
          deviceCgroupRules: ['c 1:3 mr', 'a 7:* rwm'],
          groupAdd: ['1234', '5678'],
          seccompProfile: { type: 'Unconfined' },
          appArmorProfile: { type: 'Unconfined' },
          usernsMode: 'host',
          cgroupnsMode: 'private',
        },
      }),
      kube.create('DockerContainer', NS, 'gpu', {
        ...sleeper('open'),
        resources: { deviceRequests: [{ count: 1, capabilities: [['gpu', 'utility']] }] },
      }),
      // What restricted allows of them: numeric groups, the runtime's own profiles, a private cgroupns.
      kube.create('DockerContainer', NS, 'strict-ok', {
        ...compliant,
        ...sleeper('strict'),
        security: {
          ...compliant.security,
          groupAdd: ['2000'],
          seccompProfile: { type: 'RuntimeDefault' },
          appArmorProfile: { type: 'RuntimeDefault' },
          cgroupnsMode: 'private',
        },
      }),
      kube.create('DockerContainer', NS, 'no-chmod', withProfile('no-chmod')),
      kube.create('DockerContainer', NS, 'seccomp-missing', withProfile('missing')),
      ...refusals.map((r) =>
        kube.create('DockerContainer', NS, r.name, {
          ...compliant,
          ...sleeper('strict'),
          security: { ...compliant.security, ...r.security },
        }),
      ),
    ]);

    await kube.waitFor('DockerContainer', NS, 'confined', isReady, 'Ready', 90_000);
    const confined = await inspect('open', 'confined');
    expect(confined.HostConfig.DeviceCgroupRules).toEqual(['c 1:3 mr', 'a 7:* rwm']);
    expect(confined.HostConfig.GroupAdd).toEqual(['1234', '5678']);
    expect(confined.HostConfig.SecurityOpt).toEqual(['seccomp=unconfined', 'apparmor=unconfined']);
    expect(confined.HostConfig.UsernsMode).toBe('host');
    expect((confined.HostConfig as { CgroupnsMode?: string }).CgroupnsMode).toBe('private');
    const status = await processStatus('confined');
    expect(status.Seccomp).toBe('0'); // no filter: seccomp=unconfined reached the runtime
    expect(status.Groups?.split(/\s+/)).toEqual(expect.arrayContaining(['1234', '5678']));

    await kube.waitFor('DockerContainer', NS, 'strict-ok', isReady, 'Ready', 90_000);
    const ok = await inspect('strict', 'strict-ok');
    expect(ok.HostConfig.GroupAdd).toEqual(['2000']);
    expect(ok.HostConfig.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect((ok.HostConfig as { CgroupnsMode?: string }).CgroupnsMode).toBe('private');

    // The administrator's profile reaches the runtime as its JSON text: chmod is
    // denied inside, while the daemon's default profile next door allows it.
    await kube.waitFor('DockerContainer', NS, 'no-chmod', isReady, 'Ready', 90_000);
    const noChmod = await inspect('strict', 'no-chmod');
    expect(noChmod.HostConfig.SecurityOpt).toEqual([
      'no-new-privileges:true',
      `seccomp=${JSON.stringify(NO_CHMOD)}`,
    ]);
    const denied = await chmodIn('no-chmod');
    expect(denied.exitCode).not.toBe(0);
    expect(denied.output).toContain('Operation not permitted');
    expect(await chmodIn('strict-ok')).toMatchObject({ exitCode: 0 });

    // A listed profile whose ConfigMap is missing: nothing created, Ready=False and a Warning, naming it.
    const missing = await kube.waitFor(
      'DockerContainer',
      NS,
      'seccomp-missing',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'SeccompProfileUnavailable',
      'Ready=False SeccompProfileUnavailable',
      60_000,
    );
    expect(condition(missing, 'Ready')?.message).toContain('ConfigMap confine-admin/absent not found');
    const warned = await waitFor(
      async () => (await warnings('seccomp-missing')).find((n) => n.startsWith('SeccompProfileUnavailable:')),
      { timeoutMs: 30_000, what: 'a SeccompProfileUnavailable Warning Event' },
    );
    expect(warned).toContain('seccomp profile missing of DockerHost strict');

    // Created with the request as asked; the daemon has no driver for it, so it never starts.
    const gpu = await waitFor(() => inspect('open', 'gpu').catch(() => undefined), {
      timeoutMs: 60_000,
      what: 'the gpu container created',
    });
    expect(gpu.HostConfig.DeviceRequests).toEqual([
      expect.objectContaining({ Count: 1, Capabilities: [['gpu', 'utility']] }),
    ]);
    const refused = await kube.waitFor(
      'DockerContainer',
      NS,
      'gpu',
      (o: DockyardObject) => /device driver/.test(condition(o, 'Ready')?.message ?? ''),
      'Ready=False with the daemon refusing the device request',
      60_000,
    );
    expect(condition(refused, 'Ready')?.status).toBe('False');
    expect((await inspect('open', 'gpu')).State.Running).toBe(false);

    for (const r of refusals) {
      const obj = await kube.waitFor(
        'DockerContainer',
        NS,
        r.name,
        (o: DockyardObject) =>
          condition(o, 'Ready')?.reason === 'PolicyViolation' &&
          o.status?.observedGeneration === o.metadata.generation,
        `${r.name}: Ready=False PolicyViolation`,
        60_000,
      );
      expect(condition(obj, 'Ready')?.status).toBe('False');
      expect(condition(obj, 'Ready')?.message).toContain(r.field);
      expect(condition(obj, 'Ready')?.message).toContain('securityPolicy restricted');
    }
    const names = (await lab.node('strict').client().listContainers({ all: true })).flatMap((c) => c.Names);
    expect(names.filter((n) => n.startsWith(`/${NS}.`)).sort()).toEqual([
      `/${NS}.no-chmod`,
      `/${NS}.strict-ok`,
    ]);
  });
});
