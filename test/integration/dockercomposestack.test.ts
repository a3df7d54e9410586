import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type Kube } from '../support/kube.js';
import { startSingleNodeWorld, WORLD_NODE, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// A DockerComposeStack on a real Docker node: a web app with a database, a
// one-shot migration and a config file, from a ConfigMap holding an unchanged
// compose.yaml and its .env. It converges; a changed compose file rolls only
// the service it changed; a service removed from the file goes (its volume's
// data stays, deletionPolicy Orphan); an unsupported key stalls the stack
// without touching what runs, and allowUnsupported lists it; a name another
// resource holds is never taken; deleting the stack removes what it owns.

let world: World;
let kube: Kube;
let docker: Dockerode;
const NS = 'stacks';
const STACK = 'shop';

beforeAll(async () => {
  world = await startSingleNodeWorld({ namespaces: [NS], dockyard: { syncPeriodMs: 3_000 } });
  ({ kube } = world);
  docker = world.lab.node(WORLD_NODE).client();
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

const compose = (opts: { webGreeting: string; withWorker: boolean; extra?: string }) => `
services:
  db:
    image: \${IMAGE}
    command: ["sh", "-c", "touch /data/ready; trap exit TERM; while :; do sleep 1; done"]
    stop_grace_period: 1s
    volumes: [ "dbdata:/data" ]
    healthcheck: { test: "test -f /data/ready", interval: 1s, retries: 30 }
  migrate:
    image: \${IMAGE}
    command: ["sh", "-c", "echo migrated > /data/migrated"]
    restart: "no"
    volumes: [ "dbdata:/data" ]
    depends_on: { db: { condition: service_healthy } }
  web:
    image: \${IMAGE}
    command: ["sh", "-c", "trap exit TERM; while :; do sleep 1; done"]
    stop_grace_period: 1s
    environment: { GREETING: "${opts.webGreeting}", REGION: "\${REGION}" }
    configs: [ { source: site, target: /etc/site.conf } ]
    depends_on:
      migrate: { condition: service_completed_successfully }
${opts.withWorker ? '  worker:\n    image: ${IMAGE}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n' : ''}${opts.extra ?? ''}
configs:
  site: { file: ./site.conf }
volumes:
  dbdata: {}
`;

async function writeFiles(composeYaml: string, create = false): Promise<void> {
  const body = {
    metadata: { name: 'shop-files', namespace: NS },
    data: {
      'compose.yaml': composeYaml,
      '.env': `IMAGE=${world.image}\nREGION=eu\n`,
      'site.conf': 'listen 80\n',
    },
  };
  if (create) await kube.core.createNamespacedConfigMap({ namespace: NS, body });
  else await kube.core.replaceNamespacedConfigMap({ name: 'shop-files', namespace: NS, body });
}

type StackStatus = { readySummary?: string; projectHash?: string };
const stackStatus = (obj: unknown) =>
  ((obj as { status?: StackStatus } | undefined)?.status ?? {}) as StackStatus;
const ownerKind = (obj: unknown) =>
  (obj as { metadata: { ownerReferences?: Array<{ kind: string }> } }).metadata.ownerReferences?.[0]?.kind;

const containerOf = async (service: string) =>
  (await docker.listContainers({ all: true, filters: { name: [`${NS}.${STACK}-${service}`] } }))[0];

const stackIs = (pred: (s: Record<string, unknown>) => boolean, what: string, timeoutMs = 120_000) =>
  kube.waitFor(
    'DockerComposeStack',
    NS,
    STACK,
    (s) => pred(s as unknown as Record<string, unknown>),
    what,
    timeoutMs,
  );

describe('DockerComposeStack', () => {
  it('runs the project from a ConfigMap, in depends_on order, with Compose names as aliases', async () => {
    await writeFiles(compose({ webGreeting: 'hello', withWorker: true }), true);
    await kube.create('DockerComposeStack', NS, STACK, {
      hostName: WORLD_NODE,
      project: { configMapRef: { name: 'shop-files' } },
    });
    const stack = await kube.waitFor('DockerComposeStack', NS, STACK, isReady, 'Ready', 180_000);
    expect(stackStatus(stack).readySummary).toBe('4/4');
    const services = (stack.status as { services?: Array<{ name: string; ready: string }> }).services ?? [];
    expect(services.map((s) => [s.name, s.ready])).toEqual([
      ['db', 'True'],
      ['migrate', 'True'],
      ['web', 'True'],
      ['worker', 'True'],
    ]);
    const web = await docker.getContainer(`${NS}.${STACK}-web`).inspect();
    expect(web.Config.Env).toEqual(expect.arrayContaining(['GREETING=hello', 'REGION=eu']));
    expect(web.NetworkSettings.Networks[`${NS}.${STACK}-default`]?.Aliases).toEqual(
      expect.arrayContaining(['web']),
    );
    const migrate = await docker.getContainer(`${NS}.${STACK}-migrate`).inspect();
    const db = await docker.getContainer(`${NS}.${STACK}-db`).inspect();
    expect(migrate.State.ExitCode).toBe(0);
    // depends_on: db healthy before migrate started, migrate done before web started.
    expect(Date.parse(migrate.State.StartedAt)).toBeGreaterThan(Date.parse(db.State.StartedAt));
    expect(Date.parse(web.State.StartedAt)).toBeGreaterThanOrEqual(Date.parse(migrate.State.FinishedAt));
    const owned = await kube.list('DockerContainer', NS, `compose.dockyard.io/stack=${STACK}`);
    expect(owned.map((c) => ownerKind(c))).toEqual(Array(4).fill('DockerComposeStack'));
  });

  it('rolls only the service a changed compose file changes', async () => {
    const before = {
      db: await containerOf('db'),
      web: await containerOf('web'),
      worker: await containerOf('worker'),
    };
    const hash = stackStatus(await kube.get('DockerComposeStack', NS, STACK)).projectHash;
    await writeFiles(compose({ webGreeting: 'bonjour', withWorker: true }));
    await stackIs((s) => (s.status as { projectHash?: string })?.projectHash !== hash, 'a new project hash');
    await kube.waitFor('DockerComposeStack', NS, STACK, isReady, 'Ready again', 120_000);
    await waitFor(
      async () =>
        (await containerOf('web'))?.Id !== before.web?.Id && (await containerOf('web'))?.State === 'running',
      {
        timeoutMs: 60_000,
        what: 'web recreated with the new environment',
      },
    );
    const web = await docker.getContainer(`${NS}.${STACK}-web`).inspect();
    expect(web.Config.Env).toEqual(expect.arrayContaining(['GREETING=bonjour']));
    expect((await containerOf('db'))?.Id).toBe(before.db?.Id);
    expect((await containerOf('worker'))?.Id).toBe(before.worker?.Id);
  });

  it('removes a service the file no longer has', async () => {
    await writeFiles(compose({ webGreeting: 'bonjour', withWorker: false }));
    await kube.waitForGone('DockerContainer', NS, `${STACK}-worker`, 60_000);
    await waitFor(async () => (await containerOf('worker')) === undefined, {
      timeoutMs: 60_000,
      what: 'worker container removed',
    });
    const stack = await kube.waitFor('DockerComposeStack', NS, STACK, isReady, 'Ready', 60_000);
    expect(stackStatus(stack).readySummary).toBe('3/3');
  });

  it('refuses an unsupported key without touching what runs, and lists it under allowUnsupported', async () => {
    const web = await containerOf('web');
    await writeFiles(
      compose({
        webGreeting: 'bonjour',
        withWorker: false,
        extra:
          '  builder:\n    image: ${IMAGE}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    build: .\n',
      }),
    );
    const stalled = await stackIs(
      (s) => condition(s as never, 'Stalled')?.reason === 'UnsupportedComposeKeys',
      'UnsupportedComposeKeys',
    );
    expect(condition(stalled, 'Stalled')?.message).toMatch(/services\.builder\.build: Dockyard runs images/);
    expect((await containerOf('web'))?.Id).toBe(web?.Id);
    await kube.patch('DockerComposeStack', NS, STACK, { spec: { allowUnsupported: true } });
    const ready = await kube.waitFor(
      'DockerComposeStack',
      NS,
      STACK,
      isReady,
      'Ready with the key left out',
      120_000,
    );
    expect((ready.status as { unsupportedKeys?: string[] }).unsupportedKeys).toEqual([
      expect.stringMatching(/^services\.builder\.build: /),
    ]);
  });

  it('never takes over a resource of the same name that is not its own', async () => {
    await kube.create('DockerContainer', NS, `${STACK}-intruder`, {
      hostName: WORLD_NODE,
      image: world.image,
      command: ['sleep', '3600'],
      stopGracePeriod: '1s',
    });
    await writeFiles(
      compose({
        webGreeting: 'bonjour',
        withWorker: false,
        extra: '  intruder:\n    image: ${IMAGE}\n    command: ["true"]\n',
      }),
    );
    const stalled = await stackIs(
      (s) => condition(s as never, 'Ready')?.reason === 'ResourceConflict',
      'ResourceConflict',
    );
    expect(condition(stalled, 'Ready')?.message).toMatch(/DockerContainer shop-intruder already exists/);
    const intruder = await kube.get('DockerContainer', NS, `${STACK}-intruder`);
    expect(intruder?.spec).toMatchObject({ command: ['sleep', '3600'] });
    expect(intruder && ownerKind(intruder)).toBeUndefined();
    await kube.delete('DockerContainer', NS, `${STACK}-intruder`);
  });

  it('takes what it owns with it when deleted; the volume’s data stays', async () => {
    await kube.delete('DockerComposeStack', NS, STACK);
    for (const service of ['db', 'migrate', 'web'])
      await kube.waitForGone('DockerContainer', NS, `${STACK}-${service}`, 60_000);
    await waitFor(
      async () => (await containerOf('web')) === undefined && (await containerOf('db')) === undefined,
      {
        timeoutMs: 60_000,
        what: 'containers removed',
      },
    );
    await kube.waitForGone('DockerVolume', NS, `${STACK}-dbdata`, 60_000);
    const volume = await docker.getVolume(`${NS}.${STACK}-dbdata`).inspect();
    expect(volume.Name).toBe(`${NS}.${STACK}-dbdata`);
  });
});
