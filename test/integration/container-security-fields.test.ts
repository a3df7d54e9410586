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

let world: World;
let lab: Lab;
let kube: Kube;
const NS = 'confine';

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'open' }, { name: 'strict' }] },
    loadWorkloadImage: true,
    namespaces: [NS],
    dockyard: { syncPeriodMs: 3_000 },
  });
  ({ lab, kube } = world);
  await kube.patch('DockerHost', undefined, 'open', { spec: { securityPolicy: 'privileged' } });
  await kube.patch('DockerHost', undefined, 'strict', { spec: { securityPolicy: 'restricted' } });
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
];

describe('confinement fields', () => {
  it('runs them on a privileged host, refuses them on a restricted one, and shows a device request Docker cannot start', async () => {
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
    expect(names.filter((n) => n.startsWith(`/${NS}.`))).toEqual([`/${NS}.strict-ok`]);
  });
});
